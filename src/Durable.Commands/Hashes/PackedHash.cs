using Durable.Commands.Server;
using Durable.Commands.Collections;
using Durable.Storage;

namespace Durable.Commands.Hashes;

/// <summary>
/// A hash for the length of one command: compact (read whole from its record, <see cref="PackedItems"/>: field, value,
/// field, value... in Redis's listpack order: insertion order, and a field set again keeps its place), or, once large,
/// bucketed (<see cref="BucketedItems"/>: a point operation touches one bucket). Tracks Redis 7.0's encoding, which only
/// ever goes from listpack to hashtable (<see cref="PackedItems.LargeEncoding"/>). Compact lookups scan the pairs; a
/// command that looks up several fields of a large compact hash gets a dictionary built once. Not thread-safe.
/// </summary>
internal sealed class PackedHash
{
    // Below this many fields a scan is as fast as building a dictionary.
    private const int IndexThreshold = 16;

    // Marks the two items of a deleted pair until Compact, compared by reference: an array of its own, as an empty
    // field or value may be the shared Array.Empty instance.
    private static readonly byte[] s_removed = new byte[1];

    private readonly List<byte[]> _items;
    private readonly BucketedItems? _bucketed;
    private Dictionary<byte[], int>? _index;
    private int _lookups;
    private int _removed;

    // Redis hash-max-listpack-entries and hash-max-listpack-value when the hash was read.
    private readonly long _maxListpackEntries;
    private readonly long _maxListpackValue;

    private PackedHash(List<byte[]> items, byte flags, BucketedItems? bucketed, long expiresAtMs, ServerConfig config)
    {
        _maxListpackEntries = config.HashMaxListpackEntries;
        _maxListpackValue = config.HashMaxListpackValue;
        _items = items;
        _bucketed = bucketed;
        Flags = flags;
        ExpiresAtMs = expiresAtMs;
    }

    public byte Flags { get; private set; }

    /// <summary>The buckets of a large hash; null while it is compact.</summary>
    public BucketedItems? Bucketed => _bucketed;

    /// <summary>The key's expiry (0 none), kept when the hash is saved, as Redis's in-place updates keep it.</summary>
    public long ExpiresAtMs { get; }

    public bool IsHashTable => (Flags & PackedItems.LargeEncoding) != 0;

    /// <summary>Number of fields.</summary>
    public int Count => _bucketed is null ? (_items.Count / 2) - _removed : (int)_bucketed.Count;

    /// <summary>Field, value, field, value... in order (a bucketed hash: every bucket read); valid until the next change.</summary>
    public List<byte[]> Items
    {
        get
        {
            if (_bucketed is not null)
            {
                return _bucketed.AllItems();
            }

            Compact();
            return _items;
        }
    }

    /// <summary>
    /// Reads the hash of <paramref name="key"/> (empty when missing or of another type); <paramref name="countStats"/>
    /// as Redis's lookupKeyRead (true) or lookupKeyWrite (false).
    /// </summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out PackedHash hash)
    {
        ReadResult result = CollectionRecords.Read(
            context, key, RecordType.Hash, 2, countStats, out List<byte[]> items, out byte flags, out BucketedItems? bucketed, out StoredRecord record);
        hash = new PackedHash(items, flags, bucketed, result == ReadResult.Found ? record.ExpiresAtMs : 0, context.Server.Config);
        return result;
    }

    /// <summary>
    /// <see cref="Read"/> for a handler: false, with WRONGTYPE written, when the key holds another type; a missing key
    /// reads as an empty hash, which gives every hash command Redis's reply for a missing key.
    /// </summary>
    public static bool TryRead(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out PackedHash hash)
    {
        if (Read(context, key, countStats, out hash) == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return false;
        }

        return true;
    }

    /// <summary>The value of <paramref name="field"/>, or null.</summary>
    public byte[]? Get(ReadOnlySpan<byte> field)
    {
        if (_bucketed is not null)
        {
            return _bucketed.Get(field);
        }

        int i = IndexOf(field);
        return i < 0 ? null : _items[i + 1];
    }

    public bool Contains(ReadOnlySpan<byte> field) => _bucketed?.Contains(field) ?? IndexOf(field) >= 0;

    /// <summary>
    /// Sets a field (a new one goes last); true when it was created. Redis hashTypeSet: a field or value longer than
    /// hash-max-listpack-value converts the hash to a hashtable, as does growing past hash-max-listpack-entries.
    /// </summary>
    public bool Set(ReadOnlySpan<byte> field, byte[] value)
    {
        if (_bucketed is not null)
        {
            return _bucketed.Set(field, value);
        }

        if (field.Length > _maxListpackValue || value.Length > _maxListpackValue)
        {
            Flags |= PackedItems.LargeEncoding;
        }

        int i = IndexOf(field);
        if (i >= 0)
        {
            _items[i + 1] = value;
            return false;
        }

        Compact();
        byte[] copy = field.ToArray();
        _index?.Add(copy, _items.Count);
        _items.Add(copy);
        _items.Add(value);
        if (Count > _maxListpackEntries)
        {
            Flags |= PackedItems.LargeEncoding;
        }

        return true;
    }

    /// <summary>Removes a field; true when it existed.</summary>
    public bool Delete(ReadOnlySpan<byte> field)
    {
        if (_bucketed is not null)
        {
            return _bucketed.Remove(field);
        }

        int i = IndexOf(field);
        if (i < 0)
        {
            return false;
        }

        // Marked rather than removed, so the positions the dictionary holds stay right for the rest of the command.
        _index?.Remove(_items[i]);
        _items[i] = s_removed;
        _items[i + 1] = s_removed;
        _removed++;
        return true;
    }

    /// <summary>
    /// Writes the hash back (deleting the key when no field is left), keeping its expiry; false when it would not fit
    /// in one record, in which case the error is written and nothing changed.
    /// </summary>
    public bool Save(CommandContext context, ReadOnlySpan<byte> key) =>
        _bucketed?.Save(key, RecordType.Hash, ExpiresAtMs) ?? CollectionRecords.Save(context, key, RecordType.Hash, Flags, Items, ExpiresAtMs, width: 2);

    private int IndexOf(ReadOnlySpan<byte> field)
    {
        if (_index is null && ++_lookups > 1 && Count > IndexThreshold)
        {
            Compact();
            _index = new Dictionary<byte[], int>(Count, ByteArrayComparer.Instance);
            for (int j = 0; j < _items.Count; j += 2)
            {
                _index[_items[j]] = j;
            }
        }

        if (_index is not null)
        {
            return _index.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(field, out int found) ? found : -1;
        }

        for (int i = 0; i < _items.Count; i += 2)
        {
            byte[] candidate = _items[i];
            if (!ReferenceEquals(candidate, s_removed) && candidate.AsSpan().SequenceEqual(field))
            {
                return i;
            }
        }

        return -1;
    }

    private void Compact()
    {
        if (_removed == 0)
        {
            return;
        }

        _items.RemoveAll(static item => ReferenceEquals(item, s_removed));
        _removed = 0;
        if (_index is not null)
        {
            _index = null;
            _lookups = 0;
        }
    }
}
