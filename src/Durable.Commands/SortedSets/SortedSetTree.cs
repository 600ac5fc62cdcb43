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
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private uint _rootNode;
    private uint _nextNode;

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

    /// <summary>Opens the sorted set whose root payload is <paramref name="root"/>.</summary>
    public static SortedSetTree Open(CommandContext context, ReadOnlySpan<byte> root)
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
            BinaryPrimitives.ReadUInt32LittleEndian(root[(PartsDescriptor.Size + 18)..]));
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
        List<Child> level = tree.Pack(members, EntrySize, 1, Node.Leaf);
        for (int i = 1; i < level.Count; i++)
        {
            level[i].Low = Separator(tree._nodes[level[i - 1].Id].Entries![^1], tree._nodes[level[i].Id].Entries![0]);
        }

        while (level.Count > 1)
        {
            level = tree.Pack(level, ChildSize, 2, Node.Inner);
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
        Node leaf = LeafFor(score, member, out long rank);
        int index = ScoredMember.Search(leaf.Entries!, score, member);
        return index < 0 ? throw Inconsistent() : rank + index;
    }

    /// <summary>Reads the path from the root to the leaf where (<paramref name="score"/>, <paramref name="member"/>) is or would be.</summary>
    public void LoadPath(double score, ReadOnlySpan<byte> member) => LeafFor(score, member, out _);

    // The leaf where (score, member) is or would be, and the number of members in the leaves before it.
    private Node LeafFor(double score, ReadOnlySpan<byte> member, out long rank)
    {
        rank = 0;
        Node node = Load(_rootNode);
        while (node.Children is { } children)
        {
            int i = ChildFor(children, score, member);
            for (int j = 0; j < i; j++)
            {
                rank += children[j].Count;
            }

            node = Load(children[i].Id);
        }

        return node;
    }

    /// <summary>
    /// The rank of the first member for which <paramref name="reached"/> holds, which must be false then true along the
    /// order (a bound of a score or lex range); <see cref="Count"/> when none. Reads the path to one leaf.
    /// </summary>
    public long FirstRank(Func<ScoredMember, bool> reached)
    {
        long rank = 0;
        Node node = Load(_rootNode);
        while (node.Children is { } children)
        {
            // Members under children before the last child whose bound is not reached are below that bound: not reached.
            int low = 1;
            int high = children.Count - 1;
            int i = 0;
            while (low <= high)
            {
                int middle = low + ((high - low) / 2);
                if (reached(children[middle].Low))
                {
                    high = middle - 1;
                }
                else
                {
                    i = middle;
                    low = middle + 1;
                }
            }

            for (int j = 0; j < i; j++)
            {
                rank += children[j].Count;
            }

            node = Load(children[i].Id);
        }

        List<ScoredMember> entries = node.Entries!;
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
            yield break;
        }

        List<(Node Node, int Index)> path = [];
        Node node = Load(_rootNode);
        while (node.Children is { } children)
        {
            int i = 0;
            while (rank >= children[i].Count)
            {
                rank -= children[i].Count;
                i++;
            }

            path.Add((node, i));
            node = Load(children[i].Id);
        }

        int position = (int)rank;
        int step = reverse ? -1 : 1;
        while (true)
        {
            List<ScoredMember> entries = node.Entries!;
            for (; position >= 0 && position < entries.Count; position += step)
            {
                yield return entries[position];
            }

            int level = path.Count - 1;
            while (level >= 0 && (uint)(path[level].Index + step) >= (uint)path[level].Node.Children!.Count)
            {
                level--;
            }

            if (level < 0)
            {
                yield break;
            }

            path.RemoveRange(level + 1, path.Count - level - 1);
            path[level] = (path[level].Node, path[level].Index + step);
            node = Load(path[level].Node.Children![path[level].Index].Id);
            while (node.Children is { } children)
            {
                int edge = reverse ? children.Count - 1 : 0;
                path.Add((node, edge));
                node = Load(children[edge].Id);
            }

            position = reverse ? node.Entries!.Count - 1 : 0;
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
    /// Writes what changed: the map's buckets, every changed node, the deletion of freed nodes, and the root; an empty set
    /// deletes the key (and with it every part). Returns false, with the error written and nothing stored, when a part
    /// would not fit in one record.
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

        // Every node is checked before anything is written, by its exact encoded length, so that none is kept encoded.
        foreach (uint id in _dirty)
        {
            if (!TypedRecords.FitsRecord(_context, key, EncodedLength(_nodes[id])))
            {
                return false;
            }
        }

        _map.WriteBuckets();
        foreach (uint id in _dirty)
        {
            Node node = _nodes[id];
            _buffer.ResetWrittenCount();
            Encode(node, _buffer);
            if (_buffer.WrittenCount != EncodedLength(node))
            {
                throw new InvalidOperationException($"a sorted set's tree node encoded to {_buffer.WrittenCount} bytes, {EncodedLength(node)} were checked");
            }

            _context.Session.WritePart(Generation, PartOf(id), _buffer.WrittenSpan);
        }

        foreach (uint id in _freed)
        {
            _context.Session.DeletePart(Generation, PartOf(id));
        }

        _dirty.Clear();
        _freed.Clear();
        Span<byte> root = stackalloc byte[RootSize];
        WriteRoot(root, Generation, Flags, Count, _map.BucketCount, _rootNode, _nextNode);
        _context.Session.Write(_context.Db, key, RecordType.SortedSet, root, expiresAtMs);
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

    private static long EntrySize(ScoredMember member) => member.Member.Length + sizeof(double) + 7;

    private static long ChildSize(Child child) => ChildReferenceSize + 1 + EntrySize(child.Low);

    private static InvalidDataException Inconsistent() => new("a sorted set's tree does not hold a member its map holds");

    /// <summary>The exact length of a node's payload (<see cref="WriteNode"/>).</summary>
    private static long EncodedLength(Node node)
    {
        int score = PackedItems.EncodedItemLength(sizeof(double));
        long length = PackedItems.HeaderSize;
        if (node.Entries is { } entries)
        {
            foreach (ScoredMember entry in entries)
            {
                length += PackedItems.EncodedItemLength(entry.Member.Length) + score;
            }
        }
        else
        {
            foreach (Child child in node.Children!)
            {
                length += PackedItems.EncodedItemLength(ChildReferenceSize) + PackedItems.EncodedItemLength(child.Low.Member.Length) + score;
            }
        }

        return length;
    }

    /// <summary>Encoded size of a node, as <see cref="PackedItems.EncodedLength"/> would count it (an upper bound).</summary>
    private static long SizeOf(Node node)
    {
        long size = 6;
        if (node.Entries is { } entries)
        {
            foreach (ScoredMember entry in entries)
            {
                size += EntrySize(entry);
            }
        }
        else
        {
            foreach (Child child in node.Children!)
            {
                size += ChildSize(child);
            }
        }

        return size;
    }

    private static long CountOf(Node node) => node.Entries?.Count ?? node.Children!.Sum(static c => c.Count);

    private static ScoredMember LowOf(Node node) => node.Entries is { } entries ? entries[0] : node.Children![0].Low;

    /// <summary>The last child from 1 on whose bound is at most (score, member), else 0.</summary>
    private static int ChildFor(List<Child> children, double score, ReadOnlySpan<byte> member)
    {
        int low = 1;
        int high = children.Count - 1;
        int found = 0;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            ScoredMember bound = children[middle].Low;
            if (ScoredMember.Compare(bound.Score, bound.Member, score, member) <= 0)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found;
    }

    private static void Encode(Node node, IBufferWriter<byte> output) =>
        WriteNode(output, node.Entries, node.Children?.ConvertAll(static c => (c.Id, c.Count, c.Low)));

    private void InsertInTree(ScoredMember member)
    {
        List<(uint Id, Node Node, int Index)> path = [];
        uint id = _rootNode;
        Node node = Load(id);
        while (node.Children is { } children)
        {
            int i = ChildFor(children, member.Score, member.Member);
            children[i].Count++;
            _dirty.Add(id);
            path.Add((id, node, i));
            id = children[i].Id;
            node = Load(id);
        }

        int index = ScoredMember.Search(node.Entries!, member.Score, member.Member);
        node.Entries!.Insert(index < 0 ? ~index : index, member);
        _dirty.Add(id);
        Count++;

        // Split up the path while a node is too large (a leaf needs two members, an inner node four children to split).
        for (int level = path.Count; SizeOf(node) > NodeBytes && (node.Entries?.Count ?? (node.Children!.Count / 2)) >= 2; level--)
        {
            Node right = Split(node);
            long rightCount = CountOf(right);
            Child added = AddFull(right);
            if (node.Entries is { } left)
            {
                added.Low = Separator(left[^1], right.Entries![0]);
            }

            if (level == 0)
            {
                Node root = Node.NewInner();
                root.Children!.Add(new Child(id, CountOf(node), LowOf(node)));
                root.Children.Add(added);
                _rootNode = AddFull(root).Id;
                return;
            }

            (uint parentId, Node parent, int at) = path[level - 1];
            parent.Children![at].Count -= rightCount;
            parent.Children.Insert(at + 1, added);
            id = parentId;
            node = parent;
        }
    }

    private void RemoveFromTree(double score, ReadOnlySpan<byte> member)
    {
        List<(uint Id, Node Node, int Index)> path = [];
        uint id = _rootNode;
        Node node = Load(id);
        while (node.Children is { } children)
        {
            int i = ChildFor(children, score, member);
            children[i].Count--;
            _dirty.Add(id);
            path.Add((id, node, i));
            id = children[i].Id;
            node = Load(id);
        }

        int index = ScoredMember.Search(node.Entries!, score, member);
        if (index < 0)
        {
            throw Inconsistent();
        }

        node.Entries!.RemoveAt(index);
        _dirty.Add(id);
        Count--;
        if (node.Entries.Count > 0 && path.Count > 0 && SizeOf(node) < NodeBytes / 4)
        {
            MergeWithSibling(path[^1]);
        }

        // An emptied node leaves its parent; a root with one child gives way to it.
        for (int level = path.Count - 1; level >= 0 && (node.Entries?.Count ?? node.Children!.Count) == 0; level--)
        {
            Free(id);
            (id, node, int at) = path[level];
            node.Children!.RemoveAt(at);
        }

        Node top = Load(_rootNode);
        while (top.Children is { Count: 1 } only)
        {
            Free(_rootNode);
            _rootNode = only[0].Id;
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
    /// Merges an under-full leaf (child <paramref name="parent"/>.Index of parent) with its next sibling (or previous, for
    /// the last child) when both fit in three quarters of a node, so that ranges over a set thinned by removals do not
    /// read many nearly empty leaves. Costs one more leaf read.
    /// </summary>
    private void MergeWithSibling((uint Id, Node Node, int Index) parent)
    {
        List<Child> children = parent.Node.Children!;
        int left = parent.Index + 1 < children.Count ? parent.Index : parent.Index - 1;
        if (left < 0)
        {
            return;
        }

        Node lower = Load(children[left].Id);
        Node upper = Load(children[left + 1].Id);
        if (SizeOf(lower) + SizeOf(upper) > NodeBytes * 3 / 4)
        {
            return;
        }

        lower.Entries!.AddRange(upper.Entries!);
        children[left].Count += children[left + 1].Count;
        Free(children[left + 1].Id);
        children.RemoveAt(left + 1);
        _dirty.Add(children[left].Id);
        _dirty.Add(parent.Id);
    }

    /// <summary>Moves the upper half (by bytes) of a node into a new node, which it returns.</summary>
    private static Node Split(Node node)
    {
        long half = SizeOf(node) / 2;
        if (node.Entries is { } entries)
        {
            int at = 1;
            for (long bytes = EntrySize(entries[0]); at < entries.Count - 1 && bytes + EntrySize(entries[at]) <= half; at++)
            {
                bytes += EntrySize(entries[at]);
            }

            Node right = Node.NewLeaf();
            right.Entries!.AddRange(entries.GetRange(at, entries.Count - at));
            entries.RemoveRange(at, entries.Count - at);
            return right;
        }

        List<Child> children = node.Children!;
        int split = 2;
        for (long bytes = ChildSize(children[0]) + ChildSize(children[1]); split < children.Count - 2 && bytes + ChildSize(children[split]) <= half; split++)
        {
            bytes += ChildSize(children[split]);
        }

        Node upper = Node.NewInner();
        upper.Children!.AddRange(children.GetRange(split, children.Count - split));
        children.RemoveRange(split, children.Count - split);
        return upper;
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
        _dirty.Add(id);
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

        _buffer.ResetWrittenCount();
        if (!_context.Session.TryReadPart(Generation, PartOf(id), _buffer))
        {
            throw new InvalidDataException($"a sorted set's tree node {id} is missing");
        }

        // Straight from the payload's spans: nodes are read on every change of the set, and the score and reference
        // items need no arrays of their own.
        PackedItems.Reader items = new(_buffer.WrittenSpan);
        if (items.Flags == LeafKind)
        {
            node = Node.NewLeaf();
            for (int i = 0; i + 1 < items.Count; i += 2)
            {
                byte[] member = items.Next().ToArray();
                node.Entries!.Add(new ScoredMember(member, BinaryPrimitives.ReadDoubleLittleEndian(items.Next())));
            }
        }
        else
        {
            node = Node.NewInner();
            for (int i = 0; i + 2 < items.Count; i += 3)
            {
                ReadOnlySpan<byte> reference = items.Next();
                byte[] member = items.Next().ToArray();
                node.Children!.Add(new Child(
                    BinaryPrimitives.ReadUInt32LittleEndian(reference),
                    BinaryPrimitives.ReadInt64LittleEndian(reference[4..]),
                    new ScoredMember(member, BinaryPrimitives.ReadDoubleLittleEndian(items.Next()))));
            }
        }

        _nodes[id] = node;
        return node;
    }

    /// <summary>A node in memory: a leaf (<see cref="Entries"/>) or an inner node (<see cref="Children"/>).</summary>
    private sealed class Node
    {
        public List<ScoredMember>? Entries { get; private init; }

        public List<Child>? Children { get; private init; }

        public static Node NewLeaf() => new() { Entries = [] };

        public static Node NewInner() => new() { Children = [] };

        public static Node Leaf(List<ScoredMember> entries) => new() { Entries = entries };

        public static Node Inner(List<Child> children) => new() { Children = children };
    }

    /// <summary>An inner node's reference to a child: its node number, members under it, lower bound.</summary>
    private sealed class Child(uint id, long count, ScoredMember low)
    {
        public uint Id { get; } = id;

        public long Count { get; set; } = count;

        public ScoredMember Low { get; set; } = low;
    }
}
