using System.Buffers.Binary;

namespace Durable.Commands.Scripting;

/// <summary>
/// The server record that keeps the function libraries (<see cref="Name"/>): written, with the command's WAL entry, by
/// every FUNCTION LOAD, DELETE, FLUSH and RESTORE that changes them, checkpointed like any record, and read back at
/// start, where each library is compiled again (as Redis loads its functions from the RDB file or the AOF). Byte 0 the
/// format version (1); then the count (4 bytes, little-endian); then each library's code (as FUNCTION LOAD got it,
/// shebang line included) after its length (4 bytes, little-endian), in load order. Pinned by
/// FunctionLibrariesRecordTests; change only by adding a version.
/// </summary>
internal static class FunctionLibrariesRecord
{
    public const byte CurrentVersion = 1;

    private const int HeaderSize = 5;

    /// <summary>The record's name among the server records.</summary>
    public static ReadOnlySpan<byte> Name => "functions"u8;

    /// <summary>The record's size for libraries of <paramref name="codeBytes"/> bytes of code in all.</summary>
    public static long Size(long codeBytes, int libraries) => HeaderSize + (4L * libraries) + codeBytes;

    public static byte[] Encode(IReadOnlyList<byte[]> codes)
    {
        byte[] payload = new byte[Size(codes.Sum(c => (long)c.Length), codes.Count)];
        payload[0] = CurrentVersion;
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(1), codes.Count);
        int position = HeaderSize;
        foreach (byte[] code in codes)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(position), code.Length);
            code.CopyTo(payload, position + 4);
            position += 4 + code.Length;
        }

        return payload;
    }

    /// <summary>The libraries' code, in load order; throws <see cref="InvalidDataException"/> for a record this build cannot read.</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderSize)
        {
            throw new InvalidDataException($"the function libraries' record is {payload.Length} bytes, shorter than its header");
        }

        if (payload[0] != CurrentVersion)
        {
            throw new InvalidDataException($"function libraries format version {payload[0]} is not supported by this build (expected {CurrentVersion}); the data directory was written by a newer Durable");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(payload[1..]);
        List<byte[]> codes = [];
        int position = HeaderSize;
        for (int i = 0; i < count; i++)
        {
            int length = position + 4 <= payload.Length ? BinaryPrimitives.ReadInt32LittleEndian(payload[position..]) : -1;
            if (length < 0 || length > payload.Length - position - 4)
            {
                throw new InvalidDataException($"the function libraries' record ends inside library {i + 1} of {count}");
            }

            codes.Add(payload.Slice(position + 4, length).ToArray());
            position += 4 + length;
        }

        if (position != payload.Length)
        {
            throw new InvalidDataException($"the function libraries' record holds {payload.Length - position} bytes after its {count} libraries");
        }

        return codes;
    }
}
