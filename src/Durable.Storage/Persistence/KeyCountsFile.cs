using System.Buffers.Binary;
using System.IO.Hashing;

namespace Durable.Storage.Persistence;

/// <summary>The key and TTL counts per physical database of the state a checkpoint of <paramref name="Version"/> holds.</summary>
internal sealed record KeyCountsSnapshot(long Version, long[] Keys, long[] Expiring);

/// <summary>
/// The key counts saved beside a checkpoint (file <see cref="FileName"/> in its folder), so that recovery need not
/// recount the whole log. Version 1, little endian: byte 0 = 1; bytes 1..8 = the FASTER version the checkpoint holds;
/// bytes 9..10 = n, the databases listed; n entries of { physical database (1 byte), keys (int64), keys with a TTL
/// (int64) } for every database with a non-zero count, ascending; then a CRC-32 of everything before it. A missing or
/// unreadable file only costs a recount. Pinned by KeyCountsFileTests.
/// </summary>
internal static class KeyCountsFile
{
    public const string FileName = "durable-key-counts.dat";
    public const byte CurrentVersion = 1;
    private const int HeaderSize = 11;
    private const int EntrySize = 17;
    private const int ChecksumSize = 4;

    public static byte[] Encode(KeyCountsSnapshot counts)
    {
        int entries = 0;
        for (int i = 0; i < counts.Keys.Length; i++)
        {
            entries += counts.Keys[i] != 0 || counts.Expiring[i] != 0 ? 1 : 0;
        }

        byte[] bytes = new byte[HeaderSize + (entries * EntrySize) + ChecksumSize];
        bytes[0] = CurrentVersion;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), counts.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(9), (ushort)entries);
        int offset = HeaderSize;
        for (int i = 0; i < counts.Keys.Length; i++)
        {
            if (counts.Keys[i] != 0 || counts.Expiring[i] != 0)
            {
                bytes[offset] = (byte)i;
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset + 1), counts.Keys[i]);
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset + 9), counts.Expiring[i]);
                offset += EntrySize;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), Crc32.HashToUInt32(bytes.AsSpan(0, offset)));
        return bytes;
    }

    /// <summary>Decodes a saved file; false with the reason when it is damaged, truncated or of another format version.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out KeyCountsSnapshot? counts, out string? problem)
    {
        counts = null;
        if (bytes.Length < HeaderSize + ChecksumSize)
        {
            problem = $"{bytes.Length} bytes is too short";
            return false;
        }

        if (bytes[0] != CurrentVersion)
        {
            problem = $"format version {bytes[0]}, this build understands {CurrentVersion}";
            return false;
        }

        int entries = BinaryPrimitives.ReadUInt16LittleEndian(bytes[9..]);
        int length = HeaderSize + (entries * EntrySize);
        if (bytes.Length != length + ChecksumSize)
        {
            problem = $"{bytes.Length} bytes where {entries} databases need {length + ChecksumSize}";
            return false;
        }

        if (Crc32.HashToUInt32(bytes[..length]) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[length..]))
        {
            problem = "checksum mismatch";
            return false;
        }

        long[] keys = new long[byte.MaxValue + 1];
        long[] expiring = new long[byte.MaxValue + 1];
        for (int offset = HeaderSize; offset < length; offset += EntrySize)
        {
            byte physical = bytes[offset];
            keys[physical] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(offset + 1)..]);
            expiring[physical] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(offset + 9)..]);
        }

        counts = new KeyCountsSnapshot(BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]), keys, expiring);
        problem = null;
        return true;
    }
}
