namespace Durable.Commands.Transactions;

/// <summary>
/// Every key some connection WATCHes, with the transactions watching it (Redis's db->watched_keys). A write to a
/// watched key marks its watchers' transactions so that their EXEC fails. Checked by the dispatcher after every write
/// command while its keys' stripes are still held, so that an EXEC (which holds every stripe) sees every write applied
/// before it. Cheap while nobody watches anything.
/// </summary>
internal sealed class WatchedKeys
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Dictionary<byte[], List<Transaction>>> _byDb = [];
    private int _keys;

    /// <summary>Whether any key is watched; read without the lock on every write.</summary>
    public bool Any => Volatile.Read(ref _keys) > 0;

    public void Watch(Transaction transaction, WatchedKey key)
    {
        lock (_gate)
        {
            if (!_byDb.TryGetValue(key.Db, out Dictionary<byte[], List<Transaction>>? keys))
            {
                keys = new Dictionary<byte[], List<Transaction>>(ByteArrayComparer.Instance);
                _byDb[key.Db] = keys;
            }

            if (!keys.TryGetValue(key.Key, out List<Transaction>? watchers))
            {
                watchers = [];
                keys[key.Key] = watchers;
                _keys++;
            }

            watchers.Add(transaction);
            transaction.AddWatched(key);
        }
    }

    /// <summary>UNWATCH, EXEC, DISCARD, RESET or a closed connection: the transaction watches nothing any more.</summary>
    public void UnwatchAll(Transaction transaction)
    {
        if (transaction.Watched.Count == 0)
        {
            transaction.ClearWatched();
            return;
        }

        lock (_gate)
        {
            foreach (WatchedKey key in transaction.Watched)
            {
                if (_byDb.TryGetValue(key.Db, out Dictionary<byte[], List<Transaction>>? keys) &&
                    keys.TryGetValue(key.Key, out List<Transaction>? watchers))
                {
                    watchers.Remove(transaction);
                    if (watchers.Count == 0)
                    {
                        keys.Remove(key.Key);
                        _keys--;
                    }
                }
            }

            transaction.ClearWatched();
        }
    }

    /// <summary>A write changed <paramref name="key"/> in <paramref name="db"/>: its watchers' EXEC will fail.</summary>
    public void Touch(int db, ReadOnlySpan<byte> key)
    {
        lock (_gate)
        {
            if (_byDb.TryGetValue(db, out Dictionary<byte[], List<Transaction>>? keys) &&
                keys.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out List<Transaction>? watchers))
            {
                foreach (Transaction watcher in watchers)
                {
                    watcher.MarkWatchedKeyModified();
                }
            }
        }
    }

    /// <summary>
    /// Before FLUSHDB, FLUSHALL or SWAPDB changes database <paramref name="db"/> whole: marks the watchers of each key
    /// watched there for which <paramref name="changes"/> says the change affects it (Redis touchAllWatchedKeysInDb: a key
    /// that exists in the emptied database, or in the one swapped in).
    /// </summary>
    public void TouchDatabase(int db, Func<byte[], bool> changes)
    {
        lock (_gate)
        {
            if (!_byDb.TryGetValue(db, out Dictionary<byte[], List<Transaction>>? keys))
            {
                return;
            }

            foreach ((byte[] key, List<Transaction> watchers) in keys)
            {
                if (changes(key))
                {
                    foreach (Transaction watcher in watchers)
                    {
                        watcher.MarkWatchedKeyModified();
                    }
                }
            }
        }
    }
}
