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

    internal const int HeaderSize = 6;

    /// <summary>Decodes a payload; throws <see cref="InvalidDataException"/> for an unknown version or a damaged payload.</summary>
    public static List<byte[]> Decode(ReadOnlySpan<byte> payload, out byte flags)
    {
        Reader reader = new(payload);
        flags = reader.Flags;
        List<byte[]> items = new(reader.Count);
        for (int i = 0; i < reader.Count; i++)
        {
            items.Add(reader.Next().ToArray());
        }

        return items;
    }

    /// <summary>The encoded size of <paramref name="items"/>.</summary>
    public static long EncodedLength(IReadOnlyList<byte[]> items)
    {
        long length = HeaderSize;
        foreach (byte[] item in items)
        {
            length += EncodedItemLength(item.Length);
        }

        return length;
    }

    /// <summary>Appends the payload of <paramref name="items"/> to <paramref name="output"/>.</summary>
    public static void Encode(IBufferWriter<byte> output, byte flags, IReadOnlyList<byte[]> items)
    {
        WriteHeader(output, flags, items.Count);
        foreach (byte[] item in items)
        {
            WriteItem(output, item);
        }
    }

    /// <summary>Starts a payload of <paramref name="count"/> items, which <see cref="WriteItem"/> then appends one by one.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, byte flags, int count)
    {
        Span<byte> header = output.GetSpan(HeaderSize);
        header[0] = CurrentVersion;
        header[1] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(header[2..], (uint)count);
        output.Advance(HeaderSize);
    }

    public static void WriteItem(IBufferWriter<byte> output, ReadOnlySpan<byte> item)
    {
        Span<byte> destination = output.GetSpan(5 + item.Length);
        int written = WriteLength(destination, item.Length);
        item.CopyTo(destination[written..]);
        output.Advance(written + item.Length);
    }

    /// <summary>The size of an item of <paramref name="length"/> bytes once encoded (its length prefix and its bytes).</summary>
    internal static int EncodedItemLength(int length) => LengthOfLength(length) + length;

    private static int LengthOfLength(int length)
    {
        int bytes = 1;
        for (uint rest = (uint)length >> 7; rest != 0; rest >>= 7)
        {
            bytes++;
        }

        return bytes;
    }

    internal static int WriteLength(Span<byte> destination, int length)
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

    internal static int ReadLength(ReadOnlySpan<byte> payload, ref int position)
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

    /// <summary>
    /// Reads a payload item by item, as spans into it (nothing copied): for callers that turn items into something else
    /// than byte arrays. Throws <see cref="InvalidDataException"/> for an unknown version or a damaged payload.
    /// </summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _payload;
        private int _position;

        public Reader(ReadOnlySpan<byte> payload)
        {
            if (payload.Length < HeaderSize || payload[0] != CurrentVersion)
            {
                throw new InvalidDataException(
                    $"collection payload version {(payload.IsEmpty ? 0 : payload[0])} is not supported by this build (expected {CurrentVersion})");
            }

            uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload[2..]);
            if (count > (uint)(payload.Length - HeaderSize))
            {
                throw new InvalidDataException($"collection payload claims {count} items in {payload.Length} bytes");
            }

            _payload = payload;
            _position = HeaderSize;
            Flags = payload[1];
            Count = (int)count;
        }

        public byte Flags { get; }

        /// <summary>Number of items.</summary>
        public int Count { get; }

        /// <summary>The next item (call at most <see cref="Count"/> times).</summary>
        public ReadOnlySpan<byte> Next()
        {
            int length = ReadLength(_payload, ref _position);
            if (length > _payload.Length - _position)
            {
                throw new InvalidDataException("collection payload item runs past its end");
            }

            ReadOnlySpan<byte> item = _payload.Slice(_position, length);
            _position += length;
            return item;
        }
    }
}
