using System.Buffers.Binary;

namespace Durable.Commands.Collections;

/// <summary>
/// A <see cref="PackedItems"/> payload edited as bytes: items are added at either end, removed, replaced or looked up
/// without decoding the others into arrays, and the result is written out as it stands (<see cref="Payload"/>). For
/// the point operations on a part (a push or pop on a list chunk, a field or member of a bucket), which would
/// otherwise decode and re-encode every item of the part. The buffer keeps room at both ends, so that a push at the
/// head moves only the 6-byte header. Offsets are into <see cref="Payload"/>; an edit invalidates the offsets after
/// it. Its bytes live in a command's <see cref="PartBuffers"/>: valid for that command only (a use after the command
/// throws, rather than reading or writing an array the pool may have lent to another command since). Not thread-safe.
/// </summary>
internal sealed class PackedItemsBuffer
{
    private const int Room = 64;

    private readonly PartBuffers _buffers;
    private readonly int _command;
    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <summary>
    /// Copies <paramref name="payload"/> into an array of <paramref name="buffers"/>; throws <see cref="InvalidDataException"/>
    /// for an unknown version or a damaged header.
    /// </summary>
    public PackedItemsBuffer(ReadOnlySpan<byte> payload, PartBuffers buffers)
    {
        // Checks the version and that the count can fit the bytes; items are checked as they are walked.
        _ = new PackedItems.Reader(payload);
        _buffers = buffers;
        _command = buffers.Command;
        _buffer = buffers.Rent(Room + payload.Length + Room);
        _start = Room;
        _end = Room + payload.Length;
        payload.CopyTo(_buffer.AsSpan(_start));
    }

    /// <summary>The array; only for the command that rented it (see <see cref="PartBuffers.Command"/>).</summary>
    private byte[] Bytes => _buffers.Command == _command
        ? _buffer
        : throw new InvalidOperationException("a collection part's buffer was used after its command ended");

    /// <summary>The payload as it stands; valid until the next edit.</summary>
    public ReadOnlySpan<byte> Payload => Bytes.AsSpan(_start, _end - _start);

    /// <summary>Number of items.</summary>
    public int Count
    {
        get => (int)BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(_start + 2));
        private set => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(_start + 2), (uint)value);
    }

    /// <summary>The payload's flags byte (what its owner says the items are).</summary>
    public byte Flags => Bytes[_start + 1];

    /// <summary>Offset of the first item.</summary>
    public static int FirstOffset => PackedItems.HeaderSize;

    /// <summary>Counts the calls that may change the bytes, so that what was decoded from them can tell it is stale.</summary>
    public int Version { get; private set; }

    /// <summary>The item at <paramref name="offset"/> (a span into the buffer, valid until the next edit) and the offset of the one after it.</summary>
    public ReadOnlySpan<byte> ItemAt(int offset, out int next)
    {
        ReadOnlySpan<byte> payload = Payload;
        int position = offset;
        int length = PackedItems.ReadLength(payload, ref position);
        if (length > payload.Length - position)
        {
            throw new InvalidDataException("collection payload item runs past its end");
        }

        next = position + length;
        return payload.Slice(position, length);
    }

    /// <summary>
    /// The offset of the first entry (<paramref name="width"/> items) whose first item is <paramref name="key"/>, or -1.
    /// </summary>
    public int Find(ReadOnlySpan<byte> key, int width)
    {
        int offset = FirstOffset;
        for (int i = 0; i < Count; i += width)
        {
            int entry = offset;
            bool match = ItemAt(offset, out offset).SequenceEqual(key);
            for (int j = 1; j < width; j++)
            {
                ItemAt(offset, out offset);
            }

            if (match)
            {
                return entry;
            }
        }

        return -1;
    }

    /// <summary>Adds <paramref name="item"/> before the first item.</summary>
    public void Prepend(ReadOnlySpan<byte> item)
    {
        Version++;
        int size = PackedItems.EncodedItemLength(item.Length);
        Reserve(size, 0);
        // The header moves left by the item's size; the old items stay where they are.
        byte[] bytes = Bytes;
        bytes.AsSpan(_start, PackedItems.HeaderSize).CopyTo(bytes.AsSpan(_start - size));
        _start -= size;
        WriteItem(_start + PackedItems.HeaderSize, item);
        Count++;
    }

    /// <summary>
    /// The bytes of the item at <paramref name="offset"/>, to overwrite in place (its length stays; valid until the next edit).
    /// </summary>
    public Span<byte> WritableItemAt(int offset)
    {
        Version++;
        ReadOnlySpan<byte> item = ItemAt(offset, out int next);
        return Bytes.AsSpan(_start + next - item.Length, item.Length);
    }

    /// <summary>Inserts the items <paramref name="first"/> and <paramref name="second"/> at <paramref name="offset"/> (an item's offset, or the payload's end).</summary>
    public void InsertPair(int offset, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        Version++;
        int firstSize = PackedItems.EncodedItemLength(first.Length);
        Splice(offset, 0, firstSize + PackedItems.EncodedItemLength(second.Length));
        WriteItem(_start + offset, first);
        WriteItem(_start + offset + firstSize, second);
        Count += 2;
    }

    /// <summary>Adds <paramref name="item"/> after the last item.</summary>
    public void Append(ReadOnlySpan<byte> item)
    {
        Version++;
        int size = PackedItems.EncodedItemLength(item.Length);
        Reserve(0, size);
        WriteItem(_end, item);
        _end += size;
        Count++;
    }

    /// <summary>Removes the first item (there must be one) and returns a copy of it.</summary>
    public byte[] RemoveFirst()
    {
        Version++;
        byte[] item = ItemAt(FirstOffset, out int next).ToArray();
        int size = next - FirstOffset;
        int count = Count;
        byte[] bytes = Bytes;
        bytes.AsSpan(_start, PackedItems.HeaderSize).CopyTo(bytes.AsSpan(_start + size));
        _start += size;
        Count = count - 1;
        return item;
    }

    /// <summary>Removes the last item (there must be one) and returns a copy of it.</summary>
    public byte[] RemoveLast()
    {
        Version++;
        int offset = FirstOffset;
        for (int i = 0; i < Count - 1; i++)
        {
            ItemAt(offset, out offset);
        }

        byte[] item = ItemAt(offset, out _).ToArray();
        _end = _start + offset;
        Count--;
        return item;
    }

    /// <summary>Replaces the item at <paramref name="offset"/> with <paramref name="item"/>, keeping its place.</summary>
    public void Replace(int offset, ReadOnlySpan<byte> item)
    {
        Version++;
        ItemAt(offset, out int next);
        int size = PackedItems.EncodedItemLength(item.Length);
        Splice(offset, next - offset, size);
        WriteItem(_start + offset, item);
    }

    /// <summary>Removes <paramref name="items"/> items from <paramref name="offset"/> on.</summary>
    public void RemoveAt(int offset, int items)
    {
        Version++;
        int next = offset;
        for (int i = 0; i < items; i++)
        {
            ItemAt(next, out next);
        }

        Splice(offset, next - offset, 0);
        Count -= items;
    }

    /// <summary>Makes the <paramref name="removed"/> bytes at <paramref name="offset"/> <paramref name="inserted"/> bytes long, moving what follows.</summary>
    private void Splice(int offset, int removed, int inserted)
    {
        Reserve(0, Math.Max(0, inserted - removed));
        int from = _start + offset + removed;
        byte[] bytes = Bytes;
        bytes.AsSpan(from, _end - from).CopyTo(bytes.AsSpan(_start + offset + inserted));
        _end += inserted - removed;
    }

    private void WriteItem(int at, ReadOnlySpan<byte> item)
    {
        Span<byte> target = Bytes.AsSpan(at);
        int written = PackedItems.WriteLength(target, item.Length);
        item.CopyTo(target[written..]);
    }

    /// <summary>Makes room for <paramref name="front"/> more bytes before the payload and <paramref name="back"/> after it.</summary>
    private void Reserve(int front, int back)
    {
        if (_start >= front && Bytes.Length - _end >= back)
        {
            return;
        }

        int length = _end - _start;
        byte[] grown = _buffers.Rent(Room + front + length + back + Math.Max(Room, length));
        Bytes.AsSpan(_start, length).CopyTo(grown.AsSpan(Room + front));
        _buffer = grown;
        _start = Room + front;
        _end = _start + length;
    }
}
