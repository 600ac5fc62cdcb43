namespace Durable.Storage;

/// <summary>Settings of the store; validated by the host before the store opens.</summary>
public sealed record StoreOptions
{
    /// <summary>Directory holding the log segments and checkpoints.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>
    /// The memory budget (at least 64 KiB): the log's in-memory pages, the hash index, the read cache's table of recent
    /// cold reads and the WAL's buffer together (see <see cref="Faster.MemoryBudget"/>).
    /// </summary>
    public long MemoryBytes { get; init; } = 1L << 30;

    /// <summary>Bytes of hash index a new data directory starts with (64-byte buckets, rounded down to a power of two); 0 = a 16th of <see cref="MemoryBytes"/>.</summary>
    public long IndexBytes { get; init; }

    /// <summary>Number of logical databases (Redis <c>databases</c>), 1 to 255.</summary>
    public int Databases { get; init; } = 16;

    /// <summary>Bytes per log segment file on disk.</summary>
    public long SegmentBytes { get; init; } = 1L << 30;

    /// <summary>When write-ahead-log records become durable (Redis appendfsync).</summary>
    public Persistence.FsyncPolicy FsyncPolicy { get; init; } = Persistence.FsyncPolicy.Always;

    /// <summary>Seconds between checkpoints while there are writes (0 = only on demand and by WAL size).</summary>
    public int CheckpointIntervalSeconds { get; init; } = 300;

    /// <summary>A checkpoint starts once the write-ahead log grows past this many bytes.</summary>
    public long CheckpointWalBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Read cache: a record read from disk for the second time within a short window is copied back to the log's tail,
    /// so a hot set that went to disk is read from memory again (docs/storage.md, "Read cache").
    /// </summary>
    public bool ReadCache { get; init; } = true;

    /// <summary>How records on disk are read: io_uring with O_DIRECT, or FASTER's own device (docs/storage.md, "Cold reads: io_uring").</summary>
    public ColdReadIo ColdReadIo { get; init; } = ColdReadIo.Uring;

    /// <summary>Tests only: creates the io_uring of <see cref="ColdReadIo.Uring"/> (given its entries), to make it fail.</summary>
    internal Func<uint, Faster.IoUring>? CreateRing { get; init; }

    /// <summary>Tests only: called instead of stopping the process when a read or write of the store's log fails (<see cref="Faster.FailStopDevice"/>).</summary>
    internal Action<string>? OnLogFault { get; init; }

    /// <summary>
    /// Free bytes kept on the data directory's file system: below them writes are refused (-MISCONF) and reads go on
    /// (<see cref="Faster.DiskSpaceGuard"/>). Negative (the default): <see cref="MemoryBytes"/> plus 64 MiB; 0: never refused.
    /// </summary>
    public long DiskReserveBytes { get; init; } = -1;

    /// <summary>The default <see cref="DiskReserveBytes"/> for a memory budget: room for a checkpoint of it, plus 64 MiB.</summary>
    public static long DefaultDiskReserveBytes(long memoryBytes) => memoryBytes + (64L << 20);

    /// <summary>Tests only: the free bytes of the file system holding a directory, instead of statvfs.</summary>
    internal Func<string, long>? FreeDiskBytes { get; init; }

    /// <summary>Tests only: syncs a directory instead of <see cref="Persistence.DirectorySync.Sync"/> (to see which are synced, and when, or to fail).</summary>
    internal Action<string>? SyncDirectory { get; init; }

    /// <summary>Tests only: runs right after a checkpoint's log metadata is written (it is loadable from then on), to copy the files as a crash there would leave them.</summary>
    internal Action? CheckpointMetadataWritten { get; init; }

    /// <summary>
    /// Tests only: runs in FASTER's RMW, under its epoch, with the address of the record it is about to copy to a new one,
    /// before it allocates that one: to move the head address past the source meanwhile, as another thread's page turn may.
    /// </summary>
    internal Action<long>? BeforeCopyUpdate { get; init; }

    /// <summary>Tests only: called with each compaction copy's address; true makes the compaction stop there, as when FASTER would lose or retry the copy for ever.</summary>
    internal Func<long, bool>? RefuseCompactionCopy { get; init; }

    /// <summary>Tests only: runs in a walk of the log by SCAN, FLUSHDB or RANDOMKEY once each of its batches has met its first record, to move the begin address under the walk.</summary>
    internal Action? DuringKeyWalk { get; init; }

    /// <summary>
    /// Seconds between checks whether the log is worth compacting (0, the default here = never compact). The server sets it
    /// from `compaction-interval` (60 by default); a store opened for a test compacts only when the test says so, so that a
    /// slow run does not compact (and checkpoint) in the middle of what the test counts.
    /// </summary>
    public int CompactionIntervalSeconds { get; init; }

    /// <summary>
    /// Compact once at least this percentage of the log is estimated dead (overwritten, deleted or expired records);
    /// 40 means "the log is 1.67 times the live data" (at 50 it is already twice the live data when a compaction may start).
    /// </summary>
    public int CompactionDeadPercent { get; init; } = 40;

    /// <summary>Clock for expiry; tests substitute a fake.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
