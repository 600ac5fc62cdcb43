using System.Buffers;
using System.Buffers.Binary;

namespace Durable.Commands.Streams;

/// <summary>
/// A consumer group of a stream (Redis streamCG): its last delivered ID, how many entries it has read (-1: unknown), its
/// consumers by name, and its pending entries list (PEL): entries delivered and not yet acknowledged, each with its
/// consumer, last delivery time and delivery count. Kept in the stream's root record (docs/streams.md), in Redis's
/// orders: groups and consumers by name bytes, pending entries by ID.
/// </summary>
internal sealed class StreamGroup(byte[] name, StreamId lastId, long entriesRead)
{
    /// <summary>Redis SCG_INVALID_ENTRIES_READ: the group's read count is not known.</summary>
    public const long UnknownEntriesRead = -1;

    public byte[] Name { get; } = name;

    public StreamId LastId { get; set; } = lastId;

    public long EntriesRead { get; set; } = entriesRead;

    public SortedDictionary<byte[], StreamConsumer> Consumers { get; } = new(ByteOrder.Instance);

    public SortedList<StreamId, PendingEntry> Pending { get; } = [];

    /// <summary>The consumer of <paramref name="consumerName"/>, created (seen now) when there is none; <paramref name="created"/> says which.</summary>
    public StreamConsumer Consumer(byte[] consumerName, long nowMs, out bool created)
    {
        created = !Consumers.TryGetValue(consumerName, out StreamConsumer? consumer);
        if (consumer is null)
        {
            consumer = new StreamConsumer(consumerName, nowMs);
            Consumers.Add(consumerName, consumer);
        }

        return consumer;
    }

    /// <summary>Removes a consumer and its pending entries (XGROUP DELCONSUMER); returns how many it had.</summary>
    public long DeleteConsumer(StreamConsumer consumer)
    {
        long removed = 0;
        for (int i = Pending.Count - 1; i >= 0; i--)
        {
            if (Pending.Values[i].Consumer == consumer)
            {
                Pending.RemoveAt(i);
                removed++;
            }
        }

        Consumers.Remove(consumer.Name);
        return removed;
    }

    /// <summary>How many pending entries <paramref name="consumer"/> holds.</summary>
    public long PendingOf(StreamConsumer consumer)
    {
        long count = 0;
        foreach (PendingEntry entry in Pending.Values)
        {
            count += entry.Consumer == consumer ? 1 : 0;
        }

        return count;
    }

    /// <summary>Appends the group: name, last ID, entries read, consumers (name, seen time), pending entries (ID, time, count, consumer's index).</summary>
    public void Encode(ArrayBufferWriter<byte> output)
    {
        WriteBytes(output, Name);
        Span<byte> fixedPart = output.GetSpan(24);
        LastId.WriteLittleEndianTo(fixedPart);
        BinaryPrimitives.WriteInt64LittleEndian(fixedPart[16..], EntriesRead);
        output.Advance(24);
        WriteUInt32(output, (uint)Consumers.Count);
        Dictionary<StreamConsumer, uint> indexes = [];
        foreach (StreamConsumer consumer in Consumers.Values)
        {
            indexes.Add(consumer, (uint)indexes.Count);
            WriteBytes(output, consumer.Name);
            WriteInt64(output, consumer.SeenTimeMs);
        }

        WriteUInt32(output, (uint)Pending.Count);
        foreach (PendingEntry entry in Pending.Values)
        {
            Span<byte> span = output.GetSpan(36);
            entry.Id.WriteLittleEndianTo(span);
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], entry.DeliveryTimeMs);
            BinaryPrimitives.WriteInt64LittleEndian(span[24..], entry.DeliveryCount);
            BinaryPrimitives.WriteUInt32LittleEndian(span[32..], indexes[entry.Consumer]);
            output.Advance(36);
        }
    }

    /// <summary>Reads a group <see cref="Encode"/> wrote at <paramref name="position"/>, advancing it.</summary>
    public static StreamGroup Decode(ReadOnlySpan<byte> source, ref int position)
    {
        byte[] name = ReadBytes(source, ref position);
        StreamGroup group = new(name, StreamId.ReadLittleEndian(Take(source, ref position, 16)), BinaryPrimitives.ReadInt64LittleEndian(Take(source, ref position, 8)));
        uint consumers = BinaryPrimitives.ReadUInt32LittleEndian(Take(source, ref position, 4));
        List<StreamConsumer> byIndex = [];
        for (uint i = 0; i < consumers; i++)
        {
            StreamConsumer consumer = new(ReadBytes(source, ref position), BinaryPrimitives.ReadInt64LittleEndian(Take(source, ref position, 8)));
            byIndex.Add(consumer);
            group.Consumers.Add(consumer.Name, consumer);
        }

        uint pending = BinaryPrimitives.ReadUInt32LittleEndian(Take(source, ref position, 4));
        for (uint i = 0; i < pending; i++)
        {
            ReadOnlySpan<byte> entry = Take(source, ref position, 36);
            uint index = BinaryPrimitives.ReadUInt32LittleEndian(entry[32..]);
            if (index >= byIndex.Count)
            {
                throw new InvalidDataException($"stream group '{System.Text.Encoding.Latin1.GetString(name)}' has a pending entry of consumer {index} of {byIndex.Count}");
            }

            StreamId id = StreamId.ReadLittleEndian(entry);
            group.Pending.Add(id, new PendingEntry(id, byIndex[(int)index])
            {
                DeliveryTimeMs = BinaryPrimitives.ReadInt64LittleEndian(entry[16..]),
                DeliveryCount = BinaryPrimitives.ReadInt64LittleEndian(entry[24..]),
            });
        }

        return group;
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> source, ref int position, int length)
    {
        if (length > source.Length - position)
        {
            throw new InvalidDataException("stream root is damaged: its consumer groups run past its end");
        }

        ReadOnlySpan<byte> taken = source.Slice(position, length);
        position += length;
        return taken;
    }

    private static byte[] ReadBytes(ReadOnlySpan<byte> source, ref int position) =>
        Take(source, ref position, (int)BinaryPrimitives.ReadUInt32LittleEndian(Take(source, ref position, 4))).ToArray();

    private static void WriteBytes(ArrayBufferWriter<byte> output, byte[] value)
    {
        WriteUInt32(output, (uint)value.Length);
        output.Write(value);
    }

    private static void WriteUInt32(ArrayBufferWriter<byte> output, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void WriteInt64(ArrayBufferWriter<byte> output, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    /// <summary>Unsigned byte order, as Redis's radix tree orders names.</summary>
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

/// <summary>A consumer of a group (Redis streamConsumer): its name and when it was last seen.</summary>
internal sealed class StreamConsumer(byte[] name, long seenTimeMs)
{
    public byte[] Name { get; } = name;

    public long SeenTimeMs { get; set; } = seenTimeMs;
}

/// <summary>An entry delivered to a consumer and not yet acknowledged (Redis streamNACK).</summary>
internal sealed class PendingEntry(StreamId id, StreamConsumer consumer)
{
    public StreamId Id { get; } = id;

    public StreamConsumer Consumer { get; set; } = consumer;

    public long DeliveryTimeMs { get; set; }

    public long DeliveryCount { get; set; }
}
