using System.Buffers;
using System.Buffers.Binary;

namespace Durable.Commands.Collections;

/// <summary>
/// The compact payload of a collection record (hash, set, sorted set, list): the whole collection in one record.
/// Layout, version 1: byte 0 format version (1); byte 1 flags (bit 0 <see cref="LargeEncoding"/>, the rest zero);
/// bytes 2..5 item count, u32 little-endian; then each item as its length (unsigned LEB128) and its bytes.
/// What an item is belongs to the type (a hash stores field, value, field, value...). Pinned by PackedItemsTests;
/// change only by adding a version.
/// </summary>
internal static class PackedItems
{
    public const byte CurrentVersion = 1;

    /// <summary>
    /// Set once a collection has been converted to Redis's large encoding (hashtable, skiplist): Redis 7.0 never
    /// converts back, and OBJECT ENCODING must say so.
    /// </summary>
    public const byte LargeEncoding = 1;

    private const int HeaderSize = 6;

    /// <summary>Decodes a payload; throws <see cref="InvalidDataException"/> for an unknown version or a damaged payload.</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> payload, out byte flags)
    {
        if (payload.Length < HeaderSize || payload[0] != CurrentVersion)
        {
            throw new InvalidDataException(
                $"collection payload version {(payload.IsEmpty ? 0 : payload[0])} is not supported by this build (expected {CurrentVersion})");
        }

        flags = payload[1];
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload[2..]);
        if (count > (uint)(payload.Length - HeaderSize))
        {
            throw new InvalidDataException($"collection payload claims {count} items in {payload.Length} bytes");
        }

        List<byte[]> items = new((int)count);
        int position = HeaderSize;
        for (uint i = 0; i < count; i++)
        {
            int length = ReadLength(payload, ref position);
            if (length > payload.Length - position)
            {
                throw new InvalidDataException("collection payload item runs past its end");
            }

            items.Add(payload.Slice(position, length).ToArray());
            position += length;
        }

        return items;
    }

    /// <summary>The encoded size of <paramref name="items"/>.</summary>
    public static long EncodedLength(IReadOnlyList<byte[]> items)
    {
        long length = HeaderSize;
        foreach (byte[] item in items)
        {
            length += LengthOfLength(item.Length) + item.Length;
        }

        return length;
    }

    /// <summary>Appends the payload of <paramref name="items"/> to <paramref name="output"/>.</summary>
    public static void Encode(IBufferWriter<byte> output, byte flags, IReadOnlyList<byte[]> items)
    {
        Span<byte> header = output.GetSpan(HeaderSize);
        header[0] = CurrentVersion;
        header[1] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(header[2..], (uint)items.Count);
        output.Advance(HeaderSize);
        foreach (byte[] item in items)
        {
            Span<byte> destination = output.GetSpan(5 + item.Length);
            int written = WriteLength(destination, item.Length);
            item.CopyTo(destination[written..]);
            output.Advance(written + item.Length);
        }
    }

    private static int LengthOfLength(int length)
    {
        int bytes = 1;
        for (uint rest = (uint)length >> 7; rest != 0; rest >>= 7)
        {
            bytes++;
        }

        return bytes;
    }

    private static int WriteLength(Span<byte> destination, int length)
    {
        uint rest = (uint)length;
        int i = 0;
        while (rest >= 0x80)
        {
            destination[i++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        destination[i++] = (byte)rest;
        return i;
    }

    private static int ReadLength(ReadOnlySpan<byte> payload, ref int position)
    {
        uint length = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (position >= payload.Length)
            {
                break;
            }

            byte b = payload[position++];
            length |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return length <= int.MaxValue ? (int)length : throw new InvalidDataException("collection payload item length too large");
            }
        }

        throw new InvalidDataException("collection payload item length is damaged");
    }
}
