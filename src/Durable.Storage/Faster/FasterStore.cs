using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Durable.Storage.Persistence;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// The store on a FASTER hybrid log. Keys are stored as one byte of physical database number followed by the
/// client's key; logical databases map onto physical ones through a small table (so SWAPDB is O(1)) that is
/// itself a record, key 0xFF "dbmap". Key and TTL counts per database are kept in memory and rebuilt from the
/// log at startup. Persistence: FASTER checkpoints plus a write-ahead log of effects (<see cref="WalRecord"/>);
/// recovery loads the newest checkpoint and replays the log from the position stored inside that checkpoint.
/// </summary>
public sealed partial class FasterStore : IStore
{
    internal const byte MetadataPrefix = 0xFF;
    private const int MinimumPoolThreads = 64;

    // How long a checkpoint holds every stripe waiting for FASTER's version to move (it moves within microseconds: no
    // command runs meanwhile, and idle sessions do not hold it back); past it, commands go on regardless.
    private const int VersionShiftTimeoutMs = 1000;
    private static int s_poolRaised;

    /// <summary>
    /// The index doubles once there are more keys than this per bucket (a bucket holds 7 entries; at an average of 4,
    /// about 5% of buckets overflow), so it stays between 2 and 4 keys per bucket: 16 to 32 bytes of index per key.
    /// </summary>
    private const int KeysPerBucketBeforeGrowth = 4;
    internal static ReadOnlySpan<byte> DatabaseMapKey => [MetadataPrefix, (byte)'d', (byte)'b', (byte)'m', (byte)'a', (byte)'p'];

    private readonly StoreOptions _options;
    private readonly ILogger _logger;
    private readonly SessionReadDevice _device;
    // The log's reads through io_uring, when they are (ColdReadIo.Uring and a ring could be created).
    private readonly DirectReadDevice? _directReads;
    private readonly string _logDirectory;
    private readonly Action<string> _syncDirectory;
    private readonly DiskSpaceGuard _diskSpace;

    /// <summary>The first checkpoint file whose write failed since the current checkpoint began; null while none did.</summary>
    private string? _checkpointWriteFailure;
    private readonly LogSpaceFreer _spaceFreer;
    private readonly KeyCounts _counts = new();
    private readonly byte[] _physical;
    private bool _databaseMapExtended;
    private readonly CancellationTokenSource _stopping = new();
    private readonly RmwValueLength _valueLength = new();
    private readonly SemaphoreSlim _checkpointGate = new(1, 1);
    private readonly LogFrames _frames;
    private FasterWriteAheadLog _wal = null!;
    private Task _expiryLoop = Task.CompletedTask;
    private Task _checkpointLoop = Task.CompletedTask;
    private Task _compactionLoop = Task.CompletedTask;
    private Task _reaperLoop = Task.CompletedTask;
    private Task _diskSpaceLoop = Task.CompletedTask;
    // Set while a compaction or an index growth runs: FASTER's Lookup compaction reads and copies records through the
    // hash index, which must not be resized under it (keys went missing after compaction when the two overlapped).
    private int _reorganizing;
    private bool _recordsHeldInPlace;

    // Where the walks of the log under way may run to (WalkStarted).
    private readonly List<long> _walkEnds = [];
    private int _crowdedIndexReported;
    private int _indexOverBudgetReported;
    private long _compactions;
    private long _compactionsAbandoned;
    private long _compactedBytes;
    private long _walAtLastCheckpoint;
    private int _checkpointInProgress;
    private bool _lastCheckpointFailed;
    private long _lastCheckpointMilliseconds;
    private long _expiredKeys;
    private long _pendingReads;
    private long _readCopies;
    private long _abandonedAllocationsRepaired;
    private long _flushedAllocationRetries;
    private long _warmReads;
    private long _lastCheckpointUnixSeconds;
    private int _checkpointsTaken;

    private FasterStore(StoreOptions options, DataLayout layout, ILogger logger, Func<IDevice, IDevice>? wrapLogDevice)
    {
        _options = options;
        _logger = logger;
        _logDirectory = Path.Combine(options.DataDirectory, "log");
        Directory.CreateDirectory(_logDirectory);
        IDevice device = Devices.CreateLogDevice(Path.Combine(_logDirectory, "hlog"), preallocateFile: false, deleteOnClose: false, recoverDevice: true);
        if (options.ColdReadIo == ColdReadIo.Uring)
        {
            _directReads = DirectReadDevice.TryCreate(device, options.CreateRing ?? (entries => new IoUring(entries)), logger);
            device = _directReads ?? device;
        }
        else
        {
            Log.FasterDeviceReads(logger);
        }

        // A new segment file's first write counts as done once its name is durable too.
        _syncDirectory = options.SyncDirectory ?? DirectorySync.Sync;
        _diskSpace = new DiskSpaceGuard(
            options.DataDirectory, DiskSpaceGuard.ReserveFor(options.DiskReserveBytes, options.MemoryBytes), options.FreeDiskBytes ?? DiskSpaceGuard.AvailableBytes, logger);
        _diskSpace.Check();
        device = new DirectorySyncingDevice(device, options.DataDirectory, _syncDirectory);

        // Outermost, so that it sees every read FASTER issues, whatever the tests wrap in between; just inside it, the
        // device that stops the process on a failed read or write before FASTER sees it (it takes a failed read for an absent record).
        _device = new SessionReadDevice(new FailStopDevice(wrapLogDevice is null ? device : wrapLogDevice(device), logger, options.OnLogFault));

        Budget = new MemoryBudget(options, layout);
        int pageBits = Budget.PageBits;
        int segmentBits = layout.LogSegmentBits;
        PageBytes = 1L << pageBits;
        SegmentBytes = 1L << segmentBits;
        _spaceFreer = new LogSpaceFreer(Path.Combine(_logDirectory, "hlog"), segmentBits, logger);
        Compactor = new LogCompactor(this);
        Reaper = new PartReaper(this);
        ColdReads = options.ReadCache ? new RecentColdReads(Budget.ColdReadTableBytes) : null;
        Kv = new FasterKV<SpanByte, SpanByte>(
            Budget.InitialIndexBuckets,
            new LogSettings
            {
                LogDevice = _device,
                PageSizeBits = pageBits,
                MemorySizeBits = Budget.BufferBits,
                SegmentSizeBits = segmentBits,
                MutableFraction = 0.9,
            },
            // Older checkpoints are removed by RemoveCheckpoints, not by FASTER.
            new CheckpointSettings { CheckpointManager = new WalFirstCheckpointManager(Path.Combine(options.DataDirectory, "checkpoints"), options.DataDirectory, _syncDirectory, path => Interlocked.CompareExchange(ref _checkpointWriteFailure, path, null), CommitWalForCheckpoint, (flushed, snapshotStart) => Log.SnapshotReadWhole(_logger, flushed, snapshotStart), options.CheckpointMetadataWritten) },
            logger: null);
        IndexPrefetch = new IndexPrefetcher(Kv);
        _frames = new LogFrames(Kv, pageBits);
        ApplyMemoryBudget();
        _physical = new byte[options.Databases];
        for (int i = 0; i < _physical.Length; i++)
        {
            _physical[i] = (byte)i;
        }
    }

    internal FasterKV<SpanByte, SpanByte> Kv { get; }

    /// <summary>Prefetches index buckets for the sessions' <see cref="IStoreSession.PrefetchIndexEntry"/>.</summary>
    internal IndexPrefetcher IndexPrefetch { get; }

    internal TimeProvider Time => _options.Time;

    /// <summary>How <see cref="StoreOptions.MemoryBytes"/> is split between the log, the index, the cold-read table and the WAL buffer.</summary>
    internal MemoryBudget Budget { get; }

    /// <summary>Bytes of the hash index: its buckets and the overflow buckets FASTER has allocated (never freed).</summary>
    private long IndexMemoryBytes => (Kv.IndexSize + Kv.OverflowBucketCount) * 64;

    /// <summary>
    /// Gives the log the pages of the budget that the index (at its current size), the cold-read table and the WAL buffer
    /// leave: the rest of its buffer is kept empty. A smaller share evicts the oldest pages as the tail next moves.
    /// </summary>
    private void ApplyMemoryBudget()
    {
        int empty = Budget.EmptyPages(IndexMemoryBytes);
        if (Kv.Log.EmptyPageCount != empty)
        {
            Kv.Log.SetEmptyPageCount(empty);
        }
    }

    /// <summary>
    /// After recovery, brings the log down to its share. FASTER moves the head only as the tail enters a new page, and
    /// never past what is flushed: the pages the checkpoint loaded and those the replay appended (the replay adds overflow
    /// buckets as it adds keys, so its share shrank meanwhile) stayed in memory until writes moved the tail again
    /// (measured: 214 MB of log against a 61 MB share after a restart at 20M keys under 256 MB). This flushes them and evicts them, waiting for both.
    /// </summary>
    private void EvictToBudget() => Kv.Log.SetEmptyPageCount(Budget.EmptyPages(IndexMemoryBytes), wait: true);

    /// <summary>
    /// Warns once when the index (overflow buckets included, which FASTER never frees) leaves the log less than its
    /// minimum of pages: from then on the store takes more than the budget, by as much as the index grows.
    /// </summary>
    internal void ReportIndexOverBudget()
    {
        long index = IndexMemoryBytes;
        if (!Budget.Affords(index) && Interlocked.Exchange(ref _indexOverBudgetReported, 1) == 0)
        {
            Log.IndexFillsBudget(_logger, TotalKeyCount(), index, Kv.OverflowBucketCount * 64, Budget.BudgetBytes, Budget.LogMemoryLimitBytes(index));
        }
    }

    /// <summary>Size of a log page: one record (key, value and headers) must fit in one page.</summary>
    public long PageBytes { get; }

    /// <summary>Size of a log segment file; compaction frees disk space a whole segment at a time.</summary>
    internal long SegmentBytes { get; }

    internal int CompactionDeadPercent => _options.CompactionDeadPercent;

    internal Action? DuringKeyWalk => _options.DuringKeyWalk;

    /// <summary>
    /// Registers a walk of the log (SCAN, KEYS, RANDOMKEY, FLUSHDB, expiry, key counting) that must reach
    /// <paramref name="end"/>; returns where its iterator may run to: the tail, at least <paramref name="end"/>. A compaction
    /// never moves the begin address past that while the walk is registered (<see cref="CapBelowWalks"/>).
    /// </summary>
    internal long WalkStarted(long end)
    {
        lock (_walkEnds)
        {
            // Read under the lock: a compaction that capped its range before this saw a head address at most this tail.
            long walkEnd = Math.Max(end, Kv.Log.TailAddress);
            _walkEnds.Add(walkEnd);
            return walkEnd;
        }
    }

    internal void WalkEnded(long walkEnd)
    {
        lock (_walkEnds)
        {
            _walkEnds.Remove(walkEnd);
        }
    }

    /// <summary>
    /// <paramref name="untilAddress"/>, lowered to the lowest end of the walks under way: a walk started earlier may have
    /// an end below the head address of now, if the log grew by more than its memory since.
    /// </summary>
    private long CapBelowWalks(long untilAddress)
    {
        lock (_walkEnds)
        {
            foreach (long walkEnd in _walkEnds)
            {
                untilAddress = Math.Min(untilAddress, walkEnd);
            }

            return untilAddress;
        }
    }

    internal LogCompactor Compactor { get; }

    /// <summary>Deletes the parts of large collections dropped lazily (UNLINK, the lazyfree settings), in the background.</summary>
    internal PartReaper Reaper { get; }

    internal ILogger Logger => _logger;

    /// <summary>lazyfree-lazy-server-del: a write replacing a large collection leaves its parts to the background reaper.</summary>
    public bool LazyFreeServerDeletes
    {
        get => Reaper.LazyServerDeletes;
        set => Reaper.LazyServerDeletes = value;
    }

    /// <summary>lazyfree-lazy-expire: an expired large collection leaves its parts to the background reaper.</summary>
    public bool LazyFreeExpiredKeys
    {
        get => Reaper.LazyExpiredKeys;
        set => Reaper.LazyExpiredKeys = value;
    }

    /// <summary>
    /// Largest key plus value this store accepts: a record must fit in a log page, and its WAL record (at most about 50
    /// bytes more, in a batch part) in a WAL entry of a WAL page (as large) less 64 bytes.
    /// </summary>
    public long MaxRecordBytes => PageBytes - MaxRecordMargin;

    private const int MaxRecordMargin = 192;

    /// <summary>Key plus payload: the record less its header and the database byte that prefixes every stored key.</summary>
    public long MaxValueBytes => MaxRecordBytes - RecordHeader.Size - 1;

    public int Databases => _options.Databases;

    public KeyLocks Locks { get; } = new();

    /// <summary>Opens (and recovers, when the directory holds a checkpoint) the store in <see cref="StoreOptions.DataDirectory"/>.</summary>
    public static Task<FasterStore> OpenAsync(StoreOptions options, ILogger logger) => OpenAsync(options, logger, wrapWalDevice: null, wrapLogDevice: null);

    /// <summary>
    /// Tests only: <paramref name="wrapWalDevice"/> wraps the write-ahead log's device and <paramref name="wrapLogDevice"/>
    /// the store log's (see <see cref="FaultInjectingDevice"/>).
    /// </summary>
    internal static async Task<FasterStore> OpenAsync(StoreOptions options, ILogger logger, Func<IDevice, IDevice>? wrapWalDevice, Func<IDevice, IDevice>? wrapLogDevice)
    {
        if (options.Databases is < 1 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "databases must be between 1 and 255");
        }

        FasterStore store = new(options, OpenLayout(options, logger), logger, wrapLogDevice);
        if (store._directReads is null)
        {
            // FASTER's device reads on pool threads (a blocking pread each), so any cold read needs the pool's threads.
            store.PrepareForDiskWaits();
        }

        try
        {
            store._wal = FasterWriteAheadLog.Open(Path.Combine(options.DataDirectory, "wal"), store.Budget.WalPageBits, options.FsyncPolicy, options.Time, logger, wrapWalDevice, options.SyncDirectory);
            bool checkpointFirst = store.Recover();
            // The checkpoint recovered from holds the begin address: the space below it is free (again, or for the first
            // time after a crash between a compaction's checkpoint and its freeing), and the log's size on disk says so.
            store._spaceFreer.FreeBelow(store.Kv.Log.BeginAddress);
            store.EvictToBudget();
            if (checkpointFirst)
            {
                // Either the checkpoint says "replay from A" but the WAL ends before A (its tail past the last commit was
                // lost while the checkpoint survived), so new records would land below A and a later recovery would skip
                // them; or replay cut a torn tail, which new records would follow and make look like damage in the middle.
                // A checkpoint now points replay at the WAL's real end before anything is appended.
                await store.CheckpointAsync(CancellationToken.None);
            }

            store._wal.EnsureCommitFile();
            using (FasterStoreSession session = (FasterStoreSession)store.OpenSession())
            {
                // The queue a crash or a stop left: read now, so that a record this build cannot read stops the start
                // (with the reason) and INFO counts what is pending from the first command.
                lock (store.Reaper.Gate)
                {
                    session.ReadReapQueue();
                    session.ReadDroppedDatabases();
                }

                if (store._databaseMapExtended)
                {
                    // Logged before any write to the added databases: a later start replays the numbers they were given.
                    session.SaveDatabaseMap(store._physical);
                    session.CompleteCommand();
                }
            }

            store.Reaper.ReportQueueAtOpen();
            store._reaperLoop = Task.Run(() => store.Reaper.RunAsync(store._stopping.Token));
            store._expiryLoop = Task.Run(() => new ExpiryCycle(store).RunAsync(store._stopping.Token));
            store._checkpointLoop = Task.Run(() => store.RunCheckpointLoopAsync(store._stopping.Token));
            store._diskSpaceLoop = Task.Run(() => store.RunDiskSpaceLoopAsync(store._stopping.Token));
            if (options.CompactionIntervalSeconds > 0)
            {
                store._compactionLoop = Task.Run(() => store.Compactor.RunAsync(TimeSpan.FromSeconds(options.CompactionIntervalSeconds), store._stopping.Token));
            }

            return store;
        }
        catch
        {
            if (store._wal is not null)
            {
                await store._wal.DisposeAsync();
            }

            store.Kv.Dispose();
            store._device.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The page and segment sizes of the data directory: those it was created with (saved in it), whatever the options
    /// say now, since FASTER misreads a log written with other sizes (it crashed the process). Says so when they differ.
    /// </summary>
    private static DataLayout OpenLayout(StoreOptions options, ILogger logger)
    {
        DataLayout proposed = MemoryBudget.Propose(options);
        string log = Path.Combine(options.DataDirectory, "log");
        string wal = Path.Combine(options.DataDirectory, "wal");
        bool existing = (Directory.Exists(log) && Directory.EnumerateFileSystemEntries(log).Any())
            || (Directory.Exists(wal) && Directory.EnumerateFileSystemEntries(wal).Any());
        // A directory with data but no layout file was written before directories recorded theirs, with that time's pages.
        DataLayout layout = DataLayoutFile.LoadOrCreate(options.DataDirectory, existing ? MemoryBudget.ProposeUnrecorded(options) : proposed, options.SyncDirectory ?? DirectorySync.Sync, out bool saved);
        if (!saved && existing)
        {
            Log.LayoutAssumed(logger, options.DataDirectory, 1L << layout.LogPageBits, 1L << layout.LogSegmentBits);
        }
        else if (layout.LogPageBits != proposed.LogPageBits || layout.WalPageBits != proposed.WalPageBits)
        {
            Log.PageSizeKept(logger, 1L << layout.LogPageBits, options.MemoryBytes, 1L << proposed.LogPageBits, (1L << layout.LogPageBits) - MaxRecordMargin);
        }

        if (layout.LogSegmentBits != proposed.LogSegmentBits)
        {
            Log.SegmentSizeKept(logger, 1L << layout.LogSegmentBits, options.SegmentBytes);
        }

        return layout;
    }

    /// <summary>
    /// Loads the newest checkpoint and replays the WAL; true when a checkpoint must be taken before any write: the
    /// checkpoint is ahead of the WAL's end, or replay cut a torn tail that new records must not follow.
    /// </summary>
    private bool Recover()
    {
        string checkpoints = Path.Combine(_options.DataDirectory, "checkpoints", "cpr-checkpoints");
        bool hasCheckpoint = Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints).Any();
        bool hasLog = Directory.EnumerateFiles(Path.Combine(_options.DataDirectory, "log")).Any(f => new FileInfo(f).Length > 0);
        bool hasWal = _wal.CommittedAddress > _wal.BeginAddress;
        Stopwatch watch = Stopwatch.StartNew();
        long replayFrom = 0;
        (Guid Token, long Version, HybridLogRecoveryInfo Info)? loadable = hasCheckpoint ? FindLoadableCheckpoint(checkpoints) : null;
        if (hasCheckpoint && loadable is null && _wal.BeginAddress == FasterWriteAheadLog.FreshBeginAddress)
        {
            // Only checkpoints that crashed before writing their metadata, and a WAL never truncated (truncation
            // follows a completed checkpoint): the first checkpoint never finished, and the WAL holds every write.
            Log.NoCompleteCheckpoint(_logger, checkpoints);
            hasCheckpoint = false;
        }

        if (hasCheckpoint)
        {
            // Recover() (not TryRecoverLatest) so that a damaged checkpoint stops startup instead of starting empty.
            // FASTER itself skips a checkpoint whose metadata is missing (a crash in the middle of it) and takes the
            // previous one; HasLoadableCheckpoint has refused one whose snapshot file is gone.
            try
            {
                // By token: FASTER 2.6.5's own choice is the most recently written folder (see FindLoadableCheckpoint).
                if (loadable is { } newest)
                {
                    RepairAbandonedRecordsBeforeRecovery(Path.Combine(checkpoints, newest.Token.ToString()), newest.Info);
                    Kv.Recover(newest.Token);
                }
                else
                {
                    Kv.Recover();
                }

                IndexPrefetch.Refresh();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // FasterException or IOException for a damaged checkpoint, but FASTER 2.6.5 also fails with others (an
                // ArgumentOutOfRangeException for a checkpoint whose metadata it cannot follow): the operator's answer is the same.
                throw new InvalidDataException(
                    $"no checkpoint in '{checkpoints}' can be loaded ({exception.Message}); refusing to start without the data it holds. " +
                    "Restore the data directory from a backup.", exception);
            }

            // The checkpoint holds the index at the size it had grown to, overflow buckets included, which the log's
            // share must leave room for before the replay appends to it.
            ApplyMemoryBudget();
            replayFrom = CheckpointCookie.Decode(Kv.RecoveredCommitCookie);
            if (replayFrom < _wal.BeginAddress)
            {
                throw new InvalidDataException(
                    $"the checkpoint loaded needs the write-ahead log from address {replayFrom}, but the log begins at {_wal.BeginAddress}: " +
                    "a newer checkpoint that covered the gap is missing or damaged. Refusing to start without the acknowledged writes in between; " +
                    "restore the data directory from a backup.");
            }

            Log.CheckpointLoaded(_logger, Kv.Log.TailAddress - Kv.Log.BeginAddress, watch.ElapsedMilliseconds);
            if (replayFrom < _wal.CommittedAddress)
            {
                // Kept although it costs the replay its in-memory records (10M keys + 1M WAL records: 12.5-13.3 s against
                // 7.1-7.5 s without it): builds without it lost acknowledged data in 2 of 5 crash-tool runs (seed 1807:
                // records read but not scanned after a restart, then a collection's part missing), builds with it in
                // none; why is not known yet (docs/persistence.md). First added against replays that retried for ever
                // on records FASTER 2.6.5 left sealed in memory, which reading the whole snapshot now prevents.
                Kv.Log.FlushAndEvict(wait: true);
            }
        }
        else if (hasLog && !hasWal && WalNeverCommitted(out long uncommittedBytes))
        {
            // The process stopped before the WAL's first commit (everysec, no) and before any checkpoint: no reply ever
            // promised these writes (with always, none is sent before its commit), so an empty start loses nothing owed.
            Log.NothingCommitted(_logger, uncommittedBytes, _options.DataDirectory);
            _walAtLastCheckpoint = _wal.TailAddress;
            return false;
        }
        else if (hasLog && !hasWal)
        {
            throw new InvalidDataException(
                $"the data directory '{_options.DataDirectory}' holds log files but neither a checkpoint nor a write-ahead log to recover them from; " +
                "refusing to start empty over existing data. Move the directory away to start fresh.");
        }
        else if (!hasWal)
        {
            Log.StartingEmpty(_logger, _options.DataDirectory);
            _walAtLastCheckpoint = _wal.TailAddress;
            return false;
        }

        using FasterStoreSession session = OpenRecoverySession();
        bool recount = loadable is { } checkpoint && !TryLoadKeyCounts(Path.Combine(checkpoints, checkpoint.Token.ToString()), checkpoint.Version);
        long replayed = ReplayWal(session, replayFrom, out bool torn);

        // After the replay, which may change the map (SWAPDB, FLUSHDB ASYNC) and the dropped databases that databases
        // added since the last start must not be given.
        _databaseMapExtended = session.LoadDatabaseMap(_physical);
        if (recount)
        {
            // After the replay, whose own counting this replaces: the replay writes anew every key whose record on disk an
            // operation of the checkpoint's next version sealed, and FASTER's scans skip a sealed record (docs/persistence.md).
            CountKeysOfTheWholeLog(session);
        }

        _walAtLastCheckpoint = replayFrom;
        long records = _counts.TotalKeys();
        long keys = UserKeyCount();
        Log.Recovered(_logger, keys, records - keys, replayed, watch.ElapsedMilliseconds);
        if (replayFrom > _wal.CommittedAddress)
        {
            Log.CheckpointAheadOfWal(_logger, replayFrom, _wal.CommittedAddress);
            return true;
        }

        return torn;
    }

    /// <summary>
    /// Loads the key counts saved beside the recovered checkpoint; false, logged, when they are missing or unreadable (a
    /// crash between the checkpoint and saving them, or damage): the whole log is then counted once the WAL is replayed.
    /// </summary>
    private bool TryLoadKeyCounts(string folder, long version)
    {
        string path = Path.Combine(folder, KeyCountsFile.FileName);
        string problem = "none were saved with it";
        if (File.Exists(path))
        {
            if (!KeyCountsFile.TryDecode(File.ReadAllBytes(path), out KeyCountsSnapshot? saved, out string? damage))
            {
                problem = damage!;
            }
            else if (saved!.Version != version)
            {
                problem = $"they are for version {saved.Version}, the checkpoint holds version {version}";
            }
            else
            {
                _counts.Load(saved.Keys, saved.Expiring);
                long loaded = _counts.TotalKeys();
                Log.KeyCountsLoaded(_logger, loaded);
                return true;
            }
        }

        Log.RecountingKeys(_logger, path, problem);
        return false;
    }

    /// <summary>
    /// Repairs, in the log's memory, the allocations FASTER gave up during a session's operations (reported by its
    /// Dispose callbacks, <see cref="StoreFunctions.Abandoned"/>), so that SCAN, which walks the in-memory pages with
    /// FASTER's own iterator, steps over them instead of skipping the rest of their page. Only an operation's own retries
    /// reuse its allocation, so the caller calls this when none of <paramref name="session"/>'s operations is still under
    /// way. An allocation already below the head address is on disk, where the repairs before compaction and recovery
    /// reach it (<see cref="AbandonedRecords"/>).
    /// </summary>
    internal void RepairAbandonedAllocations(ClientSession<SpanByte, SpanByte, SpanByte, StoreOutput, Empty, StoreFunctions> session, List<(long Address, int KeyLength)> abandoned)
    {
        if (!_frames.Available)
        {
            return;
        }

        int repaired = 0;
        session.UnsafeContext.BeginUnsafe();
        try
        {
            // Read under the epoch: the pages from here on stay in memory until it is released.
            long head = Kv.Log.HeadAddress;
            foreach ((long address, int keyLength) in abandoned)
            {
                if (address >= head && AbandonedRecords.RepairAllocation(_frames.FromAddress(address), keyLength))
                {
                    repaired++;
                }
            }
        }
        finally
        {
            session.UnsafeContext.EndUnsafe();
        }

        if (repaired > 0)
        {
            Interlocked.Add(ref _abandonedAllocationsRepaired, repaired);
        }
    }

    /// <summary>
    /// Repairs the records FASTER abandoned in [<paramref name="from"/>, <paramref name="until"/>) (below the head address)
    /// so that its scans walk the whole range (<see cref="AbandonedRecords"/>).
    /// </summary>
    private void RepairAbandonedRecords(long from, long until)
    {
        int repaired = RepairAbandonedRecords(Path.Combine(_logDirectory, "hlog"), from, until);
        if (repaired > 0)
        {
            Log.AbandonedRecordsRepaired(_logger, repaired, from, until);
        }
    }

    // The repair of [from, until) of the segment files segmentPathPrefix.N (the log's, or a snapshot's: same page and
    // segment sizes); returns how many records it repaired.
    private int RepairAbandonedRecords(string segmentPathPrefix, long from, long until) =>
        AbandonedRecords.Repair(segmentPathPrefix, BitOperations.Log2((ulong)SegmentBytes), BitOperations.Log2((ulong)PageBytes), from, until);

    private void CountKeysOfTheWholeLog(FasterStoreSession session)
    {
        RepairAbandonedRecords(Kv.Log.BeginAddress, Kv.Log.HeadAddress);
        long[] keys = new long[KeyCounts.PhysicalDatabases];
        long[] expiring = new long[KeyCounts.PhysicalDatabases];
        Stopwatch counting = Stopwatch.StartNew();
        session.CountKeys(keys, expiring, done =>
            Log.CountProgress(_logger, done * 100, done > 0 ? counting.Elapsed.TotalSeconds * (1 - done) / done : 0));
        _counts.Load(keys, expiring);
    }

    /// <summary>
    /// Deletes the checkpoints <paramref name="which"/> selects (every one but the one just completed, or one whose files could
    /// not all be written): log parts first, each starting with its
    /// metadata (so that a deletion cut short leaves nothing recovery takes for loadable), then index parts. FASTER's own
    /// removal (RemoveOutdated) counts commits instead: it keeps the last two index parts and the last log part, so an
    /// index part committed for a checkpoint whose log part never was (one that failed, or a process killed between the
    /// two) can take the place of the index the newest complete checkpoint needs, and a crash then leaves that checkpoint
    /// without its index (docs/persistence.md). A folder that cannot be deleted now is deleted by the next checkpoint.
    /// </summary>
    private void RemoveCheckpoints(Func<Guid, bool> which)
    {
        string root = Path.Combine(_options.DataDirectory, "checkpoints");
        foreach (string part in new[] { "cpr-checkpoints", "index-checkpoints" })
        {
            string folder = Path.Combine(root, part);
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (string checkpoint in Directory.GetDirectories(folder))
            {
                if (Guid.TryParse(Path.GetFileName(checkpoint), out Guid token) && !which(token))
                {
                    continue;
                }

                try
                {
                    foreach (string metadata in Directory.GetFiles(checkpoint, "info.dat*"))
                    {
                        File.Delete(metadata);
                    }

                    Directory.Delete(checkpoint, recursive: true);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    Log.CheckpointNotRemoved(_logger, checkpoint, exception.Message);
                }
            }
        }
    }

    /// <summary>Saves the key counts of a completed checkpoint in its folder; a failure only costs a recount at the next recovery.</summary>
    private void SaveKeyCounts(Guid token, KeyCountsSnapshot counts)
    {
        string path = Path.Combine(_options.DataDirectory, "checkpoints", "cpr-checkpoints", token.ToString(), KeyCountsFile.FileName);
        try
        {
            using FileStream file = new(path, FileMode.Create, FileAccess.Write);
            file.Write(KeyCountsFile.Encode(counts));
            file.Flush(flushToDisk: true);
            _syncDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Log.KeyCountsNotSaved(_logger, path, exception);
        }
    }

    /// <summary>
    /// True when the WAL was written but never committed and never truncated (truncation follows a checkpoint, which
    /// commits): no commit file, its begin where a fresh log begins. <paramref name="bytes"/>: the size of its files.
    /// </summary>
    private bool WalNeverCommitted(out long bytes)
    {
        string wal = Path.Combine(_options.DataDirectory, "wal");
        string commits = Path.Combine(wal, "log-commits");
        bytes = Directory.Exists(wal) ? Directory.EnumerateFiles(wal).Sum(f => new FileInfo(f).Length) : 0;
        return bytes > 0 && _wal.BeginAddress == FasterWriteAheadLog.FreshBeginAddress
            && (!Directory.Exists(commits) || !Directory.EnumerateFiles(commits).Any());
    }

    /// <summary>
    /// Finds the checkpoint to load (the newest one with readable metadata, which recovery then loads by its token) and
    /// the FASTER version it holds; null when there is none. Throws when that checkpoint lacks part of its snapshot: FASTER
    /// would read the missing bytes as an empty log and the store would start without the checkpoint's data.
    /// </summary>
    private (Guid Token, long Version, HybridLogRecoveryInfo Info)? FindLoadableCheckpoint(string checkpoints)
    {
        // The newest is the one of the highest version, not FASTER's first choice: it lists checkpoint folders by their
        // last write time, and a SIGKILL while FASTER deleted the previous checkpoint's folder (file by file, once the next
        // one was complete) left what remained of it as the most recently written folder: startup refused it as damaged
        // (crash tool, checkpoints and compactions every second), and with its snapshot still whole, FASTER loaded it
        // instead of the newest and startup refused it for the WAL truncated past it.
        ICheckpointManager manager = Kv.CheckpointManager;
        (Guid Token, HybridLogRecoveryInfo Info)? newest = null;
        foreach (Guid token in manager.GetLogCheckpointTokens())
        {
            HybridLogRecoveryInfo info = default;
            try
            {
                byte[] metadata = manager.GetLogCheckpointMetadata(token, deltaLog: null, scanDelta: false, recoverTo: -1)
                    ?? throw new FasterException("no metadata");
                using StreamReader reader = new(new MemoryStream(metadata));
                info.Initialize(reader);
            }
            catch (Exception exception) when (exception is FasterException or IOException or FormatException or ArgumentException or ArithmeticException)
            {
                // No readable metadata: FASTER skips this checkpoint too.
                continue;
            }

            if (newest is null || info.version > newest.Value.Info.version)
            {
                newest = (token, info);
            }
        }

        if (newest is not { } found)
        {
            return null;
        }

        long needed = found.Info.useSnapshotFile == 0 ? 0 : found.Info.snapshotFinalLogicalAddress - found.Info.snapshotStartFlushedLogicalAddress;
        string folder = Path.Combine(checkpoints, found.Token.ToString());
        long present = Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "snapshot.dat*").Sum(f => new FileInfo(f).Length) : 0;
        if (present < needed)
        {
            throw new InvalidDataException(
                $"checkpoint {found.Token} in '{checkpoints}' is damaged: its snapshot holds {present} of {needed} bytes. " +
                "Refusing to start without the data it holds; restore the data directory from a backup.");
        }

        return (found.Token, found.Info.version, found.Info);
    }

    /// <summary>
    /// Repairs the records FASTER abandoned (<see cref="AbandonedRecords"/>) in what its recovery of
    /// <paramref name="info"/> walks to rebuild the index: the log's files from the lower of the checkpoint's head and
    /// start addresses, and its snapshot file. Walked as they are, a page's records after such a record would keep the
    /// index entries of older versions (a collection's part older than its root).
    /// </summary>
    private void RepairAbandonedRecordsBeforeRecovery(string folder, HybridLogRecoveryInfo info)
    {
        long from = Math.Max(info.beginAddress, Math.Min(info.headAddress, info.startLogicalAddress) & ~(PageBytes - 1));
        long logUntil = info.useSnapshotFile == 0 ? info.finalLogicalAddress : info.snapshotStartFlushedLogicalAddress;
        int repaired = from < logUntil ? RepairAbandonedRecords(Path.Combine(_logDirectory, "hlog"), from, logUntil) : 0;
        long snapshotStart = info.snapshotStartFlushedLogicalAddress;
        if (info.useSnapshotFile != 0 && info.finalLogicalAddress > snapshotStart)
        {
            // The snapshot file holds the log's pages from the one of its start on, in segments of the log's size.
            long firstPage = snapshotStart & ~(PageBytes - 1);
            repaired += RepairAbandonedRecords(Path.Combine(folder, "snapshot.dat"), snapshotStart - firstPage, info.finalLogicalAddress - firstPage);
        }

        if (repaired > 0)
        {
            Log.AbandonedRecordsRepaired(_logger, repaired, from, info.finalLogicalAddress);
        }
    }

    /// <summary>
    /// Applies every committed WAL record from <paramref name="from"/>. Where the records end before the committed end (a
    /// record that fails its checksum, a page FasterLog's scan cannot read, zeros where records should be), the WAL's files
    /// are read directly up to the committed end: zeros or nothing (the file was cut or zeroed after the commit that covered
    /// it) are a torn tail; replay stops there and says so, and <paramref name="torn"/> is set. Anything else after the
    /// damage (an intact record, garbage) stops startup.
    /// </summary>
    private long ReplayWal(FasterStoreSession session, long from, out bool torn)
    {
        long start = Math.Max(from, _wal.BeginAddress);
        long end = _wal.CommittedAddress;
        long records = 0;
        long nextReport = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 2;
        Stopwatch watch = Stopwatch.StartNew();
        long read = start;
        long damaged = -1;
        string? problem = null;
        using (IEnumerator<(byte[] Record, int Length, long Address, long Next)> entries = _wal.ReadCommitted(start).GetEnumerator())
        {
            while (NextEntry(entries, ref problem))
            {
                (byte[] record, int length, long address, long next) = entries.Current;
                ReadOnlySpan<byte> bytes = record.AsSpan(0, length);
                read = next;
                if (!WalRecord.TryDecode(bytes, out DecodedWalRecord decoded, out problem))
                {
                    damaged = address;
                    break;
                }

                session.Replay(bytes, decoded, _physical);
                records++;
                if (Stopwatch.GetTimestamp() > nextReport)
                {
                    nextReport = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 2;
                    double done = end > start ? (double)(address - start) / (end - start) : 1;
                    double remaining = done > 0 ? watch.Elapsed.TotalSeconds * (1 - done) / done : 0;
                    Log.ReplayProgress(_logger, done * 100, records, remaining);
                }
            }
        }

        session.FinishReplayWrites();
        torn = CutTornTail(read, end, damaged, problem);
        int incomplete = session.DropIncompleteCommands();
        if (incomplete > 0)
        {
            Log.IncompleteCommandsDropped(_logger, incomplete);
        }

        return records;
    }

    /// <summary>The next committed WAL entry; false at the end, or where FasterLog's scan cannot go on (<paramref name="problem"/> says why).</summary>
    private static bool NextEntry(IEnumerator<(byte[] Record, int Length, long Address, long Next)> entries, ref string? problem)
    {
        try
        {
            return entries.MoveNext();
        }
        catch (FasterException exception)
        {
            problem = exception.Message;
            return false;
        }
    }

    /// <summary>
    /// After replay read up to <paramref name="read"/>, a damaged record at <paramref name="damaged"/> (or -1), or a scan
    /// that failed (<paramref name="problem"/>): true when a torn tail was cut (reported, event 108); throws when the
    /// committed log holds anything but zeros after the damage.
    /// </summary>
    private bool CutTornTail(long read, long end, long damaged, string? problem)
    {
        (WalRemainder remainder, long at) = _wal.InspectCommittedRemainder(read, end);
        long first = damaged >= 0 ? damaged : read;
        if (remainder == WalRemainder.Data && first >= end - _wal.BufferBytes && _wal.HasZeroSector(first, Math.Max(read, at)))
        {
            // Damage within the log's last in-memory window before the committed end, with a whole sector of zeros in
            // it: a write still in flight at the crash, torn (some of its sectors on disk, others not; seen after power
            // cuts on ext4 with 1 KiB blocks: a record missing a sector, the commit record at the end of the same write
            // whole). A torn write leaves zeros, never flipped bytes: other damage stops startup below. FasterLog keeps at most
            // its buffer (four pages) unflushed, so everything below end - buffer had been written when the process
            // stopped, and damage there is real; above it, no commit at or after the damage completed (the flushed
            // address only moves past completed writes), so nothing from there on was acknowledged.
            Log.TornWriteCut(_logger, first, problem ?? "zeros where records should be", end - first, at);
            return true;
        }

        if (remainder == WalRemainder.Data && damaged >= 0)
        {
            throw new InvalidDataException(
                $"write-ahead log record at address {damaged} is damaged ({problem}); {end - damaged} bytes of committed log follow it, " +
                $"not all zeros (data at address {at}). Refusing to start with a gap in acknowledged writes: restore the data directory from a backup.");
        }

        if (remainder == WalRemainder.Data || (remainder == WalRemainder.Clean && problem is not null && damaged < 0))
        {
            throw new InvalidDataException(
                $"the write-ahead log cannot be read after address {read} ({problem ?? "an entry length of zero, then more data in the page"}); " +
                $"{end - read} bytes of committed log follow, not all zeros (data at address {at}). It holds garbage where records should be, " +
                "so a torn tail cannot be told from damage in the middle. Refusing to start with a possible gap in acknowledged writes: " +
                "restore the data directory from a backup.");
        }

        if (remainder == WalRemainder.Clean && damaged < 0)
        {
            return false;
        }

        long cut = damaged >= 0 ? damaged : at;
        Log.TornTailCut(_logger, cut, problem ?? "zeros where records should be", end - cut);
        return true;
    }

    private FasterStoreSession OpenRecoverySession() => OpenSession(logged: false);

    public IStoreSession OpenSession() => OpenSession(logged: true);

    // FASTER's own copies of records read from disk stay off (its read cache threw in TryCopyToReadCache, its copy to
    // the tail crashed in the page-flush callback: docs/storage.md); the session copies hot records itself.
    private FasterStoreSession OpenSession(bool logged)
    {
        StoreFunctions functions = new(_counts, Kv.Log, _frames, _options.BeforeCopyUpdate, new CompactionCopyGuard(_options.RefuseCompactionCopy));
        return new FasterStoreSession(
            this,
            functions,
            Kv.For(functions).NewSession<StoreFunctions>(
                sessionVariableLengthStructSettings: new SessionVariableLengthStructSettings<SpanByte, SpanByte> { valueLength = _valueLength },
                readCopyOptions: ReadCopyOptions.None),
            logged ? _wal : null);
    }

    internal byte Physical(int db) => Volatile.Read(ref _physical[db]);

    internal void SwapPhysical(int first, int second, FasterStoreSession session)
    {
        (_physical[first], _physical[second]) = (_physical[second], _physical[first]);
        session.SaveDatabaseMap(_physical);
    }

    /// <summary>Maps logical database <paramref name="db"/> to <paramref name="physical"/>. Callers hold every stripe exclusively.</summary>
    internal void Remap(int db, byte physical, FasterStoreSession session)
    {
        Volatile.Write(ref _physical[db], physical);
        session.SaveDatabaseMap(_physical);
    }

    /// <summary>Whether no logical database maps to <paramref name="physical"/> and no record is in it.</summary>
    internal bool IsUnused(byte physical) =>
        LogicalDb(physical) < 0 && _counts.Keys(physical) == 0 && _counts.Expiring(physical) == 0;

    internal long KeyCountOfPhysical(byte physical) => _counts.Keys(physical);

    /// <summary>Keys left in the databases FLUSHDB ASYNC dropped, which the reaper has still to delete.</summary>
    internal long DroppedKeyCount()
    {
        long keys = 0;
        foreach (byte physical in Reaper.Dropped)
        {
            keys += _counts.Keys(physical);
        }

        return keys;
    }

    /// <inheritdoc/>
    public KeyEventHandler? KeyExpired { get; set; }

    /// <inheritdoc/>
    public KeyEventHandler? KeyCreated { get; set; }

    // A user key written where no live record was: reported to KeyCreated with its logical database.
    internal void ReportCreated(ReadOnlySpan<byte> storedKey)
    {
        if (KeyCreated is { } handler && LogicalDb(storedKey[0]) is int db and >= 0)
        {
            handler(db, storedKey[1..]);
        }
    }

    // An expired key removed: counted (expired_keys) and reported to KeyExpired with its logical database.
    internal void CountExpired(ReadOnlySpan<byte> storedKey)
    {
        Interlocked.Increment(ref _expiredKeys);
        if (KeyExpired is { } handler && LogicalDb(storedKey[0]) is int db and >= 0)
        {
            handler(db, storedKey[1..]);
        }
    }

    /// <summary>The logical database a physical one holds now; -1 when none does (dropped, being reaped).</summary>
    internal int LogicalDb(byte physical) => Array.IndexOf(_physical, physical);

    internal void CountPendingReads(int reads) => Interlocked.Add(ref _pendingReads, reads);

    internal void CountReadCopy() => Interlocked.Increment(ref _readCopies);

    internal void CountFlushedAllocationRetry() => Interlocked.Increment(ref _flushedAllocationRetries);

    internal void CountWarmRead() => Interlocked.Increment(ref _warmReads);

    /// <summary>Write counts by key hash, to check a record read without its key's lock (prefetched, warmed) before use.</summary>
    internal KeyWriteVersions KeyWrites { get; } = new();

    /// <summary>The read cache's table of recent cold reads; null when <c>read-cache no</c> (nothing is copied).</summary>
    internal RecentColdReads? ColdReads { get; }

    public string? WriteFailure => _wal.Failure?.Message ?? _diskSpace.Refusal;

    /// <summary>
    /// When acknowledged writes are durable (Redis appendfsync). CONFIG SET changes it while the server runs: from the
    /// change on, every write's reply follows the new policy, and writes acknowledged before it are committed at once.
    /// </summary>
    public FsyncPolicy FsyncPolicy
    {
        get => _wal.Policy;
        set
        {
            FsyncPolicy old = _wal.Policy;
            _wal.Policy = value;
            if (old != value)
            {
                string from = old.RedisName(), to = value.RedisName();
                Log.FsyncPolicyChanged(_logger, from, to);
            }
        }
    }

    /// <summary>Refuses writes while the data directory's file system is nearly full (<see cref="DiskSpaceGuard"/>).</summary>
    internal DiskSpaceGuard DiskSpace => _diskSpace;

    public bool HasColdRecords => Kv.Log.HeadAddress > Kv.Log.BeginAddress;

    /// <summary>
    /// Raises the thread pool's minimum to 64 workers, once: a command that reads a record on disk without a prefetch
    /// blocks its thread until the read completes, and with the default minimum (one per core) the pool adds a thread
    /// only every half second, so concurrent cold reads crawl (FASTER-NOTES: 26-37K cold reads/s against 52-84K). Not
    /// done while nothing waits for the disk: a higher minimum makes the pool wake and park several workers per commit
    /// with appendfsync always (1.7 context switches per SET at 50 clients against 0.6; docs/benchmarks.md).
    /// </summary>
    public void PrepareForDiskWaits()
    {
        if (Volatile.Read(ref s_poolRaised) != 0 || Interlocked.Exchange(ref s_poolRaised, 1) != 0)
        {
            return;
        }

        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, MinimumPoolThreads), Math.Max(io, MinimumPoolThreads));
    }

    public long KeyCount(int db) => _counts.Keys(Physical(db));

    public long ExpiringKeyCount(int db) => _counts.Expiring(Physical(db));

    /// <summary>The address below which the WAL is durable (tests).</summary>
    internal long WalDurableAddress => _wal!.DurableAddress;

    /// <summary>The WAL's tail: how far logged writes have come.</summary>
    internal long WalTailAddress => _wal.TailAddress;

    /// <summary>Keys in every database together, with the records of collections' parts (one index entry each).</summary>
    internal long TotalKeyCount() => _counts.TotalKeys();

    /// <summary>Keys in every database together, as the sum of DBSIZE over them (no part records).</summary>
    internal long UserKeyCount()
    {
        long keys = 0;
        for (int db = 0; db < _physical.Length; db++)
        {
            keys += KeyCount(db);
        }

        return keys;
    }

    /// <summary>Whether any key has a TTL (so that expiry has something to look for).</summary>
    internal bool HasExpiringKeys => _counts.AnyExpiring();

    public async Task<IDisposable> HoldRecordsInPlaceAsync(CancellationToken cancellationToken)
    {
        // The flag compaction and index growth take (a second one finds it taken and does nothing): taken here, and kept.
        while (Interlocked.CompareExchange(ref _reorganizing, 1, 0) != 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), Time, cancellationToken);
        }

        // And the read cache copies nothing meanwhile (a copy would move a record to the tail under a walk).
        Volatile.Write(ref _recordsHeldInPlace, true);
        return new RecordsInPlace(this);
    }

    /// <summary>While <see cref="HoldRecordsInPlaceAsync"/> holds: the read cache does not copy records to the tail.</summary>
    internal bool RecordsHeldInPlace => Volatile.Read(ref _recordsHeldInPlace);

    private sealed class RecordsInPlace(FasterStore store) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Volatile.Write(ref store._recordsHeldInPlace, false);
                Volatile.Write(ref store._reorganizing, 0);
            }
        }
    }

    /// <summary>
    /// Compacts the log below <paramref name="untilAddress"/> (at most the head address), then checkpoints so that FASTER
    /// deletes the segment files below the new begin address. Returns the bytes compacted (how far the begin address
    /// moved) and how much shorter the log became (less the live records copied back to the tail, and whatever writers
    /// appended meanwhile); null when another compaction or an index growth is running, or when the compaction was stopped
    /// before it moved the begin address (<see cref="CompactionCopyGuard"/>).
    /// </summary>
    internal async Task<(long Compacted, long Shortened)?> CompactAsync(long untilAddress, int deadPercent, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _reorganizing, 1, 0) != 0)
        {
            return null;
        }

        try
        {
            Stopwatch watch = Stopwatch.StartNew();
            untilAddress = CapBelowWalks(untilAddress);
            long before = Kv.Log.BeginAddress;
            long lengthBefore = Kv.Log.TailAddress - before;
            long shortened;
            // Every live record below untilAddress that has expired by now is deleted first (logged, counted) so that
            // compaction, which drops records expired by this time, only ever drops dead ones.
            long expiredBeforeMs = Time.GetUtcNow().ToUnixTimeMilliseconds();
            // First, so that the expired keys' deletes and the compaction's walk see every record of the range.
            RepairAbandonedRecords(before, untilAddress);
            using (FasterStoreSession session = OpenSession(logged: true))
            {
                if (HasExpiringKeys)
                {
                    session.DeleteExpiredRange(before, untilAddress, Locks);
                }

                try
                {
                    session.Compact(untilAddress, expiredBeforeMs);
                }
                catch (CompactionAbandonedException abandoned)
                {
                    Interlocked.Increment(ref _compactionsAbandoned);
                    Log.CompactionAbandoned(_logger, abandoned.Message, Kv.Log.BeginAddress);
                    return null;
                }

                shortened = lengthBefore - (Kv.Log.TailAddress - Kv.Log.BeginAddress);
            }

            long compacted = Kv.Log.BeginAddress - before;
            Interlocked.Add(ref _compactedBytes, compacted);
            Interlocked.Increment(ref _compactions);
            Log.Compacted(_logger, compacted, shortened, deadPercent, watch.ElapsedMilliseconds);
            await CheckpointAsync(cancellationToken);
            // Recovery starts from the new begin address now: the begin segment's space below it can go.
            _spaceFreer.FreeBelow(Kv.Log.BeginAddress);
            return (compacted, shortened);
        }
        finally
        {
            Volatile.Write(ref _reorganizing, 0);
        }
    }

    /// <summary>
    /// Doubles the hash index when it holds more than <see cref="KeysPerBucketBeforeGrowth"/> keys per bucket (hash chains
    /// are getting long and lookups slow), then checkpoints so that recovery loads the larger index. Returns whether it
    /// grew. FASTER's overflow bucket count is no guide: overflow buckets are never freed, not even by a resize, so a
    /// rule on it doubled an index to 8 GB for 15M keys in a test run. Only while the whole log is in memory (see below).
    /// </summary>
    internal async Task<bool> GrowIndexIfCrowdedAsync(CancellationToken cancellationToken)
    {
        long buckets = Kv.IndexSize;
        long keys = TotalKeyCount();
        if (keys <= buckets * KeysPerBucketBeforeGrowth)
        {
            return false;
        }

        if (HasColdRecords)
        {
            // FASTER 2.6.5 splits bucket entries that lead to records on disk without reading them; after such a resize
            // its Lookup compaction brought back overwritten values (CompactionTests, about one run in six under load).
            if (Interlocked.Exchange(ref _crowdedIndexReported, 1) == 0)
            {
                Log.IndexCrowded(_logger, keys, buckets * 64);
            }

            return false;
        }

        if (!Budget.Affords(IndexMemoryBytes + (buckets * 64)))
        {
            // The index counts against --memory: doubling it would leave the log less than its minimum of pages.
            if (Interlocked.Exchange(ref _crowdedIndexReported, 1) == 0)
            {
                Log.IndexOverBudget(_logger, keys, buckets * 64, Budget.BudgetBytes);
            }

            return false;
        }

        if (Interlocked.CompareExchange(ref _reorganizing, 1, 0) != 0)
        {
            return false;
        }

        Stopwatch watch = Stopwatch.StartNew();
        bool grown;
        // Not during a checkpoint: both are FASTER state machines, and only one runs at a time.
        try
        {
            await _checkpointGate.WaitAsync(cancellationToken);
            try
            {
                grown = Kv.GrowIndex();
            }
            finally
            {
                _checkpointGate.Release();
            }
        }
        finally
        {
            Volatile.Write(ref _reorganizing, 0);
        }

        if (!grown)
        {
            return false;
        }

        ApplyMemoryBudget();
        Log.IndexGrown(_logger, buckets * 64, Kv.IndexSize * 64, keys, watch.ElapsedMilliseconds);
        await CheckpointAsync(cancellationToken);
        return true;
    }

    internal void ReportCompactionFailure(Exception exception) => Log.CompactionFailed(_logger, exception);

    internal void ReportCompactionPostponed(long copyBytes) => Log.CompactionPostponed(_logger, copyBytes, _diskSpace.FreeBytes, _diskSpace.ReserveBytes);

    /// <summary>
    /// Bytes of the log's segment files, less the start of the begin segment that was freed (<see cref="LogSpaceFreer"/>);
    /// a file FASTER deletes meanwhile counts as gone.
    /// </summary>
    private long LogDiskBytes()
    {
        long bytes = 0;
        (long freedSegment, long freedBytes) = _spaceFreer.Freed;
        string freedName = "hlog." + freedSegment.ToString(CultureInfo.InvariantCulture);
        foreach (FileInfo file in new DirectoryInfo(_logDirectory).EnumerateFiles())
        {
            try
            {
                bytes += file.Length - (file.Name == freedName ? Math.Min(freedBytes, file.Length) : 0);
            }
            catch (FileNotFoundException)
            {
                // Deleted by FASTER after a checkpoint while we enumerated: it no longer takes space.
            }
        }

        return bytes;
    }

    public StoreStatistics GetStatistics() => new(
        Volatile.Read(ref _expiredKeys),
        Kv.Log.MemorySizeBytes,
        Kv.Log.TailAddress,
        Kv.Log.HeadAddress,
        Kv.Log.BeginAddress,
        Kv.IndexSize * 64,
        Volatile.Read(ref _pendingReads),
        Volatile.Read(ref _lastCheckpointUnixSeconds),
        Volatile.Read(ref _checkpointsTaken))
    {
        FsyncPolicy = _wal.Policy,
        WalBytes = _wal.SizeBytes,
        WalLastCommitUnixMs = _wal.LastCommitUnixMs,
        WalCommits = _wal.Commits,
        WalDirectIO = _wal.WritesBypassPageCache,
        WalDirectWrites = _wal.DirectWrites,
        WalDelayedReplies = _wal.DelayedReplies,
        WalFailure = _wal.Failure?.Message,
        WalFaults = _wal.Faults,
        WalResumes = _wal.Resumes,
        DiskFreeBytes = _diskSpace.FreeBytes,
        DiskReserveBytes = _diskSpace.ReserveBytes,
        DiskFullRefusals = _diskSpace.Refusals,
        CheckpointInProgress = Volatile.Read(ref _checkpointInProgress) != 0,
        LastCheckpointFailed = _lastCheckpointFailed,
        LastCheckpointMilliseconds = Volatile.Read(ref _lastCheckpointMilliseconds),
        Compactions = Volatile.Read(ref _compactions),
        CompactionsAbandoned = Volatile.Read(ref _compactionsAbandoned),
        CompactedBytes = Volatile.Read(ref _compactedBytes),
        LogDiskBytes = LogDiskBytes(),
        ColdReadTableBytes = Budget.ColdReadTableBytes,
        ReadCopies = Volatile.Read(ref _readCopies),
        AbandonedAllocationsRepaired = Volatile.Read(ref _abandonedAllocationsRepaired),
        FlushedAllocationRetries = Volatile.Read(ref _flushedAllocationRetries),
        WarmReads = Volatile.Read(ref _warmReads),
        IndexOverflowBytes = Kv.OverflowBucketCount * 64,
        WalBufferBytes = _wal.BufferBytes,
        MemoryBudgetBytes = Budget.BudgetBytes,
        LogMemoryLimitBytes = Budget.LogMemoryLimitBytes(IndexMemoryBytes),
        ColdReadIo = _directReads is null ? "faster" : "io_uring",
        DirectReads = _directReads?.DirectReads ?? 0,
        DirectReadFallbacks = _directReads?.InnerReads ?? 0,
        LazyFreePendingObjects = Reaper.PendingObjects + DroppedKeyCount(),
        LazyFreePendingParts = Reaper.PendingParts,
        LazyFreePendingDatabases = Reaper.Dropped.Length,
        LazyFreedObjects = Reaper.FreedObjects,
        Records = TotalKeyCount(),
    };

    public async ValueTask CheckpointAsync(CancellationToken cancellationToken)
    {
        await _checkpointGate.WaitAsync(cancellationToken);
        try
        {
            await CheckpointHoldingGateAsync(quiet: false, cancellationToken);
        }
        finally
        {
            _checkpointGate.Release();
        }
    }

    /// <summary>
    /// Run by <see cref="WalFirstCheckpointManager"/> before a checkpoint's log metadata is written: commits the WAL up
    /// to its tail, so that a loadable checkpoint is always followed by the WAL records of every operation that ran while
    /// it was taken. The checkpoint holds writes whose records lie past its replay position (the operations of its next
    /// version, some sealing records it holds); replaying only part of them over it made a key written twice go back to
    /// its first value while later keys kept theirs, and leaving them out left sealed records live. A WAL that failed
    /// (writes refused until it resumes) does not hold the checkpoint back.
    /// </summary>
    private void CommitWalForCheckpoint()
    {
        if (_wal is not { Failure: null } wal)
        {
            return;
        }

        try
        {
            // FASTER calls the checkpoint manager synchronously; the commit completes on pool threads, never on this one.
            wal.WaitForCommit(wal.TailPosition, _stopping.Token);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException)
        {
            // The WAL failed meanwhile: its committer recorded the fault; the checkpoint completes all the same.
        }
    }

    /// <summary>A checkpoint, the caller holding <see cref="_checkpointGate"/>; <paramref name="quiet"/>: a failure is not logged (the caller reports it).</summary>
    private async Task CheckpointHoldingGateAsync(bool quiet, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _checkpointInProgress, 1);
        Stopwatch watch = Stopwatch.StartNew();
        try
        {
            // Every WAL record below this address was appended after its write reached the store, so before the
            // checkpoint begins: the checkpoint holds it. Records from here on may or may not be in it; replaying
            // them again is harmless because records set state rather than change it.
            long replayFrom;
            long version;
            Task<(bool, Guid)> checkpointing;
            // Every stripe held while FASTER moves to the checkpoint's next version: no command is between two of its
            // record writes then, so a command's writes are all in the checkpoint or all after it. A set's new member
            // written in the checkpoint's version and its count in the next left the checkpoint with half the command;
            // when a crash then lost the command's WAL record (before its commit), SCARD and SMEMBERS disagreed for good.
            Locks.EnterAll();
            try
            {
                replayFrom = _wal.TailAddress;
                Volatile.Write(ref _checkpointWriteFailure, null);
                Kv.CommitCookie = CheckpointCookie.Encode(replayFrom);
                version = Kv.CurrentVersion;
                checkpointing = Kv.TakeFullCheckpointAsync(CheckpointType.Snapshot, cancellationToken).AsTask();
                SpinWait.SpinUntil(() => Kv.CurrentVersion != version || checkpointing.IsCompleted, VersionShiftTimeoutMs);
            }
            finally
            {
                Locks.ExitAll();
            }

            (bool success, Guid token) = await checkpointing;
            if (!success)
            {
                throw new InvalidOperationException("checkpoint did not complete (another checkpoint was in progress)");
            }

            if (Interlocked.Exchange(ref _checkpointWriteFailure, null) is string failed)
            {
                // FASTER counts it complete, but a file of it is short or missing: recovery must never take it. The older
                // checkpoint and the WAL after it stay, so nothing is lost.
                RemoveCheckpoints(other => other == token);
                throw new IOException($"a write of the checkpoint file '{failed}' failed (disk full or I/O error); the checkpoint was discarded, and the write-ahead log keeps every write");
            }

            if (_counts.CompleteVersion(version) is { } counts)
            {
                SaveKeyCounts(token, counts);
            }

            RemoveCheckpoints(other => other != token);
            _wal.TruncateUntil(replayFrom);
            _walAtLastCheckpoint = replayFrom;
            _lastCheckpointFailed = false;
            Volatile.Write(ref _lastCheckpointUnixSeconds, Time.GetUtcNow().ToUnixTimeSeconds());
            Interlocked.Increment(ref _checkpointsTaken);
            Log.CheckpointTaken(_logger, token, watch.ElapsedMilliseconds);
        }
        catch (Exception exception)
        {
            // Its version may have moved on without the fold: later checkpoints save no key counts (recovery recounts).
            _counts.MarkInexact();
            if (exception is not OperationCanceledException)
            {
                _lastCheckpointFailed = true;
                if (!quiet)
                {
                    Log.CheckpointFailed(_logger, exception);
                }
            }

            throw;
        }
        finally
        {
            Volatile.Write(ref _lastCheckpointMilliseconds, watch.ElapsedMilliseconds);
            Volatile.Write(ref _checkpointInProgress, 0);
        }
    }

    /// <summary>
    /// One attempt to accept writes again after a WAL commit failed: when a probe write succeeds, reopen the WAL at its last
    /// commit, checkpoint (the checkpoint holds every write applied to the store so far, including those appended to the
    /// failed log but never committed, and points replay at the new log's tail), then commit the new log. Nothing is
    /// committed to the new log before the checkpoint completes: its records land at addresses below the replay position
    /// of any checkpoint taken during the fault, which a recovery would skip. Returns whether writes resumed.
    /// </summary>
    internal async Task<bool> TryResumeWritesAsync(CancellationToken cancellationToken)
    {
        if (_wal.Failure is null)
        {
            return false;
        }

        if (!_wal.ProbeDisk(out string? problem))
        {
            Log.ResumeFailed(_logger, "the disk refused a probe write: " + problem);
            return false;
        }

        try
        {
            await _checkpointGate.WaitAsync(cancellationToken);
            try
            {
                _wal.Reopen();
                await CheckpointHoldingGateAsync(quiet: true, cancellationToken);
            }
            finally
            {
                _checkpointGate.Release();
            }

            await _wal.ResumeAsync(cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.ResumeFailed(_logger, exception.Message);
            return false;
        }
    }

    /// <summary>Starts a checkpoint every checkpoint interval while there were writes, and whenever the WAL passes its size limit.</summary>
    private async Task RunCheckpointLoopAsync(CancellationToken cancellationToken)
    {
        using PeriodicTimer timer = new(TimeSpan.FromSeconds(1), Time);
        long lastRun = Time.GetUtcNow().ToUnixTimeSeconds();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (_wal.Failure is not null)
                {
                    // Checkpoints wait: the attempt to resume writes takes one of its own.
                    await TryResumeWritesAsync(cancellationToken);
                    continue;
                }

                try
                {
                    // Overflow buckets come as keys crowd the index: their memory comes out of the log's share too.
                    ApplyMemoryBudget();
                    ReportIndexOverBudget();
                    await GrowIndexIfCrowdedAsync(cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The index keeps working at its current size (with longer chains); the next tick tries again.
                    Log.IndexGrowthFailed(_logger, exception);
                }

                long now = Time.GetUtcNow().ToUnixTimeSeconds();
                bool written = _wal.TailAddress > _walAtLastCheckpoint;
                bool due = _options.CheckpointIntervalSeconds > 0 && now - lastRun >= _options.CheckpointIntervalSeconds;
                if (written && (due || _wal.TailAddress - _walAtLastCheckpoint >= _options.CheckpointWalBytes))
                {
                    lastRun = now;
                    try
                    {
                        await CheckpointAsync(cancellationToken);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        // Logged by CheckpointAsync; the WAL still holds every write, so the next attempt loses nothing.
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Checks the free disk space every 100 ms (<see cref="DiskSpaceGuard"/>).</summary>
    private async Task RunDiskSpaceLoopAsync(CancellationToken cancellationToken)
    {
        using PeriodicTimer timer = new(TimeSpan.FromMilliseconds(100), Time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                _diskSpace.Check();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    internal void ReportExpiryFailure(Exception exception) => Log.ExpiryFailed(_logger, exception);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _expiryLoop;
        }
        catch (OperationCanceledException)
        {
            // Expected: the loop ends by cancellation.
        }

        await _checkpointLoop;
        await _diskSpaceLoop;
        await _compactionLoop;
        await _reaperLoop;
        Reaper.Dispose();
        await _checkpointGate.WaitAsync();
        await _wal.DisposeAsync();
        _checkpointGate.Dispose();
        Kv.Dispose();
        _device.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 141, Level = LogLevel.Information, Message = "appendfsync changed from {Old} to {New}: replies to writes follow the new policy from now on")]
        public static partial void FsyncPolicyChanged(ILogger logger, string old, string @new);

        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "No checkpoint in {Directory}: starting with an empty data set")]
        public static partial void StartingEmpty(ILogger logger, string directory);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Recovered {Keys} keys and {InternalRecords} internal records (large collections' parts, the database map), {Records} write-ahead log records replayed, in {Milliseconds} ms")]
        public static partial void Recovered(ILogger logger, long keys, long internalRecords, long records, long milliseconds);

        [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Checkpoint loaded ({LogBytes} bytes of log) in {Milliseconds} ms; replaying the write-ahead log")]
        public static partial void CheckpointLoaded(ILogger logger, long logBytes, long milliseconds);

        [LoggerMessage(EventId = 114, Level = LogLevel.Information, Message = "Key counts loaded from the checkpoint: {Keys} keys")]
        public static partial void KeyCountsLoaded(ILogger logger, long keys);

        [LoggerMessage(EventId = 115, Level = LogLevel.Warning, Message = "No usable key counts in {Path} ({Problem}): the keys of the whole log are counted once the write-ahead log is replayed, which takes a while for a large data set")]
        public static partial void RecountingKeys(ILogger logger, string path, string problem);

        [LoggerMessage(EventId = 116, Level = LogLevel.Warning, Message = "Could not save key counts to {Path}; the next recovery will count the keys instead")]
        public static partial void KeyCountsNotSaved(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = 117, Level = LogLevel.Information, Message = "Counting keys in the recovered log: {Percent:F1}%, about {Seconds:F0} s left")]
        public static partial void CountProgress(ILogger logger, double percent, double seconds);

        [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Replaying write-ahead log: {Percent:F1}% ({Records} records), about {Seconds:F0} s left")]
        public static partial void ReplayProgress(ILogger logger, double percent, long records, double seconds);

        [LoggerMessage(EventId = 106, Level = LogLevel.Error, Message = "Checkpoint failed; the write-ahead log keeps every write, retrying later")]
        public static partial void CheckpointFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Checkpoint {Token} written in {Milliseconds} ms")]
        public static partial void CheckpointTaken(ILogger logger, Guid token, long milliseconds);

        [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "Dropped {Count} command(s) logged in several write-ahead-log parts whose last part never reached the committed log (a crash while they were being logged; none was acknowledged with appendfsync always)")]
        public static partial void IncompleteCommandsDropped(ILogger logger, int count);

        [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "The checkpoint covers the write-ahead log up to {ReplayFrom}, but the log ends at {WalEnd} " +
            "(its uncommitted tail was lost after the checkpoint was taken; the checkpoint holds those writes): taking a new checkpoint before accepting writes")]
        public static partial void CheckpointAheadOfWal(ILogger logger, long replayFrom, long walEnd);

        [LoggerMessage(EventId = 108, Level = LogLevel.Error, Message = "Cut a torn write-ahead log tail: the record at address {Address} is damaged ({Problem}) and nothing intact follows " +
            "in the {Bytes} bytes up to the last commit (the file was cut short or zeroed after that commit). Recovered everything before it; writes acknowledged after it are lost")]
        public static partial void TornTailCut(ILogger logger, long address, string problem, long bytes);

        [LoggerMessage(EventId = 140, Level = LogLevel.Error, Message = "Cut a torn write-ahead log tail: the record at address {Address} is damaged ({Problem}), {Bytes} bytes before the last commit, " +
            "with data again from address {DataAt}: a write still in flight at the crash, only partly on disk. It lies within the log's last unflushed pages, so no commit from there on had completed " +
            "(with appendfsync always, none of those writes was acknowledged). Recovered everything before it")]
        public static partial void TornWriteCut(ILogger logger, long address, string problem, long bytes, long dataAt);

        [LoggerMessage(EventId = 109, Level = LogLevel.Warning, Message = "{Directory} holds no complete checkpoint (the first checkpoint was interrupted); " +
            "the write-ahead log was never truncated, so replaying all of it")]
        public static partial void NoCompleteCheckpoint(ILogger logger, string directory);

        [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Background expiry failed; retrying")]
        public static partial void ExpiryFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Compacted the log: {Bytes} bytes compacted, the log {Shortened} bytes shorter (about {DeadPercent}% of it was estimated dead) in {Milliseconds} ms; checkpointing")]
        public static partial void Compacted(ILogger logger, long bytes, long shortened, int deadPercent, long milliseconds);

        [LoggerMessage(EventId = 112, Level = LogLevel.Information, Message = "Hash index grown from {OldBytes} to {NewBytes} bytes for {Keys} keys in {Milliseconds} ms; checkpointing")]
        public static partial void IndexGrown(ILogger logger, long oldBytes, long newBytes, long keys, long milliseconds);

        [LoggerMessage(EventId = 119, Level = LogLevel.Warning, Message = "The write-ahead log holds {Bytes} bytes of writes that were never committed " +
            "(the process stopped before the first commit and before any checkpoint; no reply had promised them): starting empty in {Directory}")]
        public static partial void NothingCommitted(ILogger logger, long bytes, string directory);

        [LoggerMessage(EventId = 118, Level = LogLevel.Warning, Message = "The hash index is crowded ({Keys} keys in {IndexBytes} bytes: lookups slow down) but part of the log is on disk, " +
            "where FASTER cannot grow it safely: it keeps its size. Give a new data directory an --index of 16 to 32 bytes per expected key")]
        public static partial void IndexCrowded(ILogger logger, long keys, long indexBytes);

        [LoggerMessage(EventId = 122, Level = LogLevel.Warning, Message = "The hash index is crowded ({Keys} keys in {IndexBytes} bytes: lookups slow down) but doubling it would leave " +
            "the log too little of the memory budget ({BudgetBytes} bytes); raise --memory")]
        public static partial void IndexOverBudget(ILogger logger, long keys, long indexBytes, long budgetBytes);

        [LoggerMessage(EventId = 123, Level = LogLevel.Warning, Message = "The hash index takes {IndexBytes} bytes for {Keys} keys ({OverflowBytes} of them in overflow buckets, " +
            "which are never freed) and leaves the log less than its minimum of the memory budget ({BudgetBytes} bytes): the log keeps {LogBytes} bytes in memory, " +
            "so the store takes more than --memory from now on, as much more as the index grows (about 10 bytes per key). Raise --memory")]
        public static partial void IndexFillsBudget(ILogger logger, long keys, long indexBytes, long overflowBytes, long budgetBytes, long logBytes);

        [LoggerMessage(EventId = 130, Level = LogLevel.Warning, Message = "The data directory {Directory} holds a log but no layout file (written by an older Durable): " +
            "assuming it was written with the sizes that Durable gave this start's options (log pages of {PageBytes} bytes, a 32nd of --memory; segments of {SegmentBytes}) and saving them. " +
            "If it was written with another --memory or --segment-size, stop now and restart with those")]
        public static partial void LayoutAssumed(ILogger logger, string directory, long pageBytes, long segmentBytes);

        [LoggerMessage(EventId = 131, Level = LogLevel.Information, Message = "Keeping the data directory's log pages of {PageBytes} bytes (set when it was created; " +
            "--memory {MemoryBytes} would give {ProposedBytes} to a new one): the largest record is {MaxRecordBytes} bytes")]
        public static partial void PageSizeKept(ILogger logger, long pageBytes, long memoryBytes, long proposedBytes, long maxRecordBytes);

        [LoggerMessage(EventId = 132, Level = LogLevel.Information, Message = "Keeping the data directory's log segments of {SegmentBytes} bytes (set when it was created; --segment-size is {RequestedBytes})")]
        public static partial void SegmentSizeKept(ILogger logger, long segmentBytes, long requestedBytes);

        [LoggerMessage(EventId = 135, Level = LogLevel.Warning, Message = "Could not delete the older checkpoint {Folder} ({Reason}); the next checkpoint tries again")]
        public static partial void CheckpointNotRemoved(ILogger logger, string folder, string reason);

        [LoggerMessage(EventId = 136, Level = LogLevel.Information, Message = "The checkpoint's metadata records the log flushed to {Flushed} while it was taken: " +
            "recovering its log from {SnapshotStart} on from its snapshot file, which FASTER 2.6.5 reads wrongly otherwise")]
        public static partial void SnapshotReadWhole(ILogger logger, long flushed, long snapshotStart);

        [LoggerMessage(EventId = 137, Level = LogLevel.Information, Message = "Repaired {Records} records FASTER abandoned between log addresses {From} and {Until}, which its scans could not step over")]
        public static partial void AbandonedRecordsRepaired(ILogger logger, int records, long from, long until);

        [LoggerMessage(EventId = 113, Level = LogLevel.Error, Message = "Growing the hash index failed; retrying")]
        public static partial void IndexGrowthFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 120, Level = LogLevel.Debug, Message = "Writes still refused: the write-ahead log cannot be resumed yet ({Problem}); retrying in a second")]
        public static partial void ResumeFailed(ILogger logger, string problem);

        [LoggerMessage(EventId = 128, Level = LogLevel.Information, Message = "Cold reads: FASTER's device, through the OS page cache (cold-read-io faster)")]
        public static partial void FasterDeviceReads(ILogger logger);

        [LoggerMessage(EventId = 138, Level = LogLevel.Warning, Message = "Log compaction abandoned before it moved the begin address ({Reason}); the log is as it was from {BeginAddress}, with extra copies of live records at the tail; it runs again at the next interval")]
        public static partial void CompactionAbandoned(ILogger logger, string reason, long beginAddress);

        [LoggerMessage(EventId = 111, Level = LogLevel.Error, Message = "Log compaction failed; retrying at the next interval")]
        public static partial void CompactionFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 139, Level = LogLevel.Warning, Message = "Log compaction postponed: its copies (up to {CopyBytes} bytes) would leave less than half of the {Reserve} bytes kept free (disk-reserve) of the {Free} free. It runs once there is room.")]
        public static partial void CompactionPostponed(ILogger logger, long copyBytes, long free, long reserve);
    }
}
