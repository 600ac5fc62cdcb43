using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Durable.Commands.Streams;

/// <summary>
/// A stream in Redis's RDB format, for DUMP, RESTORE and MIGRATE (and so for durable-rdb and a Redis primary's
/// snapshot): written as RDB type 19 (Redis 7.0's STREAM_LISTPACKS_2), read from types 15 (Redis 5 and 6), 19 and 21
/// (Redis 7.2: consumers' active time, dropped). Each node is a listpack as Redis builds it (master entry, entries with
/// ID deltas, SAMEFIELDS, element counts), so a node read back is the chunk it was, and a chunk written is a node Redis
/// loads; a deleted entry is written without its fields, which Durable did not keep.
/// </summary>
internal static class StreamRdb
{
    private const byte TypeStreamListpacks = 15;
    private const byte TypeStreamListpacks2 = 19;
    private const byte TypeStreamListpacks3 = 21;

    // Redis STREAM_ITEM_FLAG_DELETED and STREAM_ITEM_FLAG_SAMEFIELDS.
    private const int DeletedFlag = 1;
    private const int SameFieldsFlag = 2;

    /// <summary>Whether a DUMP payload starting with <paramref name="type"/> holds a stream.</summary>
    public static bool IsStream(byte type) => type is TypeStreamListpacks or TypeStreamListpacks2 or TypeStreamListpacks3;

    public static void Write(ArrayBufferWriter<byte> output, StreamValue stream)
    {
        output.Write([TypeStreamListpacks2]);
        List<StreamChunk> nodes = [.. stream.Chunks().Where(c => !c.Hidden)];
        RdbPayload.WriteLength(output, (ulong)nodes.Count);
        Span<byte> id = stackalloc byte[StreamId.Size];
        foreach (StreamChunk node in nodes)
        {
            node.MasterId.WriteTo(id);
            RdbPayload.WriteString(output, id);
            RdbPayload.WriteString(output, RdbValue.Listpack(NodeItems(node)));
        }

        RdbPayload.WriteLength(output, (ulong)stream.Length);
        foreach (StreamId counter in new[] { stream.LastId, stream.FirstId, stream.MaxDeletedId })
        {
            RdbPayload.WriteLength(output, counter.Ms);
            RdbPayload.WriteLength(output, counter.Seq);
        }

        RdbPayload.WriteLength(output, (ulong)stream.EntriesAdded);
        RdbPayload.WriteLength(output, (ulong)stream.GroupCount);
        foreach (StreamGroup group in stream.Groups)
        {
            RdbPayload.WriteString(output, group.Name);
            RdbPayload.WriteLength(output, group.LastId.Ms);
            RdbPayload.WriteLength(output, group.LastId.Seq);
            RdbPayload.WriteLength(output, unchecked((ulong)group.EntriesRead));
            RdbPayload.WriteLength(output, (ulong)group.Pending.Count);
            foreach (PendingEntry pending in group.Pending.Values)
            {
                pending.Id.WriteTo(id);
                output.Write(id);
                WriteMilliseconds(output, pending.DeliveryTimeMs);
                RdbPayload.WriteLength(output, (ulong)pending.DeliveryCount);
            }

            RdbPayload.WriteLength(output, (ulong)group.Consumers.Count);
            foreach (StreamConsumer consumer in group.Consumers.Values)
            {
                RdbPayload.WriteString(output, consumer.Name);
                WriteMilliseconds(output, consumer.SeenTimeMs);
                List<PendingEntry> own = [.. group.Pending.Values.Where(p => p.Consumer == consumer)];
                RdbPayload.WriteLength(output, (ulong)own.Count);
                foreach (PendingEntry pending in own)
                {
                    pending.Id.WriteTo(id);
                    output.Write(id);
                }
            }
        }
    }

    /// <summary>
    /// Reads a stream payload (type byte first, footer not read) into <paramref name="stream"/>, a new empty stream; false
    /// when it is damaged or inconsistent (RESTORE's "Bad data format").
    /// </summary>
    public static bool Read(ReadOnlySpan<byte> payload, StreamValue stream)
    {
        try
        {
            return TryRead(payload, stream);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or FormatException or OverflowException)
        {
            return false;
        }
    }

    private static bool TryRead(ReadOnlySpan<byte> payload, StreamValue stream)
    {
        byte type = payload[0];
        int position = 1;
        ulong nodes = Length(payload, ref position);
        StreamId previous = StreamId.Min;
        for (ulong n = 0; n < nodes; n++)
        {
            byte[] key = RdbPayload.ReadString(payload, ref position) ?? throw new InvalidDataException();
            byte[] listpack = RdbPayload.ReadString(payload, ref position) ?? throw new InvalidDataException();
            List<byte[]> items = [];
            if (key.Length != StreamId.Size || !RdbValue.ReadListpack(listpack, items) || items.Count == 0)
            {
                return false;
            }

            StreamChunk node = ReadNode(StreamId.Read(key), items, listpack.Length);
            if (node.FirstId <= previous && n > 0)
            {
                return false;
            }

            previous = node.LastId;
            stream.AddChunk(node);
        }

        long length = (long)Length(payload, ref position);
        StreamId lastId = new(Length(payload, ref position), Length(payload, ref position));
        StreamId firstId = StreamId.Min;
        StreamId maxDeleted = StreamId.Min;
        long entriesAdded = length;
        bool modern = type != TypeStreamListpacks;
        if (modern)
        {
            firstId = new StreamId(Length(payload, ref position), Length(payload, ref position));
            maxDeleted = new StreamId(Length(payload, ref position), Length(payload, ref position));
            entriesAdded = (long)Length(payload, ref position);
        }

        if (!stream.Restored(length, lastId, modern ? firstId : null, maxDeleted, entriesAdded))
        {
            return false;
        }

        ulong groups = Length(payload, ref position);
        for (ulong g = 0; g < groups; g++)
        {
            byte[] name = RdbPayload.ReadString(payload, ref position) ?? throw new InvalidDataException();
            StreamId groupLast = new(Length(payload, ref position), Length(payload, ref position));
            long entriesRead = modern ? unchecked((long)Length(payload, ref position)) : stream.EstimateEntriesRead(groupLast);
            StreamGroup group = new(name, groupLast, entriesRead);
            if (stream.FindGroup(name) is not null)
            {
                return false;
            }

            ulong pendingCount = Length(payload, ref position);
            List<PendingEntry> unowned = [];
            for (ulong i = 0; i < pendingCount; i++)
            {
                StreamId id = StreamId.Read(Raw(payload, ref position, StreamId.Size));
                long deliveryTime = BinaryPrimitives.ReadInt64LittleEndian(Raw(payload, ref position, 8));
                PendingEntry pending = new(id, null!) { DeliveryTimeMs = deliveryTime, DeliveryCount = (long)Length(payload, ref position) };
                if (!group.Pending.TryAdd(id, pending))
                {
                    return false;
                }
            }

            ulong consumers = Length(payload, ref position);
            for (ulong c = 0; c < consumers; c++)
            {
                byte[] consumerName = RdbPayload.ReadString(payload, ref position) ?? throw new InvalidDataException();
                StreamConsumer consumer = new(consumerName, BinaryPrimitives.ReadInt64LittleEndian(Raw(payload, ref position, 8)));
                if (type == TypeStreamListpacks3)
                {
                    Raw(payload, ref position, 8);
                }

                if (!group.Consumers.TryAdd(consumerName, consumer))
                {
                    return false;
                }

                ulong own = Length(payload, ref position);
                for (ulong i = 0; i < own; i++)
                {
                    StreamId id = StreamId.Read(Raw(payload, ref position, StreamId.Size));
                    if (!group.Pending.TryGetValue(id, out PendingEntry? pending) || pending.Consumer is not null)
                    {
                        return false;
                    }

                    pending.Consumer = consumer;
                }
            }

            // Redis refuses a pending entry that no consumer owns.
            if (group.Pending.Values.Any(p => p.Consumer is null))
            {
                return false;
            }

            int at = stream.Groups.FindIndex(existing => existing.Name.AsSpan().SequenceCompareTo(name) > 0);
            stream.Groups.Insert(at < 0 ? stream.Groups.Count : at, group);
        }

        stream.GroupsChanged();
        return position <= payload.Length;
    }

    // A node's listpack: count, deleted, the master's field names and terminator, then each entry: flags, ID deltas,
    // field count unless SAMEFIELDS, fields unless SAMEFIELDS, values, element count.
    private static List<byte[]> NodeItems(StreamChunk node)
    {
        List<byte[]> items = [Number(node.Live), Number(node.Entries.Count - node.Live), Number(node.MasterFields.Length), .. node.MasterFields, Number(0)];
        foreach (StreamEntry entry in node.Entries)
        {
            int fields = entry.Fields.Length / 2;
            bool same = fields == node.MasterFields.Length;
            for (int i = 0; same && i < fields; i++)
            {
                same = entry.Fields[2 * i].AsSpan().SequenceEqual(node.MasterFields[i]);
            }

            items.Add(Number((entry.Deleted ? DeletedFlag : 0) | (same ? SameFieldsFlag : 0)));
            items.Add(Number(unchecked((long)(entry.Id.Ms - node.MasterId.Ms))));
            items.Add(Number(unchecked((long)(entry.Id.Seq - node.MasterId.Seq))));
            if (!same)
            {
                items.Add(Number(fields));
            }

            for (int i = 0; i < entry.Fields.Length; i++)
            {
                if (!same || i % 2 == 1)
                {
                    items.Add(entry.Fields[i]);
                }
            }

            items.Add(Number(fields + 3 + (same ? 0 : fields + 1)));
        }

        return items;
    }

    private static StreamChunk ReadNode(StreamId masterId, List<byte[]> items, long listpackBytes)
    {
        int position = 0;
        long live = Integer(items, ref position);
        long deleted = Integer(items, ref position);
        int masterCount = (int)Integer(items, ref position);
        byte[][] masterFields = [.. items.GetRange(position, masterCount)];
        position += masterCount;
        if (Integer(items, ref position) != 0)
        {
            throw new InvalidDataException("stream node master entry is not terminated");
        }

        List<StreamEntry> entries = [];
        while (position < items.Count)
        {
            long flags = Integer(items, ref position);
            StreamId id = new(unchecked(masterId.Ms + (ulong)Integer(items, ref position)), unchecked(masterId.Seq + (ulong)Integer(items, ref position)));
            bool same = (flags & SameFieldsFlag) != 0;
            int fields = same ? masterCount : (int)Integer(items, ref position);
            byte[][] pairs = new byte[fields * 2][];
            for (int i = 0; i < fields; i++)
            {
                pairs[2 * i] = same ? masterFields[i] : items[position++];
                pairs[(2 * i) + 1] = items[position++];
            }

            if (Integer(items, ref position) != fields + 3 + (same ? 0 : fields + 1))
            {
                throw new InvalidDataException("stream node entry has a wrong element count");
            }

            bool isDeleted = (flags & DeletedFlag) != 0;
            entries.Add(isDeleted ? new StreamEntry(id, []) { Deleted = true } : new StreamEntry(id, pairs));
        }

        StreamChunk node = StreamChunk.Restored(masterId, masterFields, entries, listpackBytes);
        if (entries.Count == 0 || node.Live != live || entries.Count - node.Live != deleted)
        {
            throw new InvalidDataException("stream node counts do not match its entries");
        }

        for (int i = 1; i < entries.Count; i++)
        {
            if (entries[i].Id <= entries[i - 1].Id)
            {
                throw new InvalidDataException("stream node entries are out of order");
            }
        }

        return node;
    }

    private static long Integer(List<byte[]> items, ref int position) =>
        long.Parse(Encoding.ASCII.GetString(items[position++]), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static byte[] Number(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    private static ulong Length(ReadOnlySpan<byte> payload, ref int position) =>
        RdbPayload.TryReadLength(payload, ref position, out ulong length, out bool encoded) && !encoded ? length : throw new InvalidDataException();

    private static ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> payload, ref int position, int length)
    {
        if (length > payload.Length - position)
        {
            throw new InvalidDataException();
        }

        ReadOnlySpan<byte> raw = payload.Slice(position, length);
        position += length;
        return raw;
    }

    private static void WriteMilliseconds(ArrayBufferWriter<byte> output, long milliseconds)
    {
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), milliseconds);
        output.Advance(8);
    }
}
