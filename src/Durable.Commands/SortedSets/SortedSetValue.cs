using Durable.Commands.Collections;
using Durable.Storage;

namespace Durable.Commands.SortedSets;

/// <summary>
/// A sorted set: compact, read whole from its record (members in (score, member) order, plus a member index built on
/// first use), or large, in part records (<see cref="SortedSetTree"/>), where every operation reads only what it needs.
/// Payload items (pinned, see docs): member, score, member, score... in that order, each score 8 bytes little-endian
/// IEEE 754. <see cref="Large"/> is Redis's skiplist encoding, which a sorted set enters past zset-max-listpack-entries
/// members or with a member longer than zset-max-listpack-value bytes (128 and 64 unless CONFIG says otherwise) and
/// never leaves.
/// </summary>
internal sealed class SortedSetValue
{
    // Redis zset-max-listpack-entries and -value (see WithLimits); Redis 7.0's defaults until then.
    private long _maxListpackEntries = 128;
    private long _maxListpackValue = 64;

    private readonly SortedSetTree? _tree;
    private List<ScoredMember>? _items;
    private Dictionary<byte[], double>? _scores;

    public SortedSetValue(bool large = false, int capacity = 0)
    {
        Large = large;
        _items = new List<ScoredMember>(capacity);
    }

    private SortedSetValue(SortedSetTree tree)
    {
        _tree = tree;
        Large = true;
    }

    /// <summary>
    /// The members in order; change them only through this class so the index stays right. For a set kept in part
    /// records (<see cref="SortedSetTree"/>) this reads every leaf: a snapshot for the commands that read the set whole.
    /// </summary>
    public List<ScoredMember> Items => _items ??= _tree!.Walk(0, reverse: false).ToList();

    public int Count => _tree is null ? _items!.Count : (int)_tree.Count;

    public bool Large { get; set; }

    /// <summary>The part-record storage when the set is large (null: the set is compact, one record).</summary>
    public SortedSetTree? Tree => _tree;

    /// <summary>Reads the sorted set of <paramref name="key"/>; an empty set when the key is missing or of another type.</summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out SortedSetValue value, out StoredRecord record)
    {
        context.Scratch.ResetWrittenCount();
        ReadResult result = TypedRecords.Read(context, key, RecordType.SortedSet, context.Scratch, countStats, out record);
        ReadOnlySpan<byte> payload = context.Scratch.WrittenSpan;
        if (result != ReadResult.Found)
        {
            value = new SortedSetValue();
        }
        else if (PartsDescriptor.TryRead(RecordType.SortedSet, payload, out _))
        {
            value = new SortedSetValue(SortedSetTree.Open(context, payload, record.ExpiresAtMs));
        }
        else
        {
            List<byte[]> items = PackedItems.Decode(payload, out byte flags);
            value = FromItems(items, (flags & PackedItems.LargeEncoding) != 0);
        }

        value.WithLimits(context.Server.Config);

        context.Scratch.ResetWrittenCount();
        return result;
    }

    /// <summary>Takes the listpack limits from the configuration (CONFIG SET zset-max-listpack-entries/-value).</summary>
    public SortedSetValue WithLimits(Server.ServerConfig config)
    {
        _maxListpackEntries = config.ZsetMaxListpackEntries;
        _maxListpackValue = config.ZsetMaxListpackValue;
        return this;
    }

    /// <summary>Redis 7.0 zaddGenericCommand: whether a new key starts as a skiplist, given its first member.</summary>
    public static bool StartsLarge(Server.ServerConfig config, int firstMemberLength) =>
        config.ZsetMaxListpackEntries == 0 || firstMemberLength > config.ZsetMaxListpackValue;

    /// <summary>Redis zsetTypeCreate: whether a set built to hold <paramref name="size"/> members starts as a skiplist.</summary>
    public static bool BuiltLarge(Server.ServerConfig config, long size) => size > config.ZsetMaxListpackEntries;

    /// <summary>Builds a set from payload items (member, score bytes, ...), already in order.</summary>
    public static SortedSetValue FromItems(List<byte[]> items, bool large)
    {
        SortedSetValue value = new(large, items.Count / 2);
        for (int i = 0; i + 1 < items.Count; i += 2)
        {
            value._items!.Add(ScoredMember.FromItems(items[i], items[i + 1]));
        }

        return value;
    }

    /// <summary>
    /// Writes the set back to <paramref name="key"/> (deleting the key when empty). A compact set in Redis's skiplist
    /// encoding past <see cref="CollectionRecords.BucketAboveEntries"/> members or <see cref="CollectionRecords.BucketAboveBytes"/>
    /// is stored in part records from then on (<see cref="SortedSetTree"/>). False, with the error written and nothing
    /// stored, when a record would be too large.
    /// </summary>
    public bool Save(CommandContext context, ReadOnlySpan<byte> key, long expiresAtMs)
    {
        if (_tree is not null)
        {
            return _tree.Save(key, expiresAtMs);
        }

        List<byte[]> items = new(Count * 2);
        foreach (ScoredMember item in _items!)
        {
            items.Add(item.Member);
            items.Add(ScoredMember.ScoreBytes(item.Score));
        }

        if (Large && (Count > CollectionRecords.BucketAboveEntries || PackedItems.EncodedLength(items) > CollectionRecords.BucketAboveBytes))
        {
            return SortedSetTree.Create(context, _items, PackedItems.LargeEncoding).Save(key, expiresAtMs);
        }

        return CollectionRecords.Save(context, key, RecordType.SortedSet, Large ? PackedItems.LargeEncoding : (byte)0, items, expiresAtMs);
    }

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score) =>
        _tree is not null ? _tree.TryGetScore(member, out score) : Index().GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(member, out score);

    /// <summary>The 0-based rank of a member known to hold <paramref name="score"/> (compact sets: or the complement of its place).</summary>
    public int RankOf(ReadOnlySpan<byte> member, double score)
    {
        if (_tree is not null)
        {
            return (int)_tree.RankOf(member, score);
        }

        return ScoredMember.Search(_items!, score, member);
    }

    /// <summary>
    /// Up to <paramref name="count"/> members from rank <paramref name="start"/> on, upwards or (<paramref name="reverse"/>)
    /// downwards; a large set reads only the leaves they are in.
    /// </summary>
    public List<ScoredMember> Slice(long start, long count, bool reverse)
    {
        if (_tree is not null)
        {
            return _tree.Walk(start, reverse).Take((int)Math.Min(count, int.MaxValue)).ToList();
        }

        List<ScoredMember> slice = [];
        for (long i = start; slice.Count < count && i >= 0 && i < _items!.Count; i += reverse ? -1 : 1)
        {
            slice.Add(_items[(int)i]);
        }

        return slice;
    }

    /// <summary>
    /// The ranks [first, end) of the members in <paramref name="range"/>, as Redis walks them: from the first member not
    /// below min, while members stay below max (for lex ranges meaningful when all scores are equal, as the commands
    /// require). A large set reads two paths of its tree.
    /// </summary>
    public (int First, int End) Ranks(IMemberRange range)
    {
        if (_tree is not null)
        {
            long start = _tree.FirstRank(range.AboveMin);
            return ((int)start, (int)Math.Max(start, _tree.FirstRank(member => !range.BelowMax(member))));
        }

        List<ScoredMember> items = _items!;
        if (!InRange(range))
        {
            return (0, 0);
        }

        int first = 0;
        while (first < items.Count && !range.AboveMin(items[first]))
        {
            first++;
        }

        int end = first;
        while (end < items.Count && range.BelowMax(items[end]))
        {
            end++;
        }

        return (first, end);
    }

    /// <summary>
    /// The members in <paramref name="range"/> upwards, from the first not below min while below max, read as the caller
    /// takes them: a large set finds the first in one descent of its tree (no ranks needed).
    /// </summary>
    public IEnumerable<ScoredMember> Ascending(IMemberRange range)
    {
        if (_tree is not null)
        {
            return _tree.WalkFrom(range.AboveMin).TakeWhile(range.BelowMax);
        }

        (int first, int end) = Ranks(range);
        return _items!.Skip(first).Take(end - first);
    }

    /// <summary>
    /// The members of a compact set that a ranged read selects, as Redis walks a listpack (zzlFirstInRange,
    /// zzlLastInRange and their lex twins, then genericZrangebyscoreCommand): from the first member not below min (from
    /// the last not above max when <paramref name="reverse"/>), which must also be within the other bound; then
    /// <paramref name="offset"/> members skipped unchecked, then up to <paramref name="limit"/> (negative: all) while
    /// within that other bound. For score ranges, and lex ranges over equal scores, that is a contiguous run; a lex range
    /// over different scores (unspecified in Redis's documentation) is walked the same way, so the reply is Redis's.
    /// </summary>
    public List<ScoredMember> WalkCompact(IMemberRange range, bool reverse, long offset, long limit)
    {
        List<ScoredMember> items = _items!;
        List<ScoredMember> selected = [];
        if (offset < 0 || !InRange(range))
        {
            return selected;
        }

        int step = reverse ? -1 : 1;
        int i = reverse ? items.Count - 1 : 0;
        while (i >= 0 && i < items.Count && !(reverse ? range.BelowMax(items[i]) : range.AboveMin(items[i])))
        {
            i += step;
        }

        if (i < 0 || i >= items.Count || !(reverse ? range.AboveMin(items[i]) : range.BelowMax(items[i])))
        {
            return selected;
        }

        i += (int)Math.Clamp(offset * step, -items.Count, items.Count);
        while (i >= 0 && i < items.Count && limit-- != 0 && (reverse ? range.AboveMin(items[i]) : range.BelowMax(items[i])))
        {
            selected.Add(items[i]);
            i += step;
        }

        return selected;
    }

    /// <summary>
    /// Redis zzlIsInRange / zzlIsInLexRange on a compact set: false when the last member is below min or the first above
    /// max. Implied by the order for score ranges and equal scores; for a lex range over different scores it empties
    /// ranges a walk from the first member not below min would otherwise find something in.
    /// </summary>
    private bool InRange(IMemberRange range) =>
        _items!.Count > 0 && range.AboveMin(_items[^1]) && range.BelowMax(_items[0]);

    /// <summary>A random member of a set that is not empty.</summary>
    public ScoredMember RandomMember() => _tree is not null ? _tree.RandomMember() : _items![Random.Shared.Next(_items.Count)];

    /// <summary>
    /// Adds a member that is not in the set. As Redis's zsetAdd, a listpack turns into a skiplist when the new member
    /// would make it longer than zset-max-listpack-entries or is itself longer than zset-max-listpack-value.
    /// </summary>
    public void Insert(byte[] member, double score)
    {
        if (_tree is not null)
        {
            _tree.Insert(member, score);
            _items = null;
            return;
        }

        if (!Large && (Items.Count + 1 > _maxListpackEntries || member.Length > _maxListpackValue))
        {
            Large = true;
        }

        score = Stored(score);
        int rank = RankOf(member, score);
        _items!.Insert(rank < 0 ? ~rank : rank, new ScoredMember(member, score));
        _scores?.Add(member, score);
    }

    /// <summary>Removes a member; false when it is not in the set.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_tree is not null)
        {
            _items = null;
            return _tree.Remove(member);
        }

        if (!TryGetScore(member, out double score))
        {
            return false;
        }

        int rank = RankOf(member, score);
        _scores?.Remove(_items![rank].Member);
        _items!.RemoveAt(rank);
        return true;
    }

    /// <summary>Removes the members of ranks [start, start + count).</summary>
    public void RemoveRange(int start, int count)
    {
        if (_tree is not null)
        {
            foreach (ScoredMember member in Slice(start, count, reverse: false))
            {
                Remove(member.Member);
            }

            return;
        }

        if (_scores is not null)
        {
            for (int i = start; i < start + count; i++)
            {
                _scores.Remove(_items![i].Member);
            }
        }

        _items!.RemoveRange(start, count);
    }

    /// <summary>Sets the score of a member already in the set, moving it to its new place.</summary>
    public void Update(ReadOnlySpan<byte> member, double oldScore, double newScore)
    {
        if (_tree is not null)
        {
            _tree.Update(member, oldScore, newScore);
            _items = null;
            return;
        }

        newScore = Stored(newScore);
        int rank = RankOf(member, oldScore);
        byte[] stored = _items![rank].Member;
        _items.RemoveAt(rank);
        int place = RankOf(stored, newScore);
        _items.Insert(place < 0 ? ~place : place, new ScoredMember(stored, newScore));
        if (_scores is not null)
        {
            _scores[stored] = newScore;
        }
    }

    /// <summary>
    /// Redis zsetConvertToListpackIfNeeded, for a result built as a skiplist (ZUNIONSTORE and the like): a listpack
    /// when it is small enough, with its scores as a listpack stores them.
    /// </summary>
    public void ShrinkIfSmall()
    {
        if (_tree is not null || !Large || Items.Count > _maxListpackEntries || Items.Exists(item => item.Member.Length > _maxListpackValue))
        {
            return;
        }

        Large = false;
        for (int i = 0; i < Items.Count; i++)
        {
            Items[i] = Items[i] with { Score = Stored(Items[i].Score) };
        }

        _scores = null;
    }

    // A listpack keeps an integral score as an integer (Redis double2ll), so -0 becomes 0; a skiplist keeps the double.
    private double Stored(double score) => !Large && score == 0 ? 0.0 : score;

    private Dictionary<byte[], double> Index()
    {
        if (_scores is null)
        {
            _scores = new Dictionary<byte[], double>(_items!.Count, ByteArrayComparer.Instance);
            foreach (ScoredMember item in _items)
            {
                _scores[item.Member] = item.Score;
            }
        }

        return _scores;
    }
}
