using Durable.Commands.Collections;
using Durable.Protocol;

namespace Durable.Commands.Sets;

/// <summary>
/// A set's members as Redis 7.0 encodes them: an intset (every member an integer string2ll accepts, at most
/// set-max-intset-entries, kept sorted numerically) until a member breaks that, then a hashtable for good
/// (<see cref="PackedItems.LargeEncoding"/>), whose members Durable keeps in insertion order while the set is compact
/// and in buckets once it is large (<see cref="BucketedItems"/>: a point operation touches one bucket). Not
/// thread-safe; lives for one command.
/// </summary>
internal sealed class SetMembers
{
    // Marks a removed hashtable member until the list is compacted, so that a removal does not shift the list. Compared
    // by reference, so it must be an array of its own: an empty member is Array.Empty, as [] would be.
    private static readonly byte[] s_removed = new byte[1];

    private readonly List<byte[]> _items;
    private readonly BucketedItems? _bucketed;
    private readonly long _maxIntSetEntries;
    private Dictionary<byte[], int>? _positions;
    private int _removed;

    /// <summary>An empty set, which starts as an intset as Redis's do (up to <paramref name="maxIntSetEntries"/>, Redis's set-max-intset-entries).</summary>
    public SetMembers(long maxIntSetEntries)
        : this([], 0, maxIntSetEntries)
    {
    }

    /// <summary>Takes over <paramref name="items"/> as decoded from a record with <paramref name="flags"/>.</summary>
    public SetMembers(List<byte[]> items, byte flags, long maxIntSetEntries)
    {
        _items = items;
        _maxIntSetEntries = maxIntSetEntries;
        IsLarge = (flags & PackedItems.LargeEncoding) != 0;
    }

    /// <summary>A bucketed set (always in Redis's hashtable encoding).</summary>
    public SetMembers(BucketedItems bucketed)
    {
        _items = [];
        _bucketed = bucketed;
        IsLarge = true;
    }

    /// <summary>The buckets of a large set; null while it is compact.</summary>
    public BucketedItems? Bucketed => _bucketed;

    /// <summary>True once the set is a hashtable; Redis 7.0 never converts back (except where it builds a new set).</summary>
    public bool IsLarge { get; private set; }

    public byte Flags => IsLarge ? PackedItems.LargeEncoding : (byte)0;

    public int Count => _bucketed is null ? _items.Count - _removed : (int)_bucketed.Count;

    /// <summary>The members in their stored order (intset: ascending; hashtable: insertion order; bucketed: bucket order, every bucket read).</summary>
    public List<byte[]> Items
    {
        get
        {
            if (_bucketed is not null)
            {
                return _bucketed.AllItems();
            }

            if (_removed > 0)
            {
                _items.RemoveAll(static item => ReferenceEquals(item, s_removed));
                _removed = 0;
                _positions = null;
            }

            return _items;
        }
    }

    /// <summary>A new set holding <paramref name="members"/>, encoded as Redis encodes a set it builds from scratch.</summary>
    public static SetMembers Build(IEnumerable<byte[]> members, long maxIntSetEntries)
    {
        SetMembers set = new(maxIntSetEntries);
        foreach (byte[] member in members)
        {
            set.Add(member);
        }

        return set;
    }

    /// <summary>A random member of a non-empty set (a bucketed set reads one bucket).</summary>
    public byte[] RandomMember()
    {
        if (_bucketed is not null)
        {
            _bucketed.TryPickRandom(out List<byte[]> bucket, out int index);
            return bucket[index];
        }

        List<byte[]> items = Items;
        return items[Random.Shared.Next(items.Count)];
    }

    public bool Contains(ReadOnlySpan<byte> member)
    {
        if (_bucketed is not null)
        {
            return _bucketed.Contains(member);
        }

        if (!IsLarge)
        {
            return RedisNumber.TryParseInt64(member, out long value) && SearchIntSet(value) >= 0;
        }

        return Positions().GetAlternateLookup<ReadOnlySpan<byte>>().ContainsKey(member);
    }

    /// <summary>Adds a member (copying it when it is new); false when it was there already.</summary>
    public bool Add(ReadOnlySpan<byte> member) => Add(member, null);

    /// <summary>Adds <paramref name="member"/> itself (no copy; the caller gives it up); false when it was there already.</summary>
    public bool Add(byte[] member) => Add(member, member);

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_bucketed is not null)
        {
            return _bucketed.Remove(member);
        }

        if (!IsLarge)
        {
            if (!RedisNumber.TryParseInt64(member, out long value))
            {
                return false;
            }

            int found = SearchIntSet(value);
            if (found < 0)
            {
                return false;
            }

            _items.RemoveAt(found);
            return true;
        }

        Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> lookup = Positions().GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.Remove(member, out _, out int position))
        {
            return false;
        }

        _items[position] = s_removed;
        _removed++;
        return true;
    }

    private bool Add(ReadOnlySpan<byte> member, byte[]? owned)
    {
        if (_bucketed is not null)
        {
            return _bucketed.Set(member, null);
        }

        if (!IsLarge)
        {
            if (RedisNumber.TryParseInt64(member, out long value))
            {
                int found = SearchIntSet(value);
                if (found >= 0)
                {
                    return false;
                }

                _items.Insert(~found, owned ?? member.ToArray());
                if (_items.Count > _maxIntSetEntries)
                {
                    // Redis: the intset converts once it has grown past the limit; the members keep their order.
                    IsLarge = true;
                }

                return true;
            }

            IsLarge = true;
        }

        Dictionary<byte[], int> positions = Positions();
        if (positions.GetAlternateLookup<ReadOnlySpan<byte>>().ContainsKey(member))
        {
            return false;
        }

        byte[] item = owned ?? member.ToArray();
        positions.Add(item, _items.Count);
        _items.Add(item);
        return true;
    }

    private Dictionary<byte[], int> Positions()
    {
        if (_positions is null)
        {
            List<byte[]> items = Items;
            _positions = new Dictionary<byte[], int>(items.Count, ByteArrayComparer.Instance);
            for (int i = 0; i < items.Count; i++)
            {
                _positions.Add(items[i], i);
            }
        }

        return _positions;
    }

    /// <summary>List.BinarySearch's convention over the sorted intset: the index, or the complement of where it would go.</summary>
    private int SearchIntSet(long value)
    {
        int low = 0;
        int high = _items.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            long current = RedisNumber.TryParseInt64(_items[middle], out long parsed)
                ? parsed
                : throw new InvalidDataException("an intset-encoded set holds a member that is not an integer");
            if (current == value)
            {
                return middle;
            }

            if (current < value)
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
}
