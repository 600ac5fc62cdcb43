using System.Buffers.Binary;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// The RMW input that changes only a record's expiry: a zero marker byte, then the new absolute expiry in Unix ms
/// (little-endian, 0 = none). Whole-value inputs start with the header version (1) and are at least
/// <see cref="RecordHeader.Size"/> bytes, so the two can never be confused. Never written to disk.
/// </summary>
internal static class ExpiryUpdate
{
    public const int Size = 9;
    private const int ExpiryOffset = 2;

    public static void Write(Span<byte> destination, long expiresAtMs)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], expiresAtMs);
    }

    public static bool Is(ref SpanByte input) => input.Length == Size && input.AsReadOnlySpan()[0] == 0;

    /// <summary>Overwrites the expiry field of a stored value (header included) with the one in <paramref name="input"/>.</summary>
    public static void Apply(ref SpanByte input, Span<byte> storedValue) =>
        input.AsReadOnlySpan()[1..Size].CopyTo(storedValue[ExpiryOffset..]);
}
