using System.Buffers;
using System.Buffers.Binary;
using Durable.Commands.Collections;
using Durable.Storage;

namespace Durable.Commands.Lists;

/// <summary>
/// A large list kept in part records (<em>chunks</em>) of its root's generation, so that a push or pop reads and writes
/// the root and one chunk, and finding index i is arithmetic: chunks are numbered consecutively (the descriptor's
/// range [first, first + count), u32 ids that may wrap), the head chunk holds h elements (1..C), the tail chunk 1..C,
/// and every chunk between them exactly C (the list's <see cref="Capacity"/>). LPUSH onto a full head chunk creates
/// chunk first - 1, RPUSH onto a full tail chunk creates chunk first + count; a new list's first chunk is
/// <see cref="FirstChunkId"/>, the middle of the id space. Middle edits (LINSERT, LREM, LTRIM) rewrite the chunks
/// between the edit and the nearer end (<see cref="ReplaceHead"/>, <see cref="ReplaceTail"/>), as they shift elements
/// in Redis. A chunk is a <see cref="PackedItems"/> payload of its elements, head to tail.
/// Root payload, version 1: the <see cref="PartsDescriptor"/> (first chunk id, chunk count), then byte 18 root format
/// version (1), byte 19 flags (0), bytes 20..23 C (u32 little-endian), bytes 24..27 the head chunk's element count h
/// (u32), bytes 28..35 the element count (u64). Pinned by ChunkedListTests. Lives for one command; not thread-safe.
/// </summary>
internal sealed class ChunkedList
{
    public const byte RootVersion = 1;
    public const int RootSize = PartsDescriptor.Size + 18;

    /// <summary>The id of a new list's first chunk: lists grow both ways, so they start in the middle of the u32 ids.</summary>
    public const uint FirstChunkId = 0x8000_0000;

    /// <summary>
    /// Most elements per chunk. A push rewrites one chunk, so chunks stay small; C is fixed when a list is converted, at
    /// most this and at most what keeps a chunk of the largest element then present under <see cref="ChunkTargetBytes"/>
    /// (a list of large elements gets a chunk per few elements, one of 1 KiB elements 3 per chunk).
    /// </summary>
    public const int MaxChunkElements = 64;

    public const int ChunkTargetBytes = 4096;

    /// <summary>
    /// Unchanged chunks kept read past this many are dropped, so that a command scanning a huge list (LPOS, LREM, LINSERT)
    /// holds a bounded number of them besides those it changes.
    /// </summary>
    private const int MaxCleanChunks = 1024;

    private readonly CommandContext _context;
    private readonly Dictionary<uint, List<byte[]>> _chunks = [];

    /// <summary>Chunks edited as bytes (pushes and pops at the ends); a chunk is here or in <see cref="_chunks"/>, never both.</summary>
    private readonly Dictionary<uint, PackedItemsBuffer> _encoded = [];
    private readonly HashSet<uint> _dirty = [];
    private readonly HashSet<uint> _removed = [];
    private bool _rootDirty;

    private ChunkedList(CommandContext context, ulong generation, uint first, uint chunkCount, int capacity, int headCount, long count)
    {
        _context = context;
        Generation = generation;
        First = first;
        ChunkCount = chunkCount;
        Capacity = capacity;
        HeadCount = headCount;
        Count = count;
    }

    public ulong Generation { get; }

    /// <summary>Id of the head chunk.</summary>
    public uint First { get; private set; }

    public uint ChunkCount { get; private set; }

    /// <summary>Elements per chunk (C): exactly this in every chunk but the head and the tail chunk.</summary>
    public int Capacity { get; }

    /// <summary>Elements in the head chunk (all of them when it is the only chunk).</summary>
    public int HeadCount { get; private set; }

    /// <summary>Number of elements.</summary>
    public long Count { get; private set; }

    /// <summary>Opens the list whose root payload is <paramref name="root"/> (copied: the span may be reused).</summary>
    public static ChunkedList Open(CommandContext context, ReadOnlySpan<byte> root)
    {
        if (!PartsDescriptor.TryRead(RecordType.List, root, out PartsDescriptor parts) || root.Length < RootSize || root[PartsDescriptor.Size] != RootVersion)
        {
            throw new InvalidDataException(
                $"chunked list root version {(root.Length > PartsDescriptor.Size ? root[PartsDescriptor.Size] : 0)} is not supported by this build (expected {RootVersion})");
        }

        ChunkedList list = new(
            context, parts.Generation, parts.FirstPart, parts.PartCount,
            (int)BinaryPrimitives.ReadUInt32LittleEndian(root[(PartsDescriptor.Size + 2)..]),
            (int)BinaryPrimitives.ReadUInt32LittleEndian(root[(PartsDescriptor.Size + 6)..]),
            BinaryPrimitives.ReadInt64LittleEndian(root[(PartsDescriptor.Size + 10)..]));
        long tail = list.ChunkCount < 1 ? 0 : list.Count - list.StartOf(list.ChunkCount - 1);
        if (list.Capacity < 1 || list.HeadCount < 1 || list.HeadCount > list.Capacity || tail < 1 || tail > list.Capacity
            || (list.ChunkCount == 1 && list.Count != list.HeadCount))
        {
            throw new InvalidDataException(
                $"chunked list root is damaged: {list.Count} elements in {list.ChunkCount} chunks of {list.Capacity}, head {list.HeadCount}");
        }

        return list;
    }

    /// <summary>A new chunked list of a fresh generation holding <paramref name="items"/> (at least one); written by <see cref="Save"/>.</summary>
    public static ChunkedList Create(CommandContext context, IReadOnlyList<byte[]> items)
    {
        int largest = 0;
        foreach (byte[] item in items)
        {
            largest = Math.Max(largest, item.Length);
        }

        int capacity = Math.Clamp(ChunkTargetBytes / (largest + 5), 1, MaxChunkElements);
        ChunkedList created = new(context, PartsDescriptor.NewGeneration(), FirstChunkId, 0, capacity, 0, 0) { _rootDirty = true };
        created.ReplaceTail(0, [.. items]);
        return created;
    }

    /// <summary>The element at <paramref name="index"/> (0 &lt;= index &lt; <see cref="Count"/>).</summary>
    public byte[] Get(long index)
    {
        (long chunk, int offset) = Locate(index);
        return Load(chunk)[offset];
    }

    public void Set(long index, byte[] value)
    {
        (long chunk, int offset) = Locate(index);
        Load(chunk)[offset] = value;
        _dirty.Add(IdOf(chunk));
    }

    /// <summary>Elements first..last (inclusive, within the list), head to tail, reading only their chunks.</summary>
    public IEnumerable<byte[]> Range(long first, long last)
    {
        (long chunk, int offset) = Locate(first);
        for (long index = first; index <= last; chunk++, offset = 0)
        {
            List<byte[]> elements = Load(chunk);
            for (int i = offset; i < elements.Count && index <= last; i++, index++)
            {
                yield return elements[i];
            }
        }
    }

    public void Push(bool left, byte[] value)
    {
        if (left)
        {
            if (ChunkCount > 0 && HeadCount < Capacity)
            {
                PushInto(0, atHead: true, value);
                HeadCount++;
            }
            else
            {
                First--;
                ChunkCount++;
                Store(First, [value]);
                HeadCount = 1;
            }
        }
        else if (ChunkCount > 0 && SizeOf(ChunkCount - 1) < Capacity)
        {
            PushInto(ChunkCount - 1, atHead: false, value);
            if (ChunkCount == 1)
            {
                HeadCount++;
            }
        }
        else
        {
            Store(IdOf(ChunkCount), [value]);
            ChunkCount++;
            HeadCount = ChunkCount == 1 ? 1 : HeadCount;
        }

        Count++;
        _rootDirty = true;
    }

    /// <summary>Removes up to <paramref name="count"/> elements from one end, in pop order (RPOP pops the tail first).</summary>
    public List<byte[]> Pop(bool left, long count)
    {
        List<byte[]> popped = new((int)Math.Min(count, Count));
        while (popped.Count < count && Count > 0)
        {
            long chunk = left ? 0 : ChunkCount - 1;
            int size = SizeOf(chunk);
            int take = (int)Math.Min(count - popped.Count, size);
            TakeFrom(chunk, left, take, popped);
            Count -= take;
            bool emptied = take == size;
            if (emptied)
            {
                Remove(IdOf(chunk));
                ChunkCount--;
                if (left)
                {
                    First++;
                }
            }
            else
            {
                _dirty.Add(IdOf(chunk));
            }

            HeadCount = ChunkCount switch
            {
                0 => 0,
                1 => (int)Count,
                _ => left && emptied ? Capacity : HeadCount - (left ? take : 0),
            };
        }

        _rootDirty = true;
        return popped;
    }

    /// <summary>Inserts <paramref name="value"/> before the element at <paramref name="index"/> (0..<see cref="Count"/>), shifting the nearer end.</summary>
    public void Insert(long index, byte[] value)
    {
        if (index == 0 || index == Count)
        {
            Push(index == 0, value);
        }
        else if (index <= Count - index)
        {
            long chunk = Locate(index - 1).Chunk;
            List<byte[]> elements = Elements(0, chunk);
            elements.Insert((int)index, value);
            ReplaceHead(chunk, elements);
        }
        else
        {
            long chunk = Locate(index).Chunk;
            List<byte[]> elements = Elements(chunk, ChunkCount - 1);
            elements.Insert((int)(index - StartOf(chunk)), value);
            ReplaceTail(chunk, elements);
        }
    }

    /// <summary>Removes the elements at <paramref name="positions"/> (ascending, distinct), rewriting from the nearer end.</summary>
    public void RemoveAt(List<long> positions)
    {
        if (positions.Count == 0)
        {
            return;
        }

        long last = Locate(positions[^1]).Chunk;
        long first = Locate(positions[0]).Chunk;
        bool fromHead = StartOf(last) + SizeOf(last) <= Count - StartOf(first);
        long start = fromHead ? 0 : StartOf(first);
        List<byte[]> elements = fromHead ? Elements(0, last) : Elements(first, ChunkCount - 1);
        List<byte[]> kept = new(elements.Count - positions.Count);
        int next = 0;
        for (int i = 0; i < elements.Count; i++)
        {
            if (next < positions.Count && positions[next] == start + i)
            {
                next++;
            }
            else
            {
                kept.Add(elements[i]);
            }
        }

        if (fromHead)
        {
            ReplaceHead(last, kept);
        }
        else
        {
            ReplaceTail(first, kept);
        }
    }

    /// <summary>Keeps only elements first..last (inclusive, within the list; first &gt; last empties it), deleting the chunks outside unread.</summary>
    public void Trim(long first, long last)
    {
        if (first > last)
        {
            ReplaceTail(0, []);
            return;
        }

        if (last < Count - 1)
        {
            (long chunk, int offset) = Locate(last);
            ReplaceTail(chunk, Load(chunk).GetRange(0, offset + 1));
        }

        if (first > 0)
        {
            (long chunk, int offset) = Locate(first);
            List<byte[]> elements = Load(chunk);
            ReplaceHead(chunk, elements.GetRange(offset, elements.Count - offset));
        }
    }

    /// <summary>Every element, head to tail (reads every chunk).</summary>
    public List<byte[]> AllItems() => ChunkCount == 0 ? [] : Elements(0, ChunkCount - 1);

    /// <summary>
    /// Writes what changed: every changed chunk, deletes of chunks that left the list, and the root; an empty list deletes
    /// the key (and with it every chunk). Returns false, with the error written and nothing stored, when a chunk would not
    /// fit in one record.
    /// </summary>
    public bool Save(ReadOnlySpan<byte> key, long expiresAtMs)
    {
        if (Count == 0)
        {
            _context.Session.Delete(_context.Db, key);
            return true;
        }

        if (!CollectionParts.FitParts(_context, key, _dirty, _chunks, _encoded))
        {
            return false;
        }

        CollectionParts.WriteParts(_context, Generation, _dirty, _chunks, _encoded, _context.PartStaging, static id => id);

        foreach (uint id in _removed)
        {
            if (!InRange(id))
            {
                _context.Session.DeletePart(Generation, id);
            }
        }

        _dirty.Clear();
        _removed.Clear();
        if (_rootDirty)
        {
            Span<byte> root = stackalloc byte[RootSize];
            WriteRoot(root, Generation, First, ChunkCount, Capacity, HeadCount, Count);
            _context.Session.Write(_context.Db, key, RecordType.List, root, expiresAtMs);
            _rootDirty = false;
        }

        return true;
    }

    /// <summary>Writes a root payload (layout in the class summary).</summary>
    internal static void WriteRoot(Span<byte> root, ulong generation, uint first, uint chunks, int capacity, int headCount, long count)
    {
        new PartsDescriptor(generation, first, chunks).WriteTo(root);
        root[PartsDescriptor.Size] = RootVersion;
        root[PartsDescriptor.Size + 1] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(root[(PartsDescriptor.Size + 2)..], (uint)capacity);
        BinaryPrimitives.WriteUInt32LittleEndian(root[(PartsDescriptor.Size + 6)..], (uint)headCount);
        BinaryPrimitives.WriteInt64LittleEndian(root[(PartsDescriptor.Size + 10)..], count);
    }

    /// <summary>The chunk (0 = head) holding <paramref name="index"/>, and the element's offset in it.</summary>
    private (long Chunk, int Offset) Locate(long index)
    {
        if (index < HeadCount)
        {
            return (0, (int)index);
        }

        long rest = index - HeadCount;
        return (1 + (rest / Capacity), (int)(rest % Capacity));
    }

    private long StartOf(long chunk) => chunk == 0 ? 0 : HeadCount + ((chunk - 1) * Capacity);

    private int SizeOf(long chunk) => chunk == 0 ? HeadCount : chunk == ChunkCount - 1 ? (int)(Count - StartOf(chunk)) : Capacity;

    private uint IdOf(long chunk) => unchecked(First + (uint)chunk);

    private bool InRange(uint id) => unchecked(id - First) < ChunkCount;

    /// <summary>
    /// Replaces the elements of chunks 0..<paramref name="last"/> with <paramref name="elements"/>, laid out backwards from
    /// chunk <paramref name="last"/>'s id (full chunks, the head chunk takes the remainder); the chunks after it keep their ids.
    /// </summary>
    private void ReplaceHead(long last, List<byte[]> elements)
    {
        uint boundary = IdOf(last);
        long after = ChunkCount - last - 1;
        long removed = StartOf(last) + SizeOf(last);
        int chunks = (elements.Count + Capacity - 1) / Capacity;
        for (long i = 0; i < last + 1 - chunks; i++)
        {
            Remove(IdOf(i));
        }

        uint first = unchecked(boundary + 1 - (uint)chunks);
        int head = elements.Count - ((chunks - 1) * Capacity);
        for (int c = 0, position = 0; c < chunks; c++)
        {
            int size = c == 0 ? head : Capacity;
            Store(unchecked(first + (uint)c), elements.GetRange(position, size));
            position += size;
        }

        Count += elements.Count - removed;
        First = first;
        ChunkCount = (uint)(chunks + after);
        HeadCount = ChunkCount == 0 ? 0 : chunks > 0 ? head : after == 1 ? (int)Count : Capacity;
        _rootDirty = true;
    }

    /// <summary>
    /// Replaces the elements of chunks <paramref name="first"/>..tail with <paramref name="elements"/>, laid out forwards
    /// from chunk <paramref name="first"/>'s id (full chunks, the tail chunk takes the remainder).
    /// </summary>
    private void ReplaceTail(long first, List<byte[]> elements)
    {
        uint boundary = IdOf(first);
        long removed = Count - StartOf(first);
        int chunks = (elements.Count + Capacity - 1) / Capacity;
        for (long i = chunks; i < ChunkCount - first; i++)
        {
            Remove(unchecked(boundary + (uint)i));
        }

        for (int c = 0, position = 0; c < chunks; c++)
        {
            int size = Math.Min(Capacity, elements.Count - position);
            Store(unchecked(boundary + (uint)c), elements.GetRange(position, size));
            position += size;
        }

        Count += elements.Count - removed;
        ChunkCount = (uint)(first + chunks);
        HeadCount = ChunkCount == 0 ? 0 : ChunkCount == 1 ? (int)Count : first == 0 ? Capacity : HeadCount;
        _rootDirty = true;
    }

    /// <summary>The elements of chunks <paramref name="from"/>..<paramref name="to"/>, in a new list.</summary>
    private List<byte[]> Elements(long from, long to)
    {
        List<byte[]> elements = new((int)Math.Min(int.MaxValue, StartOf(to) + SizeOf(to) - StartOf(from)));
        for (long chunk = from; chunk <= to; chunk++)
        {
            elements.AddRange(Load(chunk));
        }

        return elements;
    }

    /// <summary>Sets chunk <paramref name="id"/>'s elements, marking it changed unless they are the ones it already holds.</summary>
    private void Store(uint id, List<byte[]> elements)
    {
        _removed.Remove(id);
        _encoded.Remove(id);
        if (_chunks.TryGetValue(id, out List<byte[]>? current) && current.Count == elements.Count)
        {
            bool same = true;
            for (int i = 0; i < elements.Count && same; i++)
            {
                same = ReferenceEquals(current[i], elements[i]);
            }

            if (same)
            {
                return;
            }
        }

        _chunks[id] = elements;
        _dirty.Add(id);
    }

    private void Remove(uint id)
    {
        _chunks.Remove(id);
        _encoded.Remove(id);
        _dirty.Remove(id);
        _removed.Add(id);
    }

    private List<byte[]> Load(long chunk)
    {
        uint id = IdOf(chunk);
        if (_chunks.TryGetValue(id, out List<byte[]>? elements))
        {
            return elements;
        }

        if (_encoded.Remove(id, out PackedItemsBuffer? encoded))
        {
            // Edited as bytes so far (its dirty mark stays): from now on as elements.
            elements = PackedItems.Decode(encoded.Payload, out _);
            _chunks[id] = elements;
            return elements;
        }

        elements = PackedItems.Decode(ReadChunk(id), out _);
        CheckSize(chunk, elements.Count);

        // Every caller that changes a chunk marks it dirty before it loads another, so only unchanged ones are dropped.
        if (_chunks.Count - _dirty.Count >= MaxCleanChunks)
        {
            foreach (uint clean in _chunks.Keys.Where(cached => !_dirty.Contains(cached)).ToList())
            {
                _chunks.Remove(clean);
            }
        }

        _chunks[id] = elements;
        return elements;
    }

    /// <summary>Chunk <paramref name="chunk"/> as bytes, for a push or pop at an end (read unless already held).</summary>
    private PackedItemsBuffer Encoded(long chunk)
    {
        uint id = IdOf(chunk);
        if (!_encoded.TryGetValue(id, out PackedItemsBuffer? encoded))
        {
            encoded = new PackedItemsBuffer(ReadChunk(id), _context.PartBuffers);
            CheckSize(chunk, encoded.Count);
            _encoded[id] = encoded;
        }

        return encoded;
    }

    /// <summary>Adds <paramref name="value"/> at the head or the tail of chunk <paramref name="chunk"/> (which has room), in whichever form it is held.</summary>
    private void PushInto(long chunk, bool atHead, byte[] value)
    {
        uint id = IdOf(chunk);
        if (_chunks.TryGetValue(id, out List<byte[]>? elements))
        {
            elements.Insert(atHead ? 0 : elements.Count, value);
        }
        else if (atHead)
        {
            Encoded(chunk).Prepend(value);
        }
        else
        {
            Encoded(chunk).Append(value);
        }

        _dirty.Add(id);
    }

    /// <summary>Removes <paramref name="take"/> elements from the head or the tail of chunk <paramref name="chunk"/> into <paramref name="popped"/>, in pop order.</summary>
    private void TakeFrom(long chunk, bool left, int take, List<byte[]> popped)
    {
        if (_chunks.TryGetValue(IdOf(chunk), out List<byte[]>? elements))
        {
            for (int i = 0; i < take; i++)
            {
                popped.Add(elements[left ? i : elements.Count - 1 - i]);
            }

            elements.RemoveRange(left ? 0 : elements.Count - take, take);
            return;
        }

        PackedItemsBuffer encoded = Encoded(chunk);
        for (int i = 0; i < take; i++)
        {
            popped.Add(left ? encoded.RemoveFirst() : encoded.RemoveLast());
        }
    }

    /// <summary>The stored payload of chunk <paramref name="id"/>, in the connection's <see cref="CommandContext.PartStaging"/> (valid until its next use).</summary>
    private ReadOnlySpan<byte> ReadChunk(uint id)
    {
        ArrayBufferWriter<byte> staging = _context.PartStaging;
        staging.ResetWrittenCount();
        if (!_context.Session.TryReadPart(Generation, id, staging))
        {
            throw new InvalidDataException($"chunked list chunk {id:x} of generation {Generation:x} is missing");
        }

        return staging.WrittenSpan;
    }

    private void CheckSize(long chunk, int elements)
    {
        if (elements != SizeOf(chunk))
        {
            throw new InvalidDataException($"chunked list chunk {IdOf(chunk):x} holds {elements} elements, its root says {SizeOf(chunk)}");
        }
    }
}
