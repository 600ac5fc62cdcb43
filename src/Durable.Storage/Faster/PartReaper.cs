using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>What deleting or replacing a record does to the parts its descriptor names.</summary>
internal enum Cascade
{
    /// <summary>Nothing: another record keeps them (RENAME, MOVE), or replay applies the part deletes the WAL holds.</summary>
    None,

    /// <summary>The same command deletes them, logged with it.</summary>
    Now,

    /// <summary>Past <see cref="PartReaper.LazyAbovePartCount"/> parts, the background reaper deletes them (UNLINK, the lazyfree settings).</summary>
    Lazy,
}

/// <summary>
/// Deletes in the background the parts of large collections that a command dropped lazily (UNLINK; DEL, overwrites,
/// expiry and FLUSHDB under the lazyfree settings), and the records of databases FLUSHDB ASYNC emptied (see
/// <see cref="FasterStoreSession.ReapDatabase"/>), as Redis frees such values on a background thread. The command
/// removes the collection's record and adds its parts to the queue record (<see cref="ReapQueue"/>) in the same WAL
/// entry, so the key is gone at once and the reply does not wait for the parts; the reaper then deletes them a slice at a
/// time, each slice logged with the queue's new state in one WAL entry, and after a crash goes on from where the log
/// says it was. The queue holds at most <see cref="MostPendingObjects"/> collections; past that, commands delete
/// the parts themselves.
/// </summary>
internal sealed partial class PartReaper(FasterStore store) : IDisposable
{
    /// <summary>
    /// Collections of at most this many parts (a part holds about 16 members of a hash, set or sorted set, up to 64 of a
    /// list) are deleted by their command: Redis frees values of up to 64 elements at once, and a part costs more to
    /// delete than an element to free, while queueing costs two writes of the queue's record.
    /// </summary>
    public const uint LazyAbovePartCount = 16;

    /// <summary>How many collections may wait in the queue (its record is rewritten by every step: 20 bytes each).</summary>
    public const int MostPendingObjects = 256;

    /// <summary>Parts deleted per step, one WAL entry each.</summary>
    public const uint PartsPerStep = 256;

    private readonly SemaphoreSlim _wake = new(0, 1);
    private long _pendingObjects;
    private long _pendingParts;
    private long _freedObjects;
    private byte[] _dropped = [];
    private long _walksStarted;
    private long _lastWalkCompleted;
    private TaskCompletionSource _walkCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool[] _isDropped = new bool[KeyCounts.PhysicalDatabases];
    private volatile bool _lazyServerDeletes;
    private volatile bool _lazyExpiredKeys;
    private volatile bool _paused;

    /// <summary>Held while the queue record is read, written and its WAL entry appended.</summary>
    public Lock Gate { get; } = new();

    /// <summary>lazyfree-lazy-server-del: the parts of a large collection that a write replaces go to the reaper.</summary>
    public bool LazyServerDeletes
    {
        get => _lazyServerDeletes;
        set => _lazyServerDeletes = value;
    }

    /// <summary>lazyfree-lazy-expire: the parts of a large collection that expires go to the reaper.</summary>
    public bool LazyExpiredKeys
    {
        get => _lazyExpiredKeys;
        set => _lazyExpiredKeys = value;
    }

    /// <summary>Stops the steps (tests: to see the queue before it is worked off, and across a restart).</summary>
    internal bool Paused
    {
        get => _paused;
        set
        {
            _paused = value;
            Wake();
        }
    }

    /// <summary>Collections whose parts are queued (Redis: lazyfree_pending_objects).</summary>
    public long PendingObjects => Volatile.Read(ref _pendingObjects);

    /// <summary>Parts the queue still names (some may not exist: a sorted set's range has holes).</summary>
    public long PendingParts => Volatile.Read(ref _pendingParts);

    /// <summary>Collections whose parts the reaper finished deleting since the store opened (Redis: lazyfreed_objects).</summary>
    public long FreedObjects => Volatile.Read(ref _freedObjects);

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    /// <summary>After <see cref="RunAsync"/> has ended.</summary>
    public void Dispose() => _wake.Dispose();

    /// <summary>Physical databases FLUSHDB ASYNC dropped whose records are still to go, oldest first (as last read).</summary>
    public byte[] Dropped => Volatile.Read(ref _dropped);

    public bool IsDropped(byte physical) => Volatile.Read(ref _isDropped[physical]);

    internal void CountFreed(long objects = 1) => Interlocked.Add(ref _freedObjects, objects);

    /// <summary>How many walks over dropped databases have started (each covers what was dropped before it started).</summary>
    public long WalksStarted => Volatile.Read(ref _walksStarted);

    /// <summary>Numbers a walk that starts now (under <see cref="Gate"/>, with the list it covers).</summary>
    internal long StartWalk() => Interlocked.Increment(ref _walksStarted);

    /// <summary>Walk <paramref name="number"/> has seen every record of its databases and taken them off the list.</summary>
    internal void CompleteWalk(long number)
    {
        Volatile.Write(ref _lastWalkCompleted, number);
        Interlocked.Exchange(ref _walkCompleted, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Completes once walk <paramref name="number"/> (or a later one: they complete in order) has.</summary>
    public async Task WhenWalkCompletedAsync(long number, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task completed = Volatile.Read(ref _walkCompleted).Task;
            if (Volatile.Read(ref _lastWalkCompleted) >= number)
            {
                return;
            }

            await completed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Takes the dropped databases' list just read or written (under <see cref="Gate"/>).</summary>
    internal void CountedDatabases(List<byte> dropped)
    {
        byte[] now = [.. dropped];
        foreach (byte physical in Volatile.Read(ref _dropped))
        {
            Volatile.Write(ref _isDropped[physical], false);
        }

        foreach (byte physical in now)
        {
            Volatile.Write(ref _isDropped[physical], true);
        }

        Volatile.Write(ref _dropped, now);
    }

    /// <summary>Takes the counts of the queue just read or written (under <see cref="Gate"/>).</summary>
    internal void Counted(List<ReapQueue.Entry> queue)
    {
        long parts = 0;
        foreach (ReapQueue.Entry entry in queue)
        {
            parts += entry.Remaining;
        }

        Volatile.Write(ref _pendingObjects, queue.Count);
        Volatile.Write(ref _pendingParts, parts);
    }

    /// <summary>Logs what the queue and the dropped databases hold when the store opens (read by then), if anything.</summary>
    public void ReportQueueAtOpen()
    {
        if (PendingObjects > 0)
        {
            Log.Resuming(store.Logger, PendingObjects, PendingParts);
        }

        byte[] dropped = Dropped;
        if (dropped.Length > 0)
        {
            long keys = store.DroppedKeyCount();
            Log.ResumingDatabases(store.Logger, dropped.Length, keys);
        }
    }

    /// <summary>Works the queue off until <paramref name="cancellationToken"/> is cancelled; sleeps while it is empty.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using FasterStoreSession session = (FasterStoreSession)store.OpenSession();
        while (!cancellationToken.IsCancellationRequested)
        {
            bool more = false;
            if (!_paused && store.WriteFailure is null)
            {
                try
                {
                    more = session.Reap(PartsPerStep);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    Log.StepFailed(store.Logger, exception);
                }
            }

            try
            {
                if (more)
                {
                    // Not a thread held for the whole queue: a step, then the pool's other work.
                    await Task.Yield();
                }
                else
                {
                    await _wake.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 150, Level = LogLevel.Warning, Message = "Deleting the parts of dropped collections failed; retrying in a second")]
        public static partial void StepFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 151, Level = LogLevel.Information, Message = "{Collections} dropped large collections still have {Parts} parts to delete (UNLINK, lazyfree): the reaper goes on in the background (INFO lazyfree_pending_objects)")]
        public static partial void Resuming(ILogger logger, long collections, long parts);

        [LoggerMessage(EventId = 152, Level = LogLevel.Information, Message = "{Databases} databases emptied by FLUSHDB/FLUSHALL ASYNC still have {Keys} old keys to delete: the reaper goes on in the background (INFO durable_lazyfree_pending_databases)")]
        public static partial void ResumingDatabases(ILogger logger, int databases, long keys);
    }
}
