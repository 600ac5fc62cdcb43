namespace Durable.Storage;

/// <summary>A key event: the key's logical database and its name (valid during the call only).</summary>
public delegate void KeyEventHandler(int db, ReadOnlySpan<byte> key);

/// <summary>The data set: opened once per process, shared by every connection.</summary>
public interface IStore : IAsyncDisposable
{
    /// <summary>One per client connection; see <see cref="IStoreSession"/> for its threading rules.</summary>
    IStoreSession OpenSession();

    /// <summary>Number of logical databases.</summary>
    int Databases { get; }

    /// <summary>
    /// Largest key length plus payload length (value bytes without the record header) one record can hold: a record
    /// must fit in one log page. Commands refuse larger writes before they reach the store.
    /// </summary>
    long MaxValueBytes { get; }

    /// <summary>Striped key locks that make multi-record commands atomic; see <see cref="KeyLocks"/>.</summary>
    KeyLocks Locks { get; }

    /// <summary>Keys in a logical database, counting expired keys not yet reclaimed (as Redis's DBSIZE does). O(1).</summary>
    long KeyCount(int db);

    /// <summary>Keys with a TTL in a logical database. O(1).</summary>
    long ExpiringKeyCount(int db);

    /// <summary>
    /// True when part of the data set is on disk only (the log has records below its in-memory part), so that reads may
    /// wait for the disk and are worth prefetching (<see cref="IStoreSession.BeginPrefetch"/>). Cheap.
    /// </summary>
    bool HasColdRecords { get; }

    /// <summary>
    /// Called before commands that may wait for the disk run on thread-pool threads (their reads of records on disk
    /// that were not prefetched block the thread), so that the store can make room for such waits. Cheap after the first call.
    /// </summary>
    void PrepareForDiskWaits();

    /// <summary>Why writes must be refused right now (the write-ahead log cannot be written); null when healthy. Cheap.</summary>
    string? WriteFailure { get; }

    /// <summary>
    /// Called with the logical database and name of each expired key the store removes (found by a read, a write or the
    /// expiry cycle; not during recovery), on the thread that removed it, under its key's stripe; null for none.
    /// </summary>
    KeyEventHandler? KeyExpired { get; set; }

    /// <summary>
    /// Called with the logical database and name of each key a write creates (<see cref="IStoreSession.Write"/> where no
    /// live record was, an expired one included), on the writing thread, under its key's stripe; null for none.
    /// </summary>
    KeyEventHandler? KeyCreated { get; set; }

    /// <summary>
    /// Waits until no compaction or index growth runs, and keeps new ones from starting, and the read cache from copying
    /// records, until the returned handle is disposed: with writes held too (every stripe taken), every record stays
    /// where it is, so walks of parts of the log (<see cref="IStoreSession.ScanPartitions"/>) show each key exactly once.
    /// For a walk of the whole data set at one moment (a replica's snapshot).
    /// </summary>
    Task<IDisposable> HoldRecordsInPlaceAsync(CancellationToken cancellationToken);

    /// <summary>Counters and sizes for INFO.</summary>
    StoreStatistics GetStatistics();

    /// <summary>Writes a checkpoint of everything acknowledged so far; returns when it is on disk.</summary>
    ValueTask CheckpointAsync(CancellationToken cancellationToken);
}
