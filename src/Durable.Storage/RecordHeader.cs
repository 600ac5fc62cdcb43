using System.Buffers.Binary;

namespace Durable.Storage;

/// <summary>
/// The versioned header at the start of every stored value:
/// byte 0 format version, byte 1 <see cref="RecordType"/>, bytes 2..9 absolute expiry in Unix milliseconds,
/// little-endian, 0 for none. Version 1: the payload follows and fills the value. Version 2 (<see cref="RoomyVersion"/>):
/// bytes 10..13 the payload's length (u32 little-endian), then the payload, then spare room (zeros when written) up to
/// the value's end, so that a part record can grow in place (docs/storage.md, "Room to grow"). Pinned by
/// RecordHeaderTests; change only by adding a version.
/// </summary>
public readonly record struct RecordHeader(RecordType Type, long ExpiresAtMs)
{
    public const byte CurrentVersion = 1;
    public const int Size = 10;

    /// <summary>The version of a header followed by its payload's length: the value may be longer than header and payload.</summary>
    public const byte RoomyVersion = 2;
    public const int RoomySize = 14;

    public bool HasExpiry => ExpiresAtMs != 0;

    public bool IsExpiredAt(long nowMs) => ExpiresAtMs != 0 && ExpiresAtMs <= nowMs;

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = CurrentVersion;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteInt64LittleEndian(destination[2..], ExpiresAtMs);
    }

    /// <summary>Writes a version 2 header (<see cref="RoomySize"/> bytes) for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public void WriteRoomyTo(Span<byte> destination, int payloadLength)
    {
        WriteTo(destination);
        destination[0] = RoomyVersion;
        BinaryPrimitives.WriteInt32LittleEndian(destination[Size..], payloadLength);
    }

    /// <summary>Reads a header; throws <see cref="InvalidDataException"/> for a version this build does not know.</summary>
    public static RecordHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size || (source[0] != CurrentVersion && source[0] != RoomyVersion))
        {
            ThrowUnknownVersion(source.IsEmpty ? (byte)0 : source[0]);
        }

        return new RecordHeader((RecordType)source[1], BinaryPrimitives.ReadInt64LittleEndian(source[2..]));
    }

    /// <summary>The payload of a stored value (header first; read by <see cref="Read"/> already), without any spare room.</summary>
    public static ReadOnlySpan<byte> PayloadOf(ReadOnlySpan<byte> stored)
    {
        if (stored[0] == CurrentVersion)
        {
            return stored[Size..];
        }

        int length = stored.Length >= RoomySize ? BinaryPrimitives.ReadInt32LittleEndian(stored[Size..]) : -1;
        if (length < 0 || length > stored.Length - RoomySize)
        {
            throw new InvalidDataException($"record of {stored.Length} bytes claims a payload of {length} bytes");
        }

        return stored.Slice(RoomySize, length);
    }

    private static void ThrowUnknownVersion(byte version) =>
        throw new InvalidDataException($"record header version {version} is not supported by this build (expected {CurrentVersion} or {RoomyVersion}); the data directory was written by a newer Durable");
}
