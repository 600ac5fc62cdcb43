using Durable.Commands.Collections;
using Durable.Storage;

namespace Durable.Commands.Lists;

/// <summary>
/// A list for the length of one command: compact (read whole from its record, <see cref="PackedItems"/>: the elements,
/// head to tail), or, once large, chunked (<see cref="ChunkedList"/>: a push, pop or index touches the root and one
/// chunk). Redis 7.0 reports both as a quicklist. Not thread-safe.
/// </summary>
internal sealed class PackedList
{
    private readonly List<byte[]> _items;
    private readonly ChunkedList? _chunked;

    private PackedList(List<byte[]> items, ChunkedList? chunked, long expiresAtMs)
    {
        _items = items;
        _chunked = chunked;
        ExpiresAtMs = expiresAtMs;
    }

    /// <summary>The key's expiry (0 none), kept when the list is saved, as Redis's in-place updates keep it.</summary>
    public long ExpiresAtMs { get; }

    /// <summary>The chunks of a large list; null while it is compact.</summary>
    public ChunkedList? Chunked => _chunked;

    /// <summary>Number of elements.</summary>
    public long Count => _chunked?.Count ?? _items.Count;

    /// <summary>
    /// Reads the list of <paramref name="key"/> (empty when missing or of another type); <paramref name="countStats"/> as
    /// Redis's lookupKeyRead (true) or lookupKeyWrite (false). A chunked list's root only: chunks are read as needed.
    /// </summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out PackedList list)
    {
        context.Scratch.ResetWrittenCount();
        ReadResult result = TypedRecords.Read(context, key, RecordType.List, context.Scratch, countStats, out StoredRecord record);
        list = new PackedList([], null, 0);
        if (result == ReadResult.Found)
        {
            ReadOnlySpan<byte> payload = context.Scratch.WrittenSpan;
            list = PartsDescriptor.TryRead(RecordType.List, payload, out _)
                ? new PackedList([], ChunkedList.Open(context, payload), record.ExpiresAtMs)
                : new PackedList(PackedItems.Decode(payload, out _), null, record.ExpiresAtMs);
        }

        context.Scratch.ResetWrittenCount();
        return result;
    }

    /// <summary>The element at <paramref name="index"/> (0 &lt;= index &lt; <see cref="Count"/>).</summary>
    public byte[] Get(long index) => _chunked?.Get(index) ?? _items[(int)index];

    public void Set(long index, byte[] value)
    {
        if (_chunked is null)
        {
            _items[(int)index] = value;
        }
        else
        {
            _chunked.Set(index, value);
        }
    }

    /// <summary>Elements first..last (inclusive, within the list), head to tail.</summary>
    public IEnumerable<byte[]> Range(long first, long last) =>
        _chunked?.Range(first, last) ?? _items.GetRange((int)first, (int)(last - first + 1));

    public void Push(bool left, byte[] value)
    {
        if (_chunked is not null)
        {
            _chunked.Push(left, value);
        }
        else if (left)
        {
            _items.Insert(0, value);
        }
        else
        {
            _items.Add(value);
        }
    }

    /// <summary>Removes up to <paramref name="count"/> elements from one end, in pop order (RPOP pops the tail first).</summary>
    public List<byte[]> Pop(bool left, long count)
    {
        if (_chunked is not null)
        {
            return _chunked.Pop(left, count);
        }

        int taken = (int)Math.Min(count, _items.Count);
        int start = left ? 0 : _items.Count - taken;
        List<byte[]> popped = _items.GetRange(start, taken);
        _items.RemoveRange(start, taken);
        if (!left)
        {
            popped.Reverse();
        }

        return popped;
    }

    /// <summary>Removes and returns one element from one end of a non-empty list.</summary>
    public byte[] PopOne(bool left) => Pop(left, 1)[0];

    /// <summary>Inserts <paramref name="value"/> before the element at <paramref name="index"/> (0..<see cref="Count"/>).</summary>
    public void Insert(long index, byte[] value)
    {
        if (_chunked is null)
        {
            _items.Insert((int)index, value);
        }
        else
        {
            _chunked.Insert(index, value);
        }
    }

    /// <summary>Removes the elements at <paramref name="positions"/> (ascending, distinct).</summary>
    public void RemoveAt(List<long> positions)
    {
        if (_chunked is not null)
        {
            _chunked.RemoveAt(positions);
            return;
        }

        int next = 0;
        int kept = 0;
        for (int i = 0; i < _items.Count; i++)
        {
            if (next < positions.Count && positions[next] == i)
            {
                next++;
            }
            else
            {
                _items[kept++] = _items[i];
            }
        }

        _items.RemoveRange(kept, _items.Count - kept);
    }

    /// <summary>Keeps only elements first..last (within the list; first &gt; last empties it).</summary>
    public void Trim(long first, long last)
    {
        if (_chunked is not null)
        {
            _chunked.Trim(first, last);
            return;
        }

        List<byte[]> kept = first > last ? [] : _items.GetRange((int)first, (int)(last - first + 1));
        _items.Clear();
        _items.AddRange(kept);
    }

    /// <summary>
    /// Writes the list back (deleting the key when empty), keeping its expiry; false when it would not fit, in which case
    /// the error is written and nothing changed.
    /// </summary>
    public bool Save(CommandContext context, ReadOnlySpan<byte> key) =>
        _chunked?.Save(key, ExpiresAtMs) ?? ListRecords.Save(context, key, _items, ExpiresAtMs);
}
