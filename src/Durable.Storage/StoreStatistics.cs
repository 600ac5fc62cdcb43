namespace Durable.Storage;

/// <summary>A snapshot of store counters for INFO.</summary>
public readonly record struct StoreStatistics(
    long ExpiredKeys,
    long LogMemoryBytes,
    long LogTailAddress,
    long LogHeadAddress,
    long LogBeginAddress,
    long IndexBytes,
    long PendingReads,
    long LastCheckpointUnixSeconds,
    int CheckpointsTaken)
{
    public Persistence.FsyncPolicy FsyncPolicy { get; init; }

    /// <summary>Bytes of write-ahead log not yet covered by a checkpoint (and not yet truncated).</summary>
    public long WalBytes { get; init; }

    public long WalLastCommitUnixMs { get; init; }

    public long WalCommits { get; init; }

    /// <summary>Whether WAL writes bypass the OS page cache (O_DIRECT), which saves a copy per byte logged.</summary>
    public bool WalDirectIO { get; init; }

    /// <summary>WAL writes done with O_DIRECT.</summary>
    public long WalDirectWrites { get; init; }

    /// <summary>Replies to writes that waited for a late everysec commit.</summary>
    public long WalDelayedReplies { get; init; }

    /// <summary>Why the WAL cannot be written right now; null when healthy.</summary>
    public string? WalFailure { get; init; }

    /// <summary>WAL commits that failed since the store opened (each made the store refuse writes).</summary>
    public long WalFaults { get; init; }

    /// <summary>Times writes were accepted again after a WAL failure, without a restart.</summary>
    public long WalResumes { get; init; }

    /// <summary>Free bytes on the data directory's file system at the last check; -1 when not checked (disk-reserve 0).</summary>
    public long DiskFreeBytes { get; init; }

    /// <summary>Free bytes below which writes are refused (0: never).</summary>
    public long DiskReserveBytes { get; init; }

    /// <summary>Times writes began to be refused because the disk was nearly full.</summary>
    public long DiskFullRefusals { get; init; }

    public bool CheckpointInProgress { get; init; }

    public bool LastCheckpointFailed { get; init; }

    public long LastCheckpointMilliseconds { get; init; }

    /// <summary>Compactions completed since the store opened.</summary>
    public long Compactions { get; init; }

    /// <summary>Compactions stopped before they moved the begin address, to keep FASTER from losing or retrying a copy for ever (<see cref="Faster.CompactionCopyGuard"/>).</summary>
    public long CompactionsAbandoned { get; init; }

    /// <summary>Bytes of log address space reclaimed by compaction (the begin address moved by this much) since the store opened.</summary>
    public long CompactedBytes { get; init; }

    /// <summary>Bytes of the read cache's table of recent cold reads (0 when it is off); the copies themselves are log records.</summary>
    public long ColdReadTableBytes { get; init; }

    /// <summary>Records read from disk that the read cache copied back to the log's tail since the store opened.</summary>
    public long ReadCopies { get; init; }

    /// <summary>Records FASTER gave up after a lost race that were repaired in memory, so that scans step over them, since the store opened.</summary>
    public long AbandonedAllocationsRepaired { get; init; }

    /// <summary>
    /// RMW writes issued again because FASTER put their record where the log had already been flushed (a reused
    /// allocation, <see cref="Faster.StoreFunctions"/>), since the store opened.
    /// </summary>
    public long FlushedAllocationRetries { get; init; }

    /// <summary>Disk reads made by commands while they waited for their keys' lock stripes (<see cref="IStoreSession.Warming"/>).</summary>
    public long WarmReads { get; init; }

    /// <summary>Bytes of log segment files on disk.</summary>
    public long LogDiskBytes { get; init; }

    /// <summary>Bytes of overflow buckets FASTER allocated for keys whose bucket was full (never freed); part of the index's memory.</summary>
    public long IndexOverflowBytes { get; init; }

    /// <summary>Bytes of the write-ahead log's in-memory buffer (its pages).</summary>
    public long WalBufferBytes { get; init; }

    /// <summary>The memory budget the store splits between log, index, cold-read table and WAL buffer.</summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>The log's share of the budget: what the index, the cold-read table and the WAL buffer leave.</summary>
    public long LogMemoryLimitBytes { get; init; }

    /// <summary>How records on disk are read: "io_uring" (O_DIRECT) or "faster" (FASTER's device, OS page cache).</summary>
    public string ColdReadIo { get; init; } = "faster";

    /// <summary>Log reads served through io_uring since the store opened.</summary>
    public long DirectReads { get; init; }

    /// <summary>Log reads the io_uring path handed to FASTER's device (alignment, full ring, a segment it could not open).</summary>
    public long DirectReadFallbacks { get; init; }

    /// <summary>
    /// Large collections dropped lazily whose parts the background reaper has yet to delete, and keys of databases
    /// FLUSHDB ASYNC emptied that it has yet to delete (Redis counts a lazily flushed database's keys the same way).
    /// </summary>
    public long LazyFreePendingObjects { get; init; }

    /// <summary>Parts the reaper's queue still names.</summary>
    public long LazyFreePendingParts { get; init; }

    /// <summary>Databases FLUSHDB ASYNC or FLUSHALL ASYNC emptied whose old records the reaper is still deleting.</summary>
    public int LazyFreePendingDatabases { get; init; }

    /// <summary>Collections whose parts the reaper finished deleting since the store opened.</summary>
    public long LazyFreedObjects { get; init; }

    /// <summary>Every record of the store: keys, the parts of large collections, and the store's own metadata.</summary>
    public long Records { get; init; }
}
