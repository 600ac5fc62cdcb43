using System.Buffers.Binary;
using Durable.Commands.Collections;
using Durable.Storage;

namespace Durable.Commands.SortedSets;

/// <summary>
/// A sorted set read whole from its record: members in (score, member) order, plus a member index built on first use.
/// Payload items (pinned, see docs): member, score, member, score... in that order, each score 8 bytes little-endian
/// IEEE 754. <see cref="Large"/> is Redis's skiplist encoding, which a sorted set enters past 128 members or with a
/// member longer than 64 bytes and never leaves (Redis 7.0 defaults, zset-max-listpack-entries/value).
/// </summary>
internal sealed class SortedSetValue
{
    public const int MaxListpackEntries = 128;
    public const int MaxListpackValue = 64;

    private Dictionary<byte[], double>? _scores;

    public SortedSetValue(bool large = false, int capacity = 0)
    {
        Large = large;
        Items = new List<ScoredMember>(capacity);
    }

    /// <summary>The members in order; change them only through this class so the index stays right.</summary>
    public List<ScoredMember> Items { get; }

    public int Count => Items.Count;

    public bool Large { get; set; }

    /// <summary>Reads the sorted set of <paramref name="key"/>; an empty set when the key is missing or of another type.</summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out SortedSetValue value, out StoredRecord record)
    {
        ReadResult result = CollectionRecords.Read(context, key, RecordType.SortedSet, countStats, out List<byte[]> items, out byte flags, out record);
        value = FromItems(items, (flags & PackedItems.LargeEncoding) != 0);
        return result;
    }

    /// <summary>Builds a set from payload items (member, score bytes, ...), already in order.</summary>
    public static SortedSetValue FromItems(List<byte[]> items, bool large)
    {
        SortedSetValue value = new(large, items.Count / 2);
        for (int i = 0; i + 1 < items.Count; i += 2)
        {
            value.Items.Add(new ScoredMember(items[i], BinaryPrimitives.ReadDoubleLittleEndian(items[i + 1])));
        }

        return value;
    }

    /// <summary>
    /// Writes the set back to <paramref name="key"/> (deleting the key when empty). False, with the error written, when
    /// the set does not fit one record.
    /// </summary>
    public bool Save(CommandContext context, ReadOnlySpan<byte> key, long expiresAtMs)
    {
        List<byte[]> items = new(Items.Count * 2);
        foreach (ScoredMember item in Items)
        {
            byte[] bytes = new byte[sizeof(double)];
            BinaryPrimitives.WriteDoubleLittleEndian(bytes, item.Score);
            items.Add(item.Member);
            items.Add(bytes);
        }

        return CollectionRecords.Save(context, key, RecordType.SortedSet, Large ? PackedItems.LargeEncoding : (byte)0, items, expiresAtMs);
    }

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score) =>
        Index().GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(member, out score);

    /// <summary>The 0-based rank of a member known to hold <paramref name="score"/>.</summary>
    public int RankOf(ReadOnlySpan<byte> member, double score)
    {
        int low = 0;
        int high = Items.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            ScoredMember item = Items[middle];
            int order = ScoredMember.Compare(item.Score, item.Member, score, member);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    /// <summary>
    /// Adds a member that is not in the set. As Redis's zsetAdd, a listpack turns into a skiplist when the new member
    /// would make it longer than 128 entries or is itself longer than 64 bytes.
    /// </summary>
    public void Insert(byte[] member, double score)
    {
        if (!Large && (Items.Count + 1 > MaxListpackEntries || member.Length > MaxListpackValue))
        {
            Large = true;
        }

        score = Stored(score);
        int rank = RankOf(member, score);
        Items.Insert(rank < 0 ? ~rank : rank, new ScoredMember(member, score));
        _scores?.Add(member, score);
    }

    /// <summary>Removes a member; false when it is not in the set.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!TryGetScore(member, out double score))
        {
            return false;
        }

        RemoveAt(RankOf(member, score));
        return true;
    }

    public void RemoveAt(int rank)
    {
        _scores?.Remove(Items[rank].Member);
        Items.RemoveAt(rank);
    }

    /// <summary>Removes the members of ranks [start, start + count).</summary>
    public void RemoveRange(int start, int count)
    {
        if (_scores is not null)
        {
            for (int i = start; i < start + count; i++)
            {
                _scores.Remove(Items[i].Member);
            }
        }

        Items.RemoveRange(start, count);
    }

    /// <summary>Sets the score of a member already in the set, moving it to its new place.</summary>
    public void Update(ReadOnlySpan<byte> member, double oldScore, double newScore)
    {
        newScore = Stored(newScore);
        int rank = RankOf(member, oldScore);
        byte[] stored = Items[rank].Member;
        Items.RemoveAt(rank);
        int place = RankOf(stored, newScore);
        Items.Insert(place < 0 ? ~place : place, new ScoredMember(stored, newScore));
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
        if (!Large || Items.Count > MaxListpackEntries || Items.Exists(item => item.Member.Length > MaxListpackValue))
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
            _scores = new Dictionary<byte[], double>(Items.Count, ByteArrayComparer.Instance);
            foreach (ScoredMember item in Items)
            {
                _scores[item.Member] = item.Score;
            }
        }

        return _scores;
    }
}
