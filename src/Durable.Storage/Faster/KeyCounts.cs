using Durable.Storage.Persistence;

namespace Durable.Storage.Faster;

/// <summary>
/// Key and TTL counts per physical database. Besides the live totals every command reads, it keeps what the operations
/// of each FASTER version changed, so that a checkpoint of version v can save the counts of exactly the state it holds
/// (FASTER's checkpoints are consistent by operation version): recovery then loads them instead of recounting the log.
/// Adjustments are made from inside the FASTER callbacks, under the operation's epoch protection, so that every change
/// of version v is in before FASTER can finish the checkpoint of v.
/// </summary>
internal sealed class KeyCounts
{
    /// <summary>Every value of a stored key's database byte.</summary>
    public const int PhysicalDatabases = byte.MaxValue + 1;

    private readonly long[] _keys = new long[PhysicalDatabases];
    private readonly long[] _expiring = new long[PhysicalDatabases];

    // Counts as of the last version completed by a checkpoint.
    private readonly long[] _savedKeys = new long[PhysicalDatabases];
    private readonly long[] _savedExpiring = new long[PhysicalDatabases];

    // Changes of version v, in slot v % 2: FASTER runs at most two consecutive versions at a time, and a checkpoint folds
    // its version's slot before the next checkpoint can start the version that reuses it.
    private readonly long[][] _versionKeys = [new long[PhysicalDatabases], new long[PhysicalDatabases]];
    private readonly long[][] _versionExpiring = [new long[PhysicalDatabases], new long[PhysicalDatabases]];
    private volatile bool _exact = true;

    /// <summary>False after a checkpoint failed part way (its version may have moved without a fold): nothing is saved until restart.</summary>
    public bool Exact => _exact;

    public void Adjust(byte physical, long keys, long expiring, long version)
    {
        int slot = (int)(version & 1);
        if (keys != 0)
        {
            Interlocked.Add(ref _keys[physical], keys);
            Interlocked.Add(ref _versionKeys[slot][physical], keys);
        }

        if (expiring != 0)
        {
            Interlocked.Add(ref _expiring[physical], expiring);
            Interlocked.Add(ref _versionExpiring[slot][physical], expiring);
        }
    }

    public long Keys(byte physical) => Volatile.Read(ref _keys[physical]);

    public long Expiring(byte physical) => Volatile.Read(ref _expiring[physical]);

    public long TotalKeys()
    {
        long keys = 0;
        for (int i = 0; i < PhysicalDatabases; i++)
        {
            keys += Volatile.Read(ref _keys[i]);
        }

        return keys;
    }

    public bool AnyExpiring()
    {
        for (int i = 0; i < PhysicalDatabases; i++)
        {
            if (Volatile.Read(ref _expiring[i]) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sets the counts of a recovered checkpoint's state, before any operation runs.</summary>
    public void Load(ReadOnlySpan<long> keys, ReadOnlySpan<long> expiring)
    {
        keys.CopyTo(_keys);
        keys.CopyTo(_savedKeys);
        expiring.CopyTo(_expiring);
        expiring.CopyTo(_savedExpiring);
        for (int slot = 0; slot < 2; slot++)
        {
            Array.Clear(_versionKeys[slot]);
            Array.Clear(_versionExpiring[slot]);
        }
    }

    /// <summary>
    /// Folds the changes of <paramref name="version"/>, whose checkpoint has completed (so none of its operations is still
    /// running), into the saved counts and returns them; null when the counts can no longer be tied to a version.
    /// </summary>
    public KeyCountsSnapshot? CompleteVersion(long version)
    {
        int slot = (int)(version & 1);
        for (int i = 0; i < PhysicalDatabases; i++)
        {
            _savedKeys[i] += Interlocked.Exchange(ref _versionKeys[slot][i], 0);
            _savedExpiring[i] += Interlocked.Exchange(ref _versionExpiring[slot][i], 0);
        }

        return _exact ? new KeyCountsSnapshot(version, (long[])_savedKeys.Clone(), (long[])_savedExpiring.Clone()) : null;
    }

    public void MarkInexact() => _exact = false;
}
