using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// Tells FASTER how long a value written by RMW will be: exactly the serialized input, or, for an
/// <see cref="ExpiryUpdate"/>, exactly the old value.
/// </summary>
internal sealed class RmwValueLength : IVariableLengthStruct<SpanByte, SpanByte>
{
    public int GetInitialLength(ref SpanByte input) => input.TotalSize;

    public int GetLength(ref SpanByte t, ref SpanByte input) => ExpiryUpdate.Is(ref input) ? t.TotalSize : input.TotalSize;
}
