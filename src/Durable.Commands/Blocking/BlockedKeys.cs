namespace Durable.Commands.Blocking;

/// <summary>
/// The connections blocked on keys (BLPOP, BLMOVE, BLMPOP...), per key in arrival order, as Redis serves the clients
/// blocked on a key first come, first served. A write to a key wakes the first waiter of each database where none is
/// awake yet (one at a time keeps arrival order, as Redis serves a waiter before the next command runs); the woken
/// waiter retries its command under the key locks and, finding nothing (another client was first), waits again in its
/// place. A waiter that leaves awake without being served (timeout, disconnect) passes its wake-up on, so no write is
/// ever left unserved. Thread-safe; every method takes one short lock.
/// </summary>
internal sealed class BlockedKeys
{
    private readonly Lock _lock = new();
    private readonly Dictionary<byte[], List<KeyWaiter>> _byKey = new(ByteArrayComparer.Instance);
    private int _count;

    /// <summary>Whether any connection is blocked: the dispatcher checks this before signalling the keys of a write.</summary>
    public bool HasWaiters => Volatile.Read(ref _count) > 0;

    public void Add(KeyWaiter waiter)
    {
        lock (_lock)
        {
            foreach (byte[] key in waiter.Keys)
            {
                if (!_byKey.TryGetValue(key, out List<KeyWaiter>? waiters))
                {
                    waiters = [];
                    _byKey.Add(key, waiters);
                }

                waiters.Add(waiter);
            }

            _count++;
        }
    }

    /// <summary>Removes a waiter; one that was woken but not served wakes the next waiters of its keys instead.</summary>
    public void Remove(KeyWaiter waiter, bool served)
    {
        lock (_lock)
        {
            foreach (byte[] key in waiter.Keys)
            {
                if (_byKey.TryGetValue(key, out List<KeyWaiter>? waiters) && waiters.Remove(waiter) && waiters.Count == 0)
                {
                    _byKey.Remove(key);
                }
            }

            _count--;
            if (waiter.IsSignalled && !served)
            {
                foreach (byte[] key in waiter.Keys)
                {
                    WakeFirst(key);
                }
            }
        }
    }

    /// <summary>Re-arms a woken waiter before it retries (see <see cref="KeyWaiter.Rearm"/>).</summary>
    public void Rearm(KeyWaiter waiter)
    {
        lock (_lock)
        {
            waiter.Rearm();
        }
    }

    /// <summary>Called after a write to <paramref name="key"/> (in any database: MOVE and COPY write to another one).</summary>
    public void Signal(ReadOnlySpan<byte> key)
    {
        if (!HasWaiters)
        {
            return;
        }

        lock (_lock)
        {
            if (_byKey.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out List<KeyWaiter>? waiters))
            {
                WakeFirst(waiters);
            }
        }
    }

    /// <summary>Wakes the first waiter of every key: after commands that touch the whole keyspace (SWAPDB, FLUSHALL).</summary>
    public void SignalAll()
    {
        if (!HasWaiters)
        {
            return;
        }

        lock (_lock)
        {
            foreach (List<KeyWaiter> waiters in _byKey.Values)
            {
                WakeFirst(waiters);
            }
        }
    }

    private void WakeFirst(byte[] key)
    {
        if (_byKey.TryGetValue(key, out List<KeyWaiter>? waiters))
        {
            WakeFirst(waiters);
        }
    }

    // The first waiter of each database, unless one of that database is already awake: one awake waiter per key at a time
    // keeps arrival order. The awake one re-arms before it retries, so a write meanwhile wakes it again; once served it
    // signals its keys, which wakes the next (a waiter's key list mixes databases: MOVE and COPY write to another one).
    // Readers (XREAD) all wake: they take nothing, so they keep no order among themselves or with the others.
    private static void WakeFirst(List<KeyWaiter> waiters)
    {
        List<int>? done = null;
        foreach (KeyWaiter waiter in waiters)
        {
            if (waiter.IsSignalled && !waiter.Reader)
            {
                (done ??= []).Add(waiter.Db);
            }
        }

        foreach (KeyWaiter waiter in waiters)
        {
            if (waiter.Reader)
            {
                waiter.Wake();
                continue;
            }

            if (done is not null && done.Contains(waiter.Db))
            {
                continue;
            }

            waiter.Wake();
            (done ??= []).Add(waiter.Db);
        }
    }
}
