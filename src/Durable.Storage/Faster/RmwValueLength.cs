using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>Tells FASTER how long a value written by RMW will be: exactly the serialized input.</summary>
internal sealed class RmwValueLength : IVariableLengthStruct<SpanByte, SpanByte>
{
    public int GetInitialLength(ref SpanByte input) => input.TotalSize;

    public int GetLength(ref SpanByte t, ref SpanByte input) => input.TotalSize;
}
