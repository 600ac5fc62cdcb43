using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Durable.Storage;

namespace Durable.Commands.Collections;

/// <summary>
/// A large hash or set kept in part records by linear hashing, so that a point operation reads and writes the root and
/// one bucket whatever the collection's size. An entry is <see cref="Width"/> items (a set: the member; a hash: field,
/// value), keyed by its first item. Bucket b is part b of the root's generation, a <see cref="PackedItems"/> payload
/// of its entries; with N buckets (2^k &lt;= N &lt; 2^(k+1)) an entry whose key hashes (XxHash3) to h lives in
/// h mod 2^(k+1), or h mod 2^k when that is N or more. When entries outnumber <see cref="EntriesPerBucket"/> per
/// bucket, bucket N - 2^k splits into itself and bucket N (one bucket read, two written).
/// Root payload, version 1: the <see cref="PartsDescriptor"/> (parts 0..N-1), then byte 18 root format version (1),
/// byte 19 flags (<see cref="PackedItems.LargeEncoding"/>, the encoding Redis would report), bytes 20..27 the entry
/// count (u64 little-endian). Pinned by BucketedItemsTests. Lives for one command; not thread-safe.
/// </summary>
internal sealed class BucketedItems
{
    public const byte RootVersion = 1;
    public const int RootSize = PartsDescriptor.Size + 10;

    /// <summary>Average entries per bucket before the next split: a bucket of small entries stays well under a few KiB.</summary>
    public const int EntriesPerBucket = 16;

    private readonly CommandContext _context;
    private readonly Dictionary<uint, List<byte[]>> _buckets = [];

    /// <summary>
    /// Buckets held as bytes, for point lookups and edits that need not decode every entry; a bucket is here or in
    /// <see cref="_buckets"/> (as items, for whole-bucket work: splits, scans, random picks), never both.
    /// </summary>
    private readonly Dictionary<uint, PackedItemsBuffer> _encoded = [];
    private readonly HashSet<uint> _dirty = [];
    private readonly uint _stride;
    private readonly uint _offset;
    private bool _rootDirty;

    private BucketedItems(CommandContext context, int width, ulong generation, uint bucketCount, long count, byte flags, uint stride = 1, uint offset = 0)
    {
        _context = context;
        _stride = stride;
        _offset = offset;
        Width = width;
        Generation = generation;
        BucketCount = bucketCount;
        Count = count;
        Flags = flags;
    }

    /// <summary>Items per entry: 1 (set member) or 2 (hash field and value).</summary>
    public int Width { get; }

    public ulong Generation { get; }

    public uint BucketCount { get; private set; }

    /// <summary>Number of entries.</summary>
    public long Count { get; private set; }

    public byte Flags { get; }

    /// <summary>Opens the bucketed collection whose root payload is <paramref name="root"/>.</summary>
    public static BucketedItems Open(CommandContext context, RecordType type, int width, ReadOnlySpan<byte> root)
    {
        if (!PartsDescriptor.TryRead(type, root, out PartsDescriptor parts) || root.Length < RootSize || root[PartsDescriptor.Size] != RootVersion)
        {
            throw new InvalidDataException(
                $"bucketed collection root version {(root.Length > PartsDescriptor.Size ? root[PartsDescriptor.Size] : 0)} is not supported by this build (expected {RootVersion})");
        }

        return new BucketedItems(
            context, width, parts.Generation, parts.PartCount,
            BinaryPrimitives.ReadInt64LittleEndian(root[(PartsDescriptor.Size + 2)..]), root[PartsDescriptor.Size + 1]);
    }

    /// <summary>
    /// A new bucketed collection of a fresh generation holding <paramref name="items"/> (entries of <paramref name="width"/>
    /// items, keys distinct), sized for them; written by <see cref="Save"/>.
    /// </summary>
    public static BucketedItems Create(CommandContext context, int width, IReadOnlyList<byte[]> items, byte flags) =>
        Create(context, width, items, flags, PartsDescriptor.NewGeneration(), 1, 0);

    /// <summary>
    /// The buckets of another collection's root (a sorted set's member map): <paramref name="bucketCount"/> buckets of
    /// <paramref name="count"/> entries, bucket b at part b * <paramref name="stride"/> + <paramref name="offset"/> of
    /// <paramref name="generation"/>, so that the owner can keep other parts between them. The owner writes the root
    /// (<see cref="CheckBuckets"/> and <see cref="WriteBuckets"/> handle only the buckets).
    /// </summary>
    public static BucketedItems OpenEmbedded(CommandContext context, int width, ulong generation, uint bucketCount, long count, uint stride, uint offset) =>
        new(context, width, generation, bucketCount, count, 0, stride, offset);

    /// <summary>A new embedded map (see <see cref="OpenEmbedded"/>) holding <paramref name="items"/>, keys distinct.</summary>
    public static BucketedItems CreateEmbedded(CommandContext context, int width, IReadOnlyList<byte[]> items, ulong generation, uint stride, uint offset) =>
        Create(context, width, items, 0, generation, stride, offset);

    private static BucketedItems Create(CommandContext context, int width, IReadOnlyList<byte[]> items, byte flags, ulong generation, uint stride, uint offset)
    {
        long entries = items.Count / width;
        uint buckets = (uint)Math.Max(1, (entries + EntriesPerBucket - 1) / EntriesPerBucket);
        BucketedItems created = new(context, width, generation, buckets, entries, flags, stride, offset) { _rootDirty = true };
        for (uint b = 0; b < buckets; b++)
        {
            created._buckets[b] = [];
            created._dirty.Add(b);
        }

        for (int i = 0; i < items.Count; i += width)
        {
            List<byte[]> bucket = created._buckets[created.BucketOf(items[i])];
            for (int j = 0; j < width; j++)
            {
                bucket.Add(items[i + j]);
            }
        }

        return created;
    }

    /// <summary>The entry's value (hash) or its key (set), or null when absent.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        PackedItemsBuffer bucket = Encoded(BucketOf(key));
        int at = bucket.Find(key, Width);
        if (at < 0)
        {
            return null;
        }

        for (int j = 1; j < Width; j++)
        {
            bucket.ItemAt(at, out at);
        }

        return bucket.ItemAt(at, out _).ToArray();
    }

    public bool Contains(ReadOnlySpan<byte> key) => Encoded(BucketOf(key)).Find(key, Width) >= 0;

    /// <summary>Sets an entry (for a set, <paramref name="value"/> is ignored); true when it was created.</summary>
    public bool Set(ReadOnlySpan<byte> key, byte[]? value)
    {
        uint b = BucketOf(key);
        PackedItemsBuffer bucket = Encoded(b);
        int at = bucket.Find(key, Width);
        if (at >= 0)
        {
            if (Width == 2)
            {
                bucket.ItemAt(at, out int valueAt);
                bucket.Replace(valueAt, value!);
                _dirty.Add(b);
            }

            return false;
        }

        bucket.Append(key);
        if (Width == 2)
        {
            bucket.Append(value!);
        }

        _dirty.Add(b);
        Count++;
        _rootDirty = true;
        return true;
    }

    /// <summary>Removes an entry; true when it existed.</summary>
    public bool Remove(ReadOnlySpan<byte> key)
    {
        uint b = BucketOf(key);
        PackedItemsBuffer bucket = Encoded(b);
        int at = bucket.Find(key, Width);
        if (at < 0)
        {
            return false;
        }

        bucket.RemoveAt(at, Width);
        _dirty.Add(b);
        Count--;
        _rootDirty = true;
        return true;
    }

    /// <summary>Every entry's items, bucket by bucket (reads every bucket).</summary>
    public List<byte[]> AllItems()
    {
        List<byte[]> all = new((int)Math.Min(int.MaxValue / 2, Count * Width));
        for (uint b = 0; b < BucketCount; b++)
        {
            all.AddRange(Bucket(b));
        }

        return all;
    }

    /// <summary>
    /// About <paramref name="count"/> entries from <paramref name="cursor"/> on, appended to <paramref name="items"/>;
    /// returns the next cursor (0 when done). A cursor is a bucket (high 32 bits) and, within it, the least upper half of
    /// a key's hash still to return (low 32 bits): a bucket is walked in the order of its keys' upper hash halves (the
    /// lower bits chose the bucket), entries sharing one go together. A removal moves nothing, and a split only moves
    /// entries from bucket s to bucket N &gt; s, keeping their hashes, so an entry present for the whole scan is
    /// returned at least once.
    /// </summary>
    public ulong Scan(ulong cursor, int count, List<byte[]> items)
    {
        ulong b = cursor >> 32;
        ulong least = cursor & uint.MaxValue;
        int entries = 0;
        for (; b < BucketCount; b++, least = 0)
        {
            List<byte[]> bucket = Bucket((uint)b);
            List<(uint Order, int Index)> order = new(bucket.Count / Width);
            for (int i = 0; i < bucket.Count; i += Width)
            {
                uint upper = (uint)(XxHash3.HashToUInt64(bucket[i]) >> 32);
                if (upper >= least)
                {
                    order.Add((upper, i));
                }
            }

            order.Sort();
            for (int j = 0; j < order.Count; j++)
            {
                if (entries >= count && order[j].Order != order[j - 1].Order)
                {
                    return (b << 32) | order[j].Order;
                }

                items.AddRange(bucket.GetRange(order[j].Index, Width));
                entries++;
            }

            if (entries >= count)
            {
                return b + 1 >= BucketCount ? 0 : (b + 1) << 32;
            }
        }

        return 0;
    }

    /// <summary>
    /// A random entry's first index in <paramref name="bucket"/>: a random bucket, then a random entry in it (entries of
    /// fuller buckets are a little less likely, as with Redis's own dictGetRandomKey). False when empty.
    /// </summary>
    public bool TryPickRandom(out List<byte[]> bucket, out int index)
    {
        bucket = [];
        index = -1;
        if (Count == 0)
        {
            return false;
        }

        uint start = (uint)Random.Shared.NextInt64(BucketCount);
        for (uint i = 0; i < BucketCount; i++)
        {
            bucket = Bucket((uint)((start + i) % BucketCount));
            if (bucket.Count > 0)
            {
                index = Random.Shared.Next(bucket.Count / Width) * Width;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// <paramref name="count"/> distinct random entries (their items, <see cref="Width"/> per entry), picked one at a
    /// time as Redis does when the count is small against the size: each pick reads one bucket. Needs
    /// <paramref name="count"/> well below <see cref="Count"/> (a third or less, as Redis's own threshold).
    /// </summary>
    public List<byte[]> PickDistinct(int count)
    {
        HashSet<byte[]> seen = new(count, ByteArrayComparer.Instance);
        List<byte[]> picked = new(count * Width);
        while (seen.Count < count && TryPickRandom(out List<byte[]> bucket, out int index))
        {
            if (seen.Add(bucket[index]))
            {
                picked.AddRange(bucket.GetRange(index, Width));
            }
        }

        return picked;
    }

    /// <summary>
    /// Writes what changed: splits while the buckets are too full, then every changed bucket and the root; an empty
    /// collection deletes the key (and with it every bucket). Returns false, with the error written and nothing
    /// stored, when a bucket would not fit in one record.
    /// </summary>
    public bool Save(ReadOnlySpan<byte> key, RecordType type, long expiresAtMs)
    {
        if (Count == 0)
        {
            _context.Session.Delete(_context.Db, key);
            return true;
        }

        if (!CheckBuckets(key))
        {
            return false;
        }

        WriteBuckets();
        if (_rootDirty)
        {
            Span<byte> root = stackalloc byte[RootSize];
            WriteRoot(root, Generation, BucketCount, Flags, Count);
            _context.Session.Write(_context.Db, key, type, root, expiresAtMs);
            _rootDirty = false;
        }

        return true;
    }

    /// <summary>
    /// For an embedded map: splits while the buckets are too full, then checks that every changed bucket fits one record
    /// (false, with the error written, when one does not); <see cref="WriteBuckets"/> then writes them. The owner
    /// checks its own parts between the two, so that nothing is written when anything does not fit.
    /// </summary>
    public bool CheckBuckets(ReadOnlySpan<byte> key)
    {
        while (Count > (long)BucketCount * EntriesPerBucket)
        {
            Split();
        }

        return CollectionParts.FitParts(_context, key, _dirty, _buckets, _encoded);
    }

    /// <summary>Writes every changed bucket (after <see cref="CheckBuckets"/>).</summary>
    public void WriteBuckets()
    {
        CollectionParts.WriteParts(_context, Generation, _dirty, _buckets, _encoded, _context.PartStaging, PartOf);
        _dirty.Clear();
    }

    /// <summary>Writes a root payload (layout in the class summary).</summary>
    internal static void WriteRoot(Span<byte> root, ulong generation, uint buckets, byte flags, long count)
    {
        new PartsDescriptor(generation, 0, buckets).WriteTo(root);
        root[PartsDescriptor.Size] = RootVersion;
        root[PartsDescriptor.Size + 1] = flags;
        BinaryPrimitives.WriteInt64LittleEndian(root[(PartsDescriptor.Size + 2)..], count);
    }

    /// <summary>The bucket of <paramref name="key"/> among <see cref="BucketCount"/> buckets.</summary>
    public uint BucketOf(ReadOnlySpan<byte> key) => BucketOf(XxHash3.HashToUInt64(key), BucketCount);

    internal static uint BucketOf(ulong hash, uint buckets)
    {
        ulong low = 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)buckets));
        ulong b = hash & ((low << 1) - 1);
        return (uint)(b < buckets ? b : hash & (low - 1));
    }

    private void Split()
    {
        uint low = 1u << (31 - System.Numerics.BitOperations.LeadingZeroCount(BucketCount));
        uint from = BucketCount - low;
        uint to = BucketCount;
        List<byte[]> source = Bucket(from);
        List<byte[]> kept = [];
        List<byte[]> moved = [];
        for (int i = 0; i < source.Count; i += Width)
        {
            List<byte[]> target = BucketOf(XxHash3.HashToUInt64(source[i]), to + 1) == from ? kept : moved;
            for (int j = 0; j < Width; j++)
            {
                target.Add(source[i + j]);
            }
        }

        _buckets[from] = kept;
        _encoded.Remove(to);
        _buckets[to] = moved;
        _dirty.Add(from);
        _dirty.Add(to);
        BucketCount = to + 1;
        _rootDirty = true;
    }

    private List<byte[]> Bucket(uint b)
    {
        if (_buckets.TryGetValue(b, out List<byte[]>? bucket))
        {
            return bucket;
        }

        if (_encoded.Remove(b, out PackedItemsBuffer? encoded))
        {
            // Held as bytes so far (its dirty mark stays): from now on as items.
            bucket = PackedItems.Decode(encoded.Payload, out _);
        }
        else
        {
            ArrayBufferWriter<byte> staging = _context.PartStaging;
            staging.ResetWrittenCount();
            bucket = _context.Session.TryReadPart(Generation, PartOf(b), staging) ? PackedItems.Decode(staging.WrittenSpan, out _) : [];
        }

        _buckets[b] = bucket;
        return bucket;
    }

    /// <summary>Bucket <paramref name="b"/> as bytes (read unless already held; a missing bucket is empty).</summary>
    private PackedItemsBuffer Encoded(uint b)
    {
        if (_encoded.TryGetValue(b, out PackedItemsBuffer? encoded))
        {
            return encoded;
        }

        ArrayBufferWriter<byte> staging = _context.PartStaging;
        staging.ResetWrittenCount();
        if (_buckets.Remove(b, out List<byte[]>? items))
        {
            // Held as items so far (its dirty mark stays): from now on as bytes.
            PackedItems.Encode(staging, 0, items);
        }
        else if (!_context.Session.TryReadPart(Generation, PartOf(b), staging))
        {
            PackedItems.Encode(staging, 0, []);
        }

        encoded = new PackedItemsBuffer(staging.WrittenSpan, _context.PartBuffers);
        _encoded[b] = encoded;
        return encoded;
    }

    private uint PartOf(uint bucket) => (bucket * _stride) + _offset;
}
