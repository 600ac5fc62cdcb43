using System.Buffers;
using System.Buffers.Binary;
using Durable.Commands.Collections;
using Durable.Protocol;

namespace Durable.Commands.Streams;

/// <summary>
/// One node of a stream: a part record holding a run of its entries in ID order, as Redis keeps a stream's entries in
/// listpack nodes. It closes (the next entry starts a new chunk) where Redis's node would: at stream-node-max-entries
/// entries, deleted ones included, or when its size in Redis's listpack encoding plus the new entry's field and value
/// bytes reaches stream-node-max-bytes; so XTRIM with <c>~</c> removes the same whole nodes as Redis, and XINFO counts
/// the same nodes. A deleted entry stays as a tombstone (its ID, no fields), as Redis marks it in its listpack.
/// Payload: a <see cref="PackedItems"/> (flags 0) whose item 0 is the master entry's field names, then one item per
/// entry: ID (16 bytes, big-endian), flags (bit 0 deleted), then the count of fields and values and each field and
/// value, LEB128 lengths; and last the header (so that an append changes only the item count and the end: the WAL
/// carries it as a small edit): byte 0 chunk version 1, byte 1 flags (bit 0 <see cref="Hidden"/>), bytes 2..5 live
/// entries u32 LE, bytes 6..9 entries with tombstones u32, bytes 10..17 Redis's listpack size of the node u64, bytes
/// 18..33 the master ID (the node's first ID ever, big-endian). Pinned by StreamChunkTests.
/// </summary>
internal sealed class StreamChunk
{
    public const byte Version = 1;
    private const int HeaderSize = 34;

    // Redis's listpack: 6 bytes of header and the end byte.
    private const long EmptyListpackBytes = 7;

    // Redis STREAM_LISTPACK_MAX_SIZE: the node size used when stream-node-max-bytes is 0 or larger.
    private const long MaxListpackBytes = 1L << 30;

    // Redis STREAM_ITEM_FLAG_SAMEFIELDS: the entry's field names are the master entry's, not stored again.
    private const long SameFieldsFlag = 2;

    private StreamChunk(StreamId masterId, byte[][] masterFields, List<StreamEntry> entries)
    {
        MasterId = masterId;
        MasterFields = masterFields;
        Entries = entries;
    }

    public StreamId MasterId { get; }

    /// <summary>The field names of the node's first entry, which Redis's master entry keeps.</summary>
    public byte[][] MasterFields { get; }

    /// <summary>Entries, tombstones included, in ID order; never empty.</summary>
    public List<StreamEntry> Entries { get; }

    /// <summary>XDEL deleted every entry: Redis would have freed the node; it stays only for its IDs (see <see cref="StreamValue"/>).</summary>
    public bool Hidden { get; set; }

    /// <summary>Entries not deleted.</summary>
    public int Live { get; private set; }

    /// <summary>Size of the node in Redis's listpack encoding.</summary>
    public long ListpackBytes { get; private set; }

    public StreamId FirstId => Entries[0].Id;

    public StreamId LastId => Entries[^1].Id;

    /// <summary>A new node whose first entry is <paramref name="entry"/> (Redis streamAppendItem with no node to append to).</summary>
    public static StreamChunk Start(StreamEntry entry)
    {
        byte[][] names = new byte[entry.Fields.Length / 2][];
        long bytes = EmptyListpackBytes + IntegerBytes(1) + IntegerBytes(0) + IntegerBytes(names.Length) + IntegerBytes(0);
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = entry.Fields[2 * i];
            bytes += StringBytes(names[i]);
        }

        StreamChunk chunk = new(entry.Id, names, [entry]) { Live = 1 };
        chunk.ListpackBytes = bytes + EntryBytes(entry, entry.Id, names);
        return chunk;
    }

    /// <summary>A node read from Redis's RDB format: its entries as they were, and the size of its listpack there.</summary>
    public static StreamChunk Restored(StreamId masterId, byte[][] masterFields, List<StreamEntry> entries, long listpackBytes) =>
        new(masterId, masterFields, entries) { Live = entries.Count(e => !e.Deleted), ListpackBytes = listpackBytes };

    /// <summary>
    /// Whether Redis would append <paramref name="entry"/> to this node, given the configured node limits, rather than
    /// start a new one (the entry's field and value bytes count against the size limit before it is encoded).
    /// </summary>
    public bool Takes(StreamEntry entry, Server.ServerConfig config) => Takes(ListpackBytes, Entries.Count, entry, config);

    private static bool Takes(long listpackBytes, int entries, StreamEntry entry, Server.ServerConfig config)
    {
        long maxBytes = config.StreamNodeMaxBytes is <= 0 or > MaxListpackBytes ? MaxListpackBytes : config.StreamNodeMaxBytes;
        long fieldBytes = 0;
        foreach (byte[] item in entry.Fields)
        {
            fieldBytes += item.Length;
        }

        return listpackBytes + fieldBytes < maxBytes && (config.StreamNodeMaxEntries == 0 || entries < config.StreamNodeMaxEntries);
    }

    /// <summary>
    /// XADD's path: <paramref name="entry"/> appended to the encoded node <paramref name="payload"/> without decoding its
    /// entries (the header's counts and size patched, the entry's item added at the end), or null when Redis would start a
    /// new node for it.
    /// </summary>
    public static byte[]? AppendEncoded(ReadOnlySpan<byte> payload, StreamEntry entry, Server.ServerConfig config)
    {
        // PackedItems: version, flags, item count (u32) at 2..5, then each item with its LEB128 length; the header last
        // (its length, 34, in one byte), so that an append changes the count and the end: a small edit in the WAL.
        int headerAt = payload.Length - HeaderSize;
        if (headerAt < 7 || payload[headerAt - 1] != HeaderSize || payload[headerAt] != Version)
        {
            throw new InvalidDataException($"stream chunk version {(headerAt > 0 ? payload[headerAt] : 0)} is not supported by this build (expected {Version})");
        }

        ReadOnlySpan<byte> header = payload[headerAt..];
        int live = BinaryPrimitives.ReadInt32LittleEndian(header[2..]);
        int entries = BinaryPrimitives.ReadInt32LittleEndian(header[6..]);
        long listpackBytes = BinaryPrimitives.ReadInt64LittleEndian(header[10..]);
        if (!Takes(listpackBytes, entries, entry, config))
        {
            return null;
        }

        int position = 6;
        int masterLength = ReadLength(payload, ref position);
        byte[][] masterFields = DecodeStrings(payload.Slice(position, masterLength), 0);
        byte[] item = EncodeEntry(entry);
        Span<byte> length = stackalloc byte[5];
        int lengthBytes = WriteLength(length, item.Length);
        int insertAt = headerAt - 1;
        byte[] appended = new byte[payload.Length + lengthBytes + item.Length];
        payload[..insertAt].CopyTo(appended);
        length[..lengthBytes].CopyTo(appended.AsSpan(insertAt));
        item.CopyTo(appended.AsSpan(insertAt + lengthBytes));
        payload[insertAt..].CopyTo(appended.AsSpan(insertAt + lengthBytes + item.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(appended.AsSpan(2), BinaryPrimitives.ReadUInt32LittleEndian(payload[2..]) + 1);
        Span<byte> patched = appended.AsSpan(appended.Length - HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(patched[2..], live + 1);
        BinaryPrimitives.WriteInt32LittleEndian(patched[6..], entries + 1);
        long added = IntegerBytes(live + 1) - IntegerBytes(live) + EntryBytes(entry, StreamId.Read(header[18..]), masterFields);
        BinaryPrimitives.WriteInt64LittleEndian(patched[10..], listpackBytes + added);
        return appended;
    }

    public void Append(StreamEntry entry)
    {
        ListpackBytes += IntegerBytes(Live + 1) - IntegerBytes(Live) + EntryBytes(entry, MasterId, MasterFields);
        Entries.Add(entry);
        Live++;
    }

    /// <summary>Marks the entry at <paramref name="index"/> deleted (false when it already was), as Redis flags it in its node.</summary>
    public bool Delete(int index)
    {
        StreamEntry entry = Entries[index];
        if (entry.Deleted)
        {
            return false;
        }

        int deleted = Entries.Count - Live;
        ListpackBytes += IntegerBytes(Live - 1) - IntegerBytes(Live) + IntegerBytes(deleted + 1) - IntegerBytes(deleted);
        Entries[index] = new StreamEntry(entry.Id, []) { Deleted = true };
        Live--;
        return true;
    }

    /// <summary>The index of the entry with <paramref name="id"/>, or the bitwise complement of where it would be.</summary>
    public int Find(StreamId id) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Entries).BinarySearch(new IdOrder(id));

    public static StreamChunk Decode(ReadOnlySpan<byte> payload)
    {
        List<byte[]> items = PackedItems.Decode(payload, out _);
        if (items.Count < 3 || items[^1].Length != HeaderSize || items[^1][0] != Version)
        {
            throw new InvalidDataException(
                $"stream chunk version {(items.Count > 0 && items[^1].Length > 0 ? items[^1][0] : 0)} is not supported by this build (expected {Version})");
        }

        byte[] header = items[^1];
        List<StreamEntry> entries = new(items.Count - 2);
        int live = 0;
        for (int i = 1; i < items.Count - 1; i++)
        {
            StreamEntry entry = DecodeEntry(items[i]);
            live += entry.Deleted ? 0 : 1;
            entries.Add(entry);
        }

        StreamChunk chunk = new(StreamId.Read(header.AsSpan(18)), DecodeStrings(items[0], 0), entries)
        {
            Hidden = (header[1] & 1) != 0,
            Live = live,
            ListpackBytes = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(10)),
        };
        if (live != BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(2)) || entries.Count != BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(6)))
        {
            throw new InvalidDataException($"stream chunk from {chunk.FirstId} holds {live} live entries of {entries.Count}, its header says otherwise");
        }

        return chunk;
    }

    public void Encode(IBufferWriter<byte> output)
    {
        List<byte[]> items = new(Entries.Count + 2);
        byte[] header = new byte[HeaderSize];
        header[0] = Version;
        header[1] = Hidden ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(2), Live);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(6), Entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(10), ListpackBytes);
        MasterId.WriteTo(header.AsSpan(18));
        items.Add(EncodeStrings([], MasterFields));
        foreach (StreamEntry entry in Entries)
        {
            items.Add(EncodeEntry(entry));
        }

        items.Add(header);
        PackedItems.Encode(output, 0, items);
    }

    // An entry's elements in Redis's node: flags, ms and seq deltas from the master ID, the field count unless the
    // names are the master's, the fields (unless the master's) and values, and the element count.
    private static long EntryBytes(StreamEntry entry, StreamId masterId, byte[][] masterFields)
    {
        int fields = entry.Fields.Length / 2;
        bool same = fields == masterFields.Length;
        for (int i = 0; same && i < fields; i++)
        {
            same = entry.Fields[2 * i].AsSpan().SequenceEqual(masterFields[i]);
        }

        long bytes = IntegerBytes(same ? SameFieldsFlag : 0)
            + IntegerBytes(unchecked((long)(entry.Id.Ms - masterId.Ms)))
            + IntegerBytes(unchecked((long)(entry.Id.Seq - masterId.Seq)))
            + (same ? 0 : IntegerBytes(fields))
            + IntegerBytes(fields + 3 + (same ? 0 : fields + 1));
        for (int i = 0; i < entry.Fields.Length; i++)
        {
            bytes += same && i % 2 == 0 ? 0 : StringBytes(entry.Fields[i]);
        }

        return bytes;
    }

    // lpEncodeGetType's integer sizes, plus the one-byte back length.
    private static long IntegerBytes(long value) => value switch
    {
        >= 0 and <= 127 => 2,
        >= -4096 and <= 4095 => 3,
        >= short.MinValue and <= short.MaxValue => 4,
        >= -8388608 and <= 8388607 => 5,
        >= int.MinValue and <= int.MaxValue => 6,
        _ => 10,
    };

    // lpAppend of a string: an integer when it reads as one (lpStringToInt64), else a length header, the bytes and the
    // back length (lpEncodeBacklen).
    private static long StringBytes(byte[] value)
    {
        if (value.Length is > 0 and <= 20 && RedisNumber.TryParseInt64(value, out long integer))
        {
            return IntegerBytes(integer);
        }

        long body = (value.Length < 64 ? 1 : value.Length < 4096 ? 2 : 5) + value.Length;
        return body + (body <= 127 ? 1 : body < 16383 ? 2 : body < 2097151 ? 3 : body < 268435455 ? 4 : 5);
    }

    // An entry's item: ID (big-endian), flags, then its fields and values.
    private static byte[] EncodeEntry(StreamEntry entry)
    {
        byte[] prefix = new byte[StreamId.Size + 1];
        entry.Id.WriteTo(prefix);
        prefix[StreamId.Size] = entry.Deleted ? (byte)1 : (byte)0;
        return EncodeStrings(prefix, entry.Fields);
    }

    private static StreamEntry DecodeEntry(byte[] item)
    {
        StreamId id = StreamId.Read(item);
        bool deleted = (item[StreamId.Size] & 1) != 0;
        return new StreamEntry(id, DecodeStrings(item, StreamId.Size + 1)) { Deleted = deleted };
    }

    // A count, then each string with its length, all unsigned LEB128, after `prefix`.
    private static byte[] EncodeStrings(byte[] prefix, byte[][] strings)
    {
        ArrayBufferWriter<byte> output = new(prefix.Length + 8 + strings.Sum(s => s.Length + 5));
        output.Write(prefix);
        WriteLength(output, strings.Length);
        foreach (byte[] value in strings)
        {
            WriteLength(output, value.Length);
            output.Write(value);
        }

        return output.WrittenSpan.ToArray();
    }

    private static byte[][] DecodeStrings(ReadOnlySpan<byte> item, int position)
    {
        int count = ReadLength(item, ref position);
        byte[][] strings = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            int length = ReadLength(item, ref position);
            strings[i] = item.Slice(position, length).ToArray();
            position += length;
        }

        return strings;
    }

    private static void WriteLength(ArrayBufferWriter<byte> output, int value)
    {
        int written = WriteLength(output.GetSpan(5), value);
        output.Advance(written);
    }

    // Unsigned LEB128; returns the bytes written (at most 5).
    private static int WriteLength(Span<byte> output, int value)
    {
        uint v = (uint)value;
        int i = 0;
        while (v >= 0x80)
        {
            output[i++] = (byte)(v | 0x80);
            v >>= 7;
        }

        output[i++] = (byte)v;
        return i;
    }

    private static int ReadLength(ReadOnlySpan<byte> item, ref int position)
    {
        uint value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (position >= item.Length)
            {
                break;
            }

            byte b = item[position++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                // A count or a length can never exceed the bytes left: each counted string takes at least one.
                return value <= (uint)(item.Length - position) ? (int)value : throw Damaged();
            }
        }

        throw Damaged();
    }

    private static InvalidDataException Damaged() => new("stream chunk entry is damaged: a length runs past its end");

    // Orders entries against an ID, for the span's binary search.
    private readonly struct IdOrder(StreamId id) : IComparable<StreamEntry>
    {
        public int CompareTo(StreamEntry? other) => id.CompareTo(other!.Id);
    }
}
