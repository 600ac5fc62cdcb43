using System.Buffers;
using System.Buffers.Binary;
using Durable.Commands.Collections;
using Durable.Storage;

namespace Durable.Commands.SortedSets;

/// <summary>
/// A large sorted set in part records: a member -> score map (<see cref="BucketedItems"/> of width 2, bucket b at part
/// 2b) for ZSCORE and membership, and an order-statistic B+tree over (score, member) (node n at part 2n + 1) for ranks
/// and ranges. A point operation reads and writes the root, one bucket and the tree's path (height ~3 at millions of
/// members); a range reads the path and the leaves it returns.
/// Root payload, version 1: the <see cref="PartsDescriptor"/> (first part 0, count covering every bucket and every
/// node number ever allocated), byte 18 root format version (1), byte 19 flags (<see cref="PackedItems.LargeEncoding"/>),
/// bytes 20..27 the member count (u64), bytes 28..31 the map's bucket count, bytes 32..35 the tree's root node number,
/// bytes 36..39 the next node number to allocate (u32 each, all little-endian).
/// A node is a <see cref="PackedItems"/> payload whose flags byte is its kind: a leaf (0) holds member, score (8 bytes,
/// little-endian IEEE double) pairs in (score, member) order; an inner node (1) holds per child a reference (12 bytes:
/// u32 node number, u64 number of members under it), then the child's lower bound as member, score (every member under
/// child i is at least its bound and below child i+1's bound; child 0's bound is never compared; a bound is the
/// shortest key between two neighbouring members, often a score with an empty member). A node splits past
/// <see cref="NodeBytes"/>; a leaf under a quarter of it merges with a sibling when both fit three quarters; a node
/// left empty is freed (its number is not reused: the descriptor's range has holes).
/// Pinned by SortedSetTreeTests. Lives for one command; not thread-safe.
/// Nodes are edited as bytes (<see cref="PackedItemsBuffer"/>): a point change finds its child or entry by walking the
/// encoded items, changes a child's count in place and splices an entry in or out; only a split, a merge or a removed
/// child decodes a node. A node whose counts changed back to what was read (a member moved within its subtree) is not
/// written again.
/// </summary>
internal sealed class SortedSetTree
{
    public const byte RootVersion = 1;
    public const int RootSize = PartsDescriptor.Size + 22;

    /// <summary>Encoded size past which a node splits.</summary>
    public const int NodeBytes = 1024;

    private const byte LeafKind = 0;
    private const byte InnerKind = 1;
    private const int ChildReferenceSize = 12;

    private readonly CommandContext _context;
    private readonly BucketedItems _map;
    private readonly Dictionary<uint, Node> _nodes = [];
    private readonly HashSet<uint> _dirty = [];
    private readonly HashSet<uint> _freed = [];

    // The path of the insert or removal under way (one at a time), kept so that each does not grow a list of its own.
    private readonly List<(uint Id, Node Node, ChildSlot Slot)> _path = new(4);
    private uint _rootNode;
    private uint _nextNode;

    // The root record as stored (payload and expiry), so that Save leaves it alone when nothing in it changed (a member
    // moved, a score changed); null for a new tree.
    private byte[]? _storedRoot;
    private long _storedExpiresAtMs;

    private SortedSetTree(CommandContext context, BucketedItems map, byte flags, long count, uint rootNode, uint nextNode)
    {
        _context = context;
        _map = map;
        Flags = flags;
        Count = count;
        _rootNode = rootNode;
        _nextNode = nextNode;
    }

    public ulong Generation => _map.Generation;

    public byte Flags { get; }

    public long Count { get; private set; }

    /// <summary>Opens the sorted set whose root payload is <paramref name="root"/>, stored with expiry <paramref name="expiresAtMs"/>.</summary>
    public static SortedSetTree Open(CommandContext context, ReadOnlySpan<byte> root, long expiresAtMs)
    {
        if (!PartsDescriptor.TryRead(RecordType.SortedSet, root, out PartsDescriptor parts) || root.Length < RootSize || root[PartsDescriptor.Size] != RootVersion)
        {
            throw new InvalidDataException(
                $"sorted set root version {(root.Length > PartsDescriptor.Size ? root[PartsDescriptor.Size] : 0)} is not supported by this build (expected {RootVersion})");
        }

        long count = BinaryPrimitives.ReadInt64LittleEndian(root[(PartsDescriptor.Size + 2)..]);
        uint buckets = BinaryPrimitives.ReadUInt32LittleEndian(root[(PartsDescriptor.Size + 10)..]);
        BucketedItems map = BucketedItems.OpenEmbedded(context, 2, parts.Generation, buckets, count, 2, 0);
        return new SortedSetTree(
            context, map, root[PartsDescriptor.Size + 1], count,
            BinaryPrimitives.ReadUInt32LittleEndian(root[(PartsDescriptor.Size + 14)..]),
            BinaryPrimitives.ReadUInt32LittleEndian(root[(PartsDescriptor.Size + 18)..]))
        {
            _storedRoot = root.ToArray(),
            _storedExpiresAtMs = expiresAtMs,
        };
    }

    /// <summary>
    /// A new tree of a fresh generation holding <paramref name="members"/> (in order, distinct), leaves and inner nodes
    /// filled to three quarters of <see cref="NodeBytes"/>; written by <see cref="Save"/>.
    /// </summary>
    public static SortedSetTree Create(CommandContext context, IReadOnlyList<ScoredMember> members, byte flags)
    {
        List<byte[]> pairs = new(members.Count * 2);
        foreach (ScoredMember member in members)
        {
            pairs.Add(member.Member);
            pairs.Add(ScoredMember.ScoreBytes(member.Score));
        }

        BucketedItems map = BucketedItems.CreateEmbedded(context, 2, pairs, PartsDescriptor.NewGeneration(), 2, 0);
        SortedSetTree tree = new(context, map, flags, members.Count, 0, 0);
        List<Child> level = tree.Pack(members, EntrySize, 1, tree.NewLeaf);
        for (int i = 1; i < level.Count; i++)
        {
            level[i].Low = Separator(EntriesOf(tree._nodes[level[i - 1].Id])[^1], EntriesOf(tree._nodes[level[i].Id])[0]);
        }

        while (level.Count > 1)
        {
            level = tree.Pack(level, ChildSize, 2, tree.NewInner);
        }

        tree._rootNode = level[0].Id;
        return tree;
    }

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        byte[]? bytes = _map.Get(member);
        score = bytes is null ? 0 : BinaryPrimitives.ReadDoubleLittleEndian(bytes);
        return bytes is not null;
    }

    /// <summary>Adds a member that is not in the set.</summary>
    public void Insert(byte[] member, double score)
    {
        _map.Set(member, ScoredMember.ScoreBytes(score));
        InsertInTree(new ScoredMember(member, score));
    }

    /// <summary>Removes a member; false when it is not in the set.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!TryGetScore(member, out double score))
        {
            return false;
        }

        _map.Remove(member);
        RemoveFromTree(score, member);
        return true;
    }

    /// <summary>Sets the score of a member already in the set, moving it to its new place.</summary>
    public void Update(ReadOnlySpan<byte> member, double oldScore, double newScore)
    {
        byte[] stored = member.ToArray();
        RemoveFromTree(oldScore, member);
        _map.Set(stored, ScoredMember.ScoreBytes(newScore));
        InsertInTree(new ScoredMember(stored, newScore));
    }

    /// <summary>The 0-based rank of a member known to hold <paramref name="score"/>.</summary>
    public long RankOf(ReadOnlySpan<byte> member, double score)
    {
        Node leaf = LeafFor(score, member, out long rank, out _);
        return FindEntry(leaf, score, member, out int index) < 0 ? throw Inconsistent() : rank + index;
    }

    /// <summary>Reads the path from the root to the leaf where (<paramref name="score"/>, <paramref name="member"/>) is or would be.</summary>
    public void LoadPath(double score, ReadOnlySpan<byte> member) => LeafFor(score, member, out _, out _);

    /// <summary>
    /// The rank of the first member for which <paramref name="reached"/> holds, which must be false then true along the
    /// order (a bound of a score or lex range); <see cref="Count"/> when none. Reads the path to one leaf.
    /// </summary>
    public long FirstRank(Func<ScoredMember, bool> reached)
    {
        long rank = 0;
        Node node = Load(_rootNode);
        while (!node.IsLeaf)
        {
            // Members under children before the last child whose bound is not reached are below that bound: not reached.
            List<Child> children = ReadChildren(node);
            int i = ChildToDescend(children, reached);

            for (int j = 0; j < i; j++)
            {
                rank += children[j].Count;
            }

            node = Load(children[i].Id);
        }

        List<ScoredMember> entries = ReadEntries(node);
        int index = 0;
        while (index < entries.Count && !reached(entries[index]))
        {
            index++;
        }

        return rank + index;
    }

    /// <summary>
    /// The members from rank <paramref name="rank"/> on, upwards or (<paramref name="reverse"/>) downwards, read leaf by
    /// leaf as the caller takes them. Do not change the tree while walking.
    /// </summary>
    public IEnumerable<ScoredMember> Walk(long rank, bool reverse)
    {
        if (rank < 0 || rank >= Count)
        {
            return [];
        }

        List<(List<Child> Children, int Index)> path = [];
        Node node = Load(_rootNode);
        while (!node.IsLeaf)
        {
            List<Child> children = ReadChildren(node);
            int i = 0;
            while (rank >= children[i].Count)
            {
                rank -= children[i].Count;
                i++;
            }

            path.Add((children, i));
            node = Load(children[i].Id);
        }

        return WalkOn(path, ReadEntries(node), (int)rank, reverse);
    }

    /// <summary>
    /// The members upwards from the first for which <paramref name="reached"/> holds (false then true along the order, as
    /// for <see cref="FirstRank"/>), found and walked in one descent, read leaf by leaf as the caller takes them. Do not
    /// change the tree while walking.
    /// </summary>
    public IEnumerable<ScoredMember> WalkFrom(Func<ScoredMember, bool> reached)
    {
        List<(List<Child> Children, int Index)> path = [];
        Node node = Load(_rootNode);
        while (!node.IsLeaf)
        {
            List<Child> children = ReadChildren(node);
            int i = ChildToDescend(children, reached);

            path.Add((children, i));
            node = Load(children[i].Id);
        }

        List<ScoredMember> entries = ReadEntries(node);
        int index = 0;
        while (index < entries.Count && !reached(entries[index]))
        {
            index++;
        }

        return WalkOn(path, entries, index, reverse: false);
    }

    // The last child from 1 on whose bound is not reached, else child 0: where the first reached member lies.
    private static int ChildToDescend(List<Child> children, Func<ScoredMember, bool> reached)
    {
        int low = 1;
        int high = children.Count - 1;
        int found = 0;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            if (reached(children[middle].Low))
            {
                high = middle - 1;
            }
            else
            {
                found = middle;
                low = middle + 1;
            }
        }

        return found;
    }

    // Walks on from entries[position] of the leaf at the end of path, leaf after leaf.
    private IEnumerable<ScoredMember> WalkOn(List<(List<Child> Children, int Index)> path, List<ScoredMember> entries, int position, bool reverse)
    {
        int step = reverse ? -1 : 1;
        while (true)
        {
            for (; position >= 0 && position < entries.Count; position += step)
            {
                yield return entries[position];
            }

            int level = path.Count - 1;
            while (level >= 0 && (uint)(path[level].Index + step) >= (uint)path[level].Children.Count)
            {
                level--;
            }

            if (level < 0)
            {
                yield break;
            }

            path.RemoveRange(level + 1, path.Count - level - 1);
            path[level] = (path[level].Children, path[level].Index + step);
            Node node = Load(path[level].Children[path[level].Index].Id);
            while (!node.IsLeaf)
            {
                List<Child> children = ReadChildren(node);
                int edge = reverse ? children.Count - 1 : 0;
                path.Add((children, edge));
                node = Load(children[edge].Id);
            }

            entries = ReadEntries(node);
            position = reverse ? entries.Count - 1 : 0;
        }
    }

    /// <summary>
    /// About <paramref name="count"/> members (with their scores as 8-byte items) from <paramref name="cursor"/> on, by
    /// the map's scan (<see cref="BucketedItems.Scan"/>: a member present for the whole scan is returned).
    /// </summary>
    public ulong Scan(ulong cursor, int count, List<byte[]> pairs) => _map.Scan(cursor, count, pairs);

    /// <summary>A random member (as <see cref="BucketedItems.TryPickRandom"/>); the set is never empty.</summary>
    public ScoredMember RandomMember()
    {
        _map.TryPickRandom(out List<byte[]> bucket, out int index);
        return ScoredMember.FromItems(bucket[index], bucket[index + 1]);
    }

    /// <summary>
    /// Writes what changed: the map's buckets, every changed node, the deletion of freed nodes, and the root unless it
    /// and its expiry are as stored (a member moved or changed its score: the count, bucket count and node numbers are
    /// unchanged); an empty set deletes the key (and with it every part). Returns false, with the error written and
    /// nothing stored, when a part would not fit in one record.
    /// </summary>
    public bool Save(ReadOnlySpan<byte> key, long expiresAtMs)
    {
        if (Count == 0)
        {
            _context.Session.Delete(_context.Db, key);
            return true;
        }

        if (!_map.CheckBuckets(key))
        {
            return false;
        }

        // Every node is checked before anything is written, so that nothing is written when one does not fit.
        foreach (uint id in _dirty)
        {
            if (!TypedRecords.FitsRecord(_context, key, _nodes[id].Size))
            {
                return false;
            }
        }

        _map.WriteBuckets();
        foreach (uint id in _dirty)
        {
            Node node = _nodes[id];
            if (node.Changed)
            {
                _context.Session.WritePart(Generation, PartOf(id), node.Packed.Payload);
            }

            node.Written();
        }

        foreach (uint id in _freed)
        {
            _context.Session.DeletePart(Generation, PartOf(id));
        }

        _dirty.Clear();
        _freed.Clear();
        Span<byte> root = stackalloc byte[RootSize];
        WriteRoot(root, Generation, Flags, Count, _map.BucketCount, _rootNode, _nextNode);
        if (_storedRoot is not null && expiresAtMs == _storedExpiresAtMs && root.SequenceEqual(_storedRoot))
        {
            return true;
        }

        _context.Session.Write(_context.Db, key, RecordType.SortedSet, root, expiresAtMs);
        _storedRoot = root.ToArray();
        _storedExpiresAtMs = expiresAtMs;
        return true;
    }

    /// <summary>Writes a root payload (layout in the class summary).</summary>
    internal static void WriteRoot(Span<byte> root, ulong generation, byte flags, long count, uint buckets, uint rootNode, uint nextNode)
    {
        new PartsDescriptor(generation, 0, Math.Max(2 * buckets, 2 * nextNode)).WriteTo(root);
        root[PartsDescriptor.Size] = RootVersion;
        root[PartsDescriptor.Size + 1] = flags;
        BinaryPrimitives.WriteInt64LittleEndian(root[(PartsDescriptor.Size + 2)..], count);
        BinaryPrimitives.WriteUInt32LittleEndian(root[(PartsDescriptor.Size + 10)..], buckets);
        BinaryPrimitives.WriteUInt32LittleEndian(root[(PartsDescriptor.Size + 14)..], rootNode);
        BinaryPrimitives.WriteUInt32LittleEndian(root[(PartsDescriptor.Size + 18)..], nextNode);
    }

    /// <summary>Writes a leaf (<paramref name="children"/> null) or an inner node (layout in the class summary).</summary>
    internal static void WriteNode(IBufferWriter<byte> output, IReadOnlyList<ScoredMember>? entries, IReadOnlyList<(uint Id, long Count, ScoredMember Low)>? children)
    {
        Span<byte> score = stackalloc byte[sizeof(double)];
        if (children is null)
        {
            PackedItems.WriteHeader(output, LeafKind, 2 * entries!.Count);
            foreach (ScoredMember entry in entries)
            {
                PackedItems.WriteItem(output, entry.Member);
                BinaryPrimitives.WriteDoubleLittleEndian(score, entry.Score);
                PackedItems.WriteItem(output, score);
            }

            return;
        }

        Span<byte> reference = stackalloc byte[ChildReferenceSize];
        PackedItems.WriteHeader(output, InnerKind, 3 * children.Count);
        foreach ((uint id, long count, ScoredMember low) in children)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(reference, id);
            BinaryPrimitives.WriteInt64LittleEndian(reference[4..], count);
            PackedItems.WriteItem(output, reference);
            PackedItems.WriteItem(output, low.Member);
            BinaryPrimitives.WriteDoubleLittleEndian(score, low.Score);
            PackedItems.WriteItem(output, score);
        }
    }

    /// <summary>The part id of node number <paramref name="node"/> (buckets take the even ids).</summary>
    internal static uint PartOf(uint node) => (2 * node) + 1;

    /// <summary>Encoded size of a leaf entry: the member and its 8-byte score, each with its length prefix.</summary>
    private static long EntrySize(ScoredMember member) => PackedItems.EncodedItemLength(member.Member.Length) + 1 + sizeof(double);

    private static long ChildSize(Child child) => 1 + ChildReferenceSize + EntrySize(child.Low);

    private static InvalidDataException Inconsistent() => new("a sorted set's tree does not hold a member its map holds");

    private static long SizeOf(List<ScoredMember> entries) => PackedItems.HeaderSize + entries.Sum(EntrySize);

    private static long SizeOf(List<Child> children) => PackedItems.HeaderSize + children.Sum(ChildSize);

    private static long CountOf(Node node)
    {
        if (node.IsLeaf)
        {
            return node.Items;
        }

        long count = 0;
        int offset = PackedItemsBuffer.FirstOffset;
        for (int i = 0; i < node.Items; i++)
        {
            count += ReadChild(node.Packed, ref offset).Count;
        }

        return count;
    }

    private static ScoredMember LowOf(Node node)
    {
        int offset = PackedItemsBuffer.FirstOffset;
        if (!node.IsLeaf)
        {
            node.Packed.ItemAt(offset, out offset);
        }

        byte[] member = node.Packed.ItemAt(offset, out offset).ToArray();
        return new ScoredMember(member, BinaryPrimitives.ReadDoubleLittleEndian(node.Packed.ItemAt(offset, out _)));
    }

    /// <summary>A child of an inner node as found in its bytes: its index, the offset of its reference, and the members under the children before it.</summary>
    private readonly record struct ChildSlot(int Index, int Offset, uint Id, long Count, long Before);

    /// <summary>The child's reference at <paramref name="offset"/> (advanced past the child's bound) and the bound's score; the bound's member is <paramref name="low"/>.</summary>
    private static (uint Id, long Count, double LowScore) ReadChild(PackedItemsBuffer items, ref int offset, out ReadOnlySpan<byte> low)
    {
        ReadOnlySpan<byte> reference = items.ItemAt(offset, out offset);
        low = items.ItemAt(offset, out offset);
        double score = BinaryPrimitives.ReadDoubleLittleEndian(items.ItemAt(offset, out offset));
        return (BinaryPrimitives.ReadUInt32LittleEndian(reference), BinaryPrimitives.ReadInt64LittleEndian(reference[4..]), score);
    }

    private static (uint Id, long Count, double LowScore) ReadChild(PackedItemsBuffer items, ref int offset) => ReadChild(items, ref offset, out _);

    /// <summary>The last child from 1 on whose bound is at most (score, member), else child 0.</summary>
    private static ChildSlot FindChild(Node node, double score, ReadOnlySpan<byte> member)
    {
        int offset = PackedItemsBuffer.FirstOffset;
        ChildSlot found = default;
        long before = 0;
        for (int i = 0; i < node.Items; i++)
        {
            int at = offset;
            (uint id, long count, double lowScore) = ReadChild(node.Packed, ref offset, out ReadOnlySpan<byte> low);
            if (i > 0)
            {
                if (ScoredMember.Compare(lowScore, low, score, member) > 0)
                {
                    break;
                }

                before += found.Count;
            }

            found = new ChildSlot(i, at, id, count, before);
        }

        return found;
    }

    /// <summary>
    /// The offset of (score, member) in a leaf, or the complement of the offset where it would go; <paramref name="index"/>
    /// is its entry's index (or the index it would take).
    /// </summary>
    private static int FindEntry(Node leaf, double score, ReadOnlySpan<byte> member, out int index)
    {
        int offset = PackedItemsBuffer.FirstOffset;
        for (index = 0; index < leaf.Items; index++)
        {
            int at = offset;
            ReadOnlySpan<byte> entry = leaf.Packed.ItemAt(offset, out offset);
            int order = ScoredMember.Compare(BinaryPrimitives.ReadDoubleLittleEndian(leaf.Packed.ItemAt(offset, out offset)), entry, score, member);
            if (order >= 0)
            {
                return order == 0 ? at : ~at;
            }
        }

        return ~offset;
    }

    // For reads that change nothing: a node's children or entries decoded once while its bytes stay as they are (a
    // search descends through the same nodes for each of its cells). Callers must not change the lists.
    private static List<Child> ReadChildren(Node inner) => inner.Decoded(ChildrenOf);

    private static List<ScoredMember> ReadEntries(Node leaf) => leaf.Decoded(EntriesOf);

    private static List<ScoredMember> EntriesOf(Node leaf)
    {
        List<ScoredMember> entries = new(leaf.Items);
        int offset = PackedItemsBuffer.FirstOffset;
        for (int i = 0; i < leaf.Items; i++)
        {
            byte[] member = leaf.Packed.ItemAt(offset, out offset).ToArray();
            entries.Add(new ScoredMember(member, BinaryPrimitives.ReadDoubleLittleEndian(leaf.Packed.ItemAt(offset, out offset))));
        }

        return entries;
    }

    private static List<Child> ChildrenOf(Node inner)
    {
        List<Child> children = new(inner.Items);
        int offset = PackedItemsBuffer.FirstOffset;
        for (int i = 0; i < inner.Items; i++)
        {
            (uint id, long count, double lowScore) = ReadChild(inner.Packed, ref offset, out ReadOnlySpan<byte> low);
            children.Add(new Child(id, count, new ScoredMember(low.ToArray(), lowScore)));
        }

        return children;
    }

    private Node NewLeaf(List<ScoredMember> entries)
    {
        ArrayBufferWriter<byte> staging = _context.PartStaging;
        staging.ResetWrittenCount();
        WriteNode(staging, entries, null);
        return new Node(new PackedItemsBuffer(staging.WrittenSpan, _context.PartBuffers));
    }

    private Node NewInner(List<Child> children)
    {
        ArrayBufferWriter<byte> staging = _context.PartStaging;
        staging.ResetWrittenCount();
        WriteNode(staging, null, children.ConvertAll(static c => (c.Id, c.Count, c.Low)));
        return new Node(new PackedItemsBuffer(staging.WrittenSpan, _context.PartBuffers));
    }

    /// <summary>Replaces node <paramref name="id"/>'s items with <paramref name="entries"/> (a leaf) and marks it for writing.</summary>
    private void Reshape(uint id, Node node, List<ScoredMember> entries)
    {
        node.Packed = NewLeaf(entries).Packed;
        MarkReshaped(id, node);
    }

    private void Reshape(uint id, Node node, List<Child> children)
    {
        node.Packed = NewInner(children).Packed;
        MarkReshaped(id, node);
    }

    private void MarkReshaped(uint id, Node node)
    {
        node.Reshaped();
        _dirty.Add(id);
    }

    /// <summary>Adds <paramref name="delta"/> to the member count of a child of node <paramref name="id"/>, in place.</summary>
    private void AddCount(uint id, Node node, ChildSlot slot, long delta)
    {
        Span<byte> reference = node.Packed.WritableItemAt(slot.Offset);
        long count = BinaryPrimitives.ReadInt64LittleEndian(reference[4..]);
        node.Patched(slot.Offset, count);
        BinaryPrimitives.WriteInt64LittleEndian(reference[4..], count + delta);
        _dirty.Add(id);
    }

    // The leaf where (score, member) is or would be, the number of members in the leaves before it, and its number.
    private Node LeafFor(double score, ReadOnlySpan<byte> member, out long rank, out uint id)
    {
        rank = 0;
        id = _rootNode;
        Node node = Load(id);
        while (!node.IsLeaf)
        {
            ChildSlot slot = FindChild(node, score, member);
            rank += slot.Before;
            id = slot.Id;
            node = Load(id);
        }

        return node;
    }

    private void InsertInTree(ScoredMember member)
    {
        List<(uint Id, Node Node, ChildSlot Slot)> path = _path;
        path.Clear();
        uint id = _rootNode;
        Node node = Load(id);
        while (!node.IsLeaf)
        {
            ChildSlot slot = FindChild(node, member.Score, member.Member);
            AddCount(id, node, slot, 1);
            path.Add((id, node, slot));
            id = slot.Id;
            node = Load(id);
        }

        int offset = FindEntry(node, member.Score, member.Member, out _);
        Span<byte> score = stackalloc byte[sizeof(double)];
        BinaryPrimitives.WriteDoubleLittleEndian(score, member.Score);
        node.Packed.InsertPair(offset < 0 ? ~offset : offset, member.Member, score);
        MarkReshaped(id, node);
        Count++;

        // Split up the path while a node is too large (a leaf needs two members, an inner node four children to split).
        for (int level = path.Count; node.Size > NodeBytes && (node.IsLeaf ? node.Items : node.Items / 2) >= 2; level--)
        {
            (Node right, ScoredMember? separator) = Split(id, node);
            long rightCount = CountOf(right);
            Child added = AddFull(right);
            if (separator is { } low)
            {
                added.Low = low;
            }

            if (level == 0)
            {
                Node root = NewInner([new Child(id, CountOf(node), LowOf(node)), added]);
                _rootNode = AddFull(root).Id;
                return;
            }

            (uint parentId, Node parent, ChildSlot at) = path[level - 1];
            List<Child> children = ChildrenOf(parent);
            children[at.Index].Count -= rightCount;
            children.Insert(at.Index + 1, added);
            Reshape(parentId, parent, children);
            id = parentId;
            node = parent;
        }
    }

    private void RemoveFromTree(double score, ReadOnlySpan<byte> member)
    {
        List<(uint Id, Node Node, ChildSlot Slot)> path = _path;
        path.Clear();
        uint id = _rootNode;
        Node node = Load(id);
        while (!node.IsLeaf)
        {
            ChildSlot slot = FindChild(node, score, member);
            AddCount(id, node, slot, -1);
            path.Add((id, node, slot));
            id = slot.Id;
            node = Load(id);
        }

        int offset = FindEntry(node, score, member, out _);
        if (offset < 0)
        {
            throw Inconsistent();
        }

        node.Packed.RemoveAt(offset, 2);
        MarkReshaped(id, node);
        Count--;
        if (node.Items > 0 && path.Count > 0 && node.Size < NodeBytes / 4)
        {
            MergeWithSibling(path[^1].Id, path[^1].Node, path[^1].Slot.Index);
        }

        // An emptied node leaves its parent; a root with one child gives way to it.
        for (int level = path.Count - 1; level >= 0 && node.Items == 0; level--)
        {
            Free(id);
            (id, node, ChildSlot at) = path[level];
            node.Packed.RemoveAt(at.Offset, 3);
            MarkReshaped(id, node);
        }

        Node top = Load(_rootNode);
        while (!top.IsLeaf && top.Items == 1)
        {
            Free(_rootNode);
            int first = PackedItemsBuffer.FirstOffset;
            _rootNode = ReadChild(top.Packed, ref first).Id;
            top = Load(_rootNode);
        }
    }

    /// <summary>
    /// The shortest bound above <paramref name="below"/> and at most <paramref name="from"/> (its successor in the set):
    /// the score alone (empty member) when the scores differ, else the shortest prefix of the member that does it, so
    /// that inner nodes stay small whatever the members' length.
    /// </summary>
    private static ScoredMember Separator(ScoredMember below, ScoredMember from)
    {
        if (below.Score < from.Score)
        {
            return new ScoredMember([], from.Score);
        }

        int common = below.Member.AsSpan().CommonPrefixLength(from.Member);
        return new ScoredMember(from.Member[..Math.Min(from.Member.Length, common + 1)], from.Score);
    }

    /// <summary>
    /// Merges an under-full leaf (child <paramref name="index"/> of node <paramref name="parentId"/>) with its next sibling
    /// (or previous, for the last child) when both fit in three quarters of a node, so that ranges over a set thinned by
    /// removals do not read many nearly empty leaves. Costs one more leaf read.
    /// </summary>
    private void MergeWithSibling(uint parentId, Node parent, int index)
    {
        List<Child> children = ChildrenOf(parent);
        int left = index + 1 < children.Count ? index : index - 1;
        if (left < 0)
        {
            return;
        }

        Node lower = Load(children[left].Id);
        Node upper = Load(children[left + 1].Id);
        if (lower.Size + upper.Size > NodeBytes * 3 / 4)
        {
            return;
        }

        List<ScoredMember> entries = EntriesOf(lower);
        entries.AddRange(EntriesOf(upper));
        Reshape(children[left].Id, lower, entries);
        children[left].Count += children[left + 1].Count;
        Free(children[left + 1].Id);
        children.RemoveAt(left + 1);
        Reshape(parentId, parent, children);
    }

    /// <summary>
    /// Moves the upper half (by bytes) of node <paramref name="id"/> into a new node, which it returns, with the bound
    /// between the halves when they are leaves.
    /// </summary>
    private (Node Right, ScoredMember? Separator) Split(uint id, Node node)
    {
        long half = node.Size / 2;
        if (node.IsLeaf)
        {
            List<ScoredMember> entries = EntriesOf(node);
            int at = 1;
            for (long bytes = EntrySize(entries[0]); at < entries.Count - 1 && bytes + EntrySize(entries[at]) <= half; at++)
            {
                bytes += EntrySize(entries[at]);
            }

            Node right = NewLeaf(entries.GetRange(at, entries.Count - at));
            ScoredMember separator = Separator(entries[at - 1], entries[at]);
            entries.RemoveRange(at, entries.Count - at);
            Reshape(id, node, entries);
            return (right, separator);
        }

        List<Child> children = ChildrenOf(node);
        int split = 2;
        for (long bytes = ChildSize(children[0]) + ChildSize(children[1]); split < children.Count - 2 && bytes + ChildSize(children[split]) <= half; split++)
        {
            bytes += ChildSize(children[split]);
        }

        Node upper = NewInner(children.GetRange(split, children.Count - split));
        children.RemoveRange(split, children.Count - split);
        Reshape(id, node, children);
        return (upper, null);
    }

    /// <summary>
    /// New nodes holding <paramref name="items"/> in order, each filled to three quarters of <see cref="NodeBytes"/>
    /// (at least <paramref name="least"/> items each but the last); returns their references.
    /// </summary>
    private List<Child> Pack<T>(IReadOnlyList<T> items, Func<T, long> size, int least, Func<List<T>, Node> make)
    {
        List<Child> nodes = [];
        List<T> current = [];
        long bytes = 0;
        foreach (T item in items)
        {
            if (current.Count >= least && bytes + size(item) > NodeBytes * 3 / 4)
            {
                nodes.Add(AddFull(make(current)));
                current = [];
                bytes = 0;
            }

            current.Add(item);
            bytes += size(item);
        }

        nodes.Add(AddFull(make(current)));
        return nodes;
    }

    /// <summary>Gives a new node a number, marks it for writing and returns its reference.</summary>
    private Child AddFull(Node node)
    {
        uint id = _nextNode++;
        _nodes[id] = node;
        MarkReshaped(id, node);
        return new Child(id, CountOf(node), LowOf(node));
    }

    private void Free(uint id)
    {
        _nodes.Remove(id);
        _dirty.Remove(id);
        _freed.Add(id);
    }

    private Node Load(uint id)
    {
        if (_nodes.TryGetValue(id, out Node? node))
        {
            return node;
        }

        ArrayBufferWriter<byte> staging = _context.PartStaging;
        staging.ResetWrittenCount();
        if (!_context.Session.TryReadPart(Generation, PartOf(id), staging))
        {
            throw new InvalidDataException($"a sorted set's tree node {id} is missing");
        }

        node = new Node(new PackedItemsBuffer(staging.WrittenSpan, _context.PartBuffers));
        if (node.Packed.Flags is not (LeafKind or InnerKind) || node.Packed.Count % (node.IsLeaf ? 2 : 3) != 0)
        {
            throw new InvalidDataException($"a sorted set's tree node {id} is damaged (kind {node.Packed.Flags}, {node.Packed.Count} items)");
        }

        _nodes[id] = node;
        return node;
    }

    /// <summary>A node in memory, as its encoded payload, and what changed in it since it was read.</summary>
    private sealed class Node(PackedItemsBuffer packed)
    {
        private bool _reshaped;
        private List<(int Offset, long Count)>? _countsRead;
        private object? _decoded;
        private PackedItemsBuffer? _decodedFrom;
        private int _decodedVersion;

        public PackedItemsBuffer Packed { get; set; } = packed;

        public bool IsLeaf => Packed.Flags == LeafKind;

        /// <summary>Entries of a leaf, children of an inner node.</summary>
        public int Items => Packed.Count / (IsLeaf ? 2 : 3);

        public int Size => Packed.Payload.Length;

        /// <summary>Whether the node must be written: new, reshaped, or a child's count not what was read.</summary>
        public bool Changed
        {
            get
            {
                if (_reshaped)
                {
                    return true;
                }

                if (_countsRead is null)
                {
                    return false;
                }

                foreach ((int offset, long count) in _countsRead)
                {
                    if (BinaryPrimitives.ReadInt64LittleEndian(Packed.WritableItemAt(offset)[4..]) != count)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        /// <summary>Items added, removed or replaced: offsets moved, so the count changes are no longer tracked.</summary>
        public void Reshaped()
        {
            _reshaped = true;
            _countsRead = null;
        }

        /// <summary>Notes the count a child's reference at <paramref name="offset"/> held as read, before its first change.</summary>
        public void Patched(int offset, long count)
        {
            if (_reshaped)
            {
                return;
            }

            _countsRead ??= [];
            foreach ((int known, _) in _countsRead)
            {
                if (known == offset)
                {
                    return;
                }
            }

            _countsRead.Add((offset, count));
        }

        /// <summary>What <paramref name="decode"/> makes of the node, decoded again only once its bytes have changed.</summary>
        public List<T> Decoded<T>(Func<Node, List<T>> decode)
        {
            if (_decoded is List<T> list && ReferenceEquals(_decodedFrom, Packed) && _decodedVersion == Packed.Version)
            {
                return list;
            }

            list = decode(this);
            _decoded = list;
            _decodedFrom = Packed;
            _decodedVersion = Packed.Version;
            return list;
        }

        /// <summary>The node as written is the node as read.</summary>
        public void Written()
        {
            _reshaped = false;
            _countsRead = null;
        }
    }

    /// <summary>An inner node's reference to a child: its node number, members under it, lower bound.</summary>
    private sealed class Child(uint id, long count, ScoredMember low)
    {
        public uint Id { get; } = id;

        public long Count { get; set; } = count;

        public ScoredMember Low { get; set; } = low;
    }
}
