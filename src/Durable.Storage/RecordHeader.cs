using System.Buffers.Binary;

namespace Durable.Storage;

/// <summary>
/// The versioned header at the start of every stored value:
/// byte 0 format version (1), byte 1 <see cref="RecordType"/>, bytes 2..9 absolute expiry in Unix milliseconds,
/// little-endian, 0 for none. The payload follows. Pinned by RecordHeaderTests; change only by adding a version.
/// </summary>
public readonly record struct RecordHeader(RecordType Type, long ExpiresAtMs)
{
    public const byte CurrentVersion = 1;
    public const int Size = 10;

    public bool HasExpiry => ExpiresAtMs != 0;

    public bool IsExpiredAt(long nowMs) => ExpiresAtMs != 0 && ExpiresAtMs <= nowMs;

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = CurrentVersion;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteInt64LittleEndian(destination[2..], ExpiresAtMs);
    }

    /// <summary>Reads a header; throws <see cref="InvalidDataException"/> for a version this build does not know.</summary>
    public static RecordHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size || source[0] != CurrentVersion)
        {
            ThrowUnknownVersion(source.IsEmpty ? (byte)0 : source[0]);
        }

        return new RecordHeader((RecordType)source[1], BinaryPrimitives.ReadInt64LittleEndian(source[2..]));
    }

    private static void ThrowUnknownVersion(byte version) =>
        throw new InvalidDataException($"record header version {version} is not supported by this build (expected {CurrentVersion}); the data directory was written by a newer Durable");
}
