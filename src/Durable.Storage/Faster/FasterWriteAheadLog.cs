using Durable.Storage.Persistence;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// The write-ahead log on a FasterLog. Sessions append effect records (<see cref="WalRecord"/>) after applying
/// them to the store; commits make them durable in groups, one at a time: one commit covers every record appended
/// meanwhile, by any connection. A committer loop issues commits on request (or on the everysec/no timer); with
/// appendfsync always, <see cref="ChainedCommitPolicy"/> issues the next one as soon as the last completes. The log's
/// files are opened with O_SYNC, so a completed commit is on disk. A commit is seen complete on the thread that completed
/// its page write, right after the write (<see cref="FlushWatchingDevice"/>), not one hop later in FASTER's commit
/// callback; the replies waiting for it are released in one thread-pool work item (<see cref="Generation.Advance"/>).
/// A failed write poisons FasterLog 2.6.5 (every later commit rethrows the same failure, and its flushed address never
/// moves again; pinned by DiskFaultTests), so after a failure writes are refused until the store replaces the log:
/// <see cref="Reopen"/> opens the files again at their last commit, the store checkpoints (covering every write applied so
/// far), and <see cref="ResumeAsync"/> commits the new log and accepts writes again.
/// </summary>
internal sealed partial class FasterWriteAheadLog : IAsyncDisposable
{
    private readonly string _directory;
    private readonly int _pageBits;
    private readonly Func<IDevice, IDevice>? _wrapDevice;
    private readonly Action<string> _syncDirectory;
    private volatile FsyncPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _commitRequested = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _committer;
    private volatile Generation _current;
    private int _requested;
    private long _lastCommitUnixMs;

    // 1 while the everysec committer sleeps for a second because nothing was appended: the next append wakes it.
    private int _committerIdle;

    // When the log was last known fully committed (a commit completed, or the committer found nothing to commit).
    private long _committedAsOfUnixMs;
    private long _delayedReplies;
    private long _commits;
    private long _faults;
    private long _retiredDirectWrites;
    private long _resumes;
    private volatile Exception? _failure;

    private FasterWriteAheadLog(string directory, int pageBits, Func<IDevice, IDevice>? wrapDevice, Action<string> syncDirectory, Generation first, FsyncPolicy policy, TimeProvider time, ILogger logger)
    {
        _directory = directory;
        _pageBits = pageBits;
        _wrapDevice = wrapDevice;
        _syncDirectory = syncDirectory;
        _current = first;
        _policy = policy;
        _time = time;
        _logger = logger;
        _lastCommitUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        _committedAsOfUnixMs = _lastCommitUnixMs;
        _committer = Task.Run(RunCommitterAsync);
    }

    /// <summary>
    /// One FasterLog on the WAL's files: the first opened, or one that replaced a log poisoned by a failed write. Appenders
    /// count themselves in <see cref="Appenders"/> so that <see cref="Reopen"/> can wait until none still uses a retired log.
    /// </summary>
    private sealed class Generation(IDevice device, FasterLog log, DirectWriteDevice direct, ChainedCommitPolicy policy, int number)
    {
        public int Appenders;
        public int Retired;

        // Everything below this address is durable: the end of the last commit record known to be on disk.
        private long _durable = log.CommittedUntilAddress;

        // Completed each time _durable moves (continuations inline on a write's completion thread, otherwise in one pool
        // work item), or when the log fails or closes (in one pool work item).
        private TaskCompletionSource _advanced = new();

        public IDevice Device => device;

        /// <summary>The device under <see cref="Device"/> (which a test may wrap) that writes with O_DIRECT.</summary>
        public DirectWriteDevice Direct => direct;

        public FasterLog Log => log;

        public ChainedCommitPolicy Policy => policy;

        public int Number => number;

        /// <summary>The address below which every record is durable (a finished commit's end; FasterLog learns it later).</summary>
        public long Durable => Math.Max(Volatile.Read(ref _durable), log.CommittedUntilAddress);

        /// <summary>Completes at the next <see cref="Advance"/> or <see cref="Wake"/>; read it before checking <see cref="Durable"/>.</summary>
        public Task Advanced => Volatile.Read(ref _advanced).Task;

        /// <summary>
        /// A commit up to <paramref name="until"/> finished: moves <see cref="Durable"/> and releases the waiters, on this
        /// thread when <paramref name="inline"/> (see <see cref="Release"/>).
        /// </summary>
        public void Advance(long until, bool inline)
        {
            long durable = Volatile.Read(ref _durable);
            while (until > durable)
            {
                long seen = Interlocked.CompareExchange(ref _durable, until, durable);
                if (seen == durable)
                {
                    break;
                }

                durable = seen;
            }

            Release(inline);
        }

        /// <summary>Releases every waiter to look again (the log failed or closes).</summary>
        public void Wake() => Release(inline: false);

        /// <summary>
        /// Releases every waiter; <paramref name="inline"/>: on this thread (the pool thread that completed a commit's
        /// write, with the next commit already issued), so that a commit wakes no thread for its waiters. A waiter resumed
        /// there sends its replies and leaves the thread before running more (ClientConnection). Otherwise their
        /// continuations run one after the other in a single thread-pool work item.
        /// </summary>
        private void Release(bool inline)
        {
            TaskCompletionSource released = Interlocked.Exchange(ref _advanced, new TaskCompletionSource());
            if (released.Task.IsCompleted)
            {
                return;
            }

            if (inline)
            {
                released.TrySetResult();
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static waiters => waiters.TrySetResult(), released, preferLocal: false);
            }
        }

        public bool Disposed { get; set; }
    }

    /// <summary>
    /// FasterLog's first valid address: the begin address of a log that was never truncated. Truncation only
    /// follows a completed checkpoint, so a log that still begins here holds every write ever made.
    /// Pinned by DiskFaultTests.FasterLog_AfterFailedWrite_StaysPoisonedAndReopensAtLastCommit.
    /// </summary>
    public const long FreshBeginAddress = 64;

    /// <summary>
    /// When appended records are committed (CONFIG SET appendfsync changes it while the server runs). Read afresh by every
    /// wait for durability, every commit admitted and every round of the committer. A change asks for a commit at once, so
    /// that writes acknowledged under the old policy become durable without waiting for the new policy's next one, and so
    /// that the committer, which sleeps without a timer under <c>always</c>, takes up the new policy's interval.
    /// </summary>
    public FsyncPolicy Policy
    {
        get => _policy;
        set
        {
            _policy = value;
            RequestCommit();
        }
    }

    /// <summary>Largest single entry the log takes (one page, less FasterLog's entry header).</summary>
    public int MaxEntryBytes { get; private init; }

    /// <summary>End of everything appended so far.</summary>
    public long TailAddress => _current.Log.TailAddress;

    /// <summary>End of everything appended so far, as a position to wait for (<see cref="WaitForCommitAsync"/>).</summary>
    public WalPosition TailPosition
    {
        get
        {
            Generation current = _current;
            return new WalPosition(current.Number, current.Log.TailAddress);
        }
    }

    public long CommittedAddress => _current.Log.CommittedUntilAddress;

    /// <summary>The address below which every record is durable: a finished commit's end, which FasterLog's <see cref="CommittedAddress"/> learns a moment later.</summary>
    public long DurableAddress => _current.Durable;

    public long BeginAddress => _current.Log.BeginAddress;

    public long SizeBytes => _current.Log.TailAddress - _current.Log.BeginAddress;

    public long LastCommitUnixMs => Volatile.Read(ref _lastCommitUnixMs);

    /// <summary>Replies to writes that waited for a commit because an everysec commit was late (Redis's aof_delayed_fsync).</summary>
    public long DelayedReplies => Interlocked.Read(ref _delayedReplies);

    /// <summary>
    /// With appendfsync everysec: true when writes wait to be committed and the log has not been fully committed for
    /// <see cref="MaxEverySecondLagMs"/> (the disk or the machine is slow). Replies then wait for a commit, as Redis stops
    /// acknowledging writes when its fsync is two seconds late, so that a crash loses about two seconds at most.
    /// </summary>
    public bool IsLagging =>
        _current.Log.TailAddress > _current.Log.CommittedUntilAddress &&
        _time.GetUtcNow().ToUnixTimeMilliseconds() - Volatile.Read(ref _committedAsOfUnixMs) > MaxEverySecondLagMs;

    /// <summary>
    /// How often appendfsync everysec commits what was appended (a commit is skipped when nothing was). Redis's everysec
    /// hands each write to the OS before it replies, so a killed Redis process loses nothing and only a machine crash
    /// loses up to a second; the WAL bypasses the page cache, so only what a commit wrote survives even a killed process.
    /// Commits every 10 ms bring what a killed process loses from up to a second of writes to about 10 ms of them (the
    /// crash tool's worst loss per client and round: 17 writes, against 156-358 with commits once a second), at no
    /// throughput cost measured here (docs/benchmarks.md, session 25).
    /// </summary>
    public static readonly TimeSpan EverySecondCommitInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Longest an everysec commit may be late before replies to writes wait for it.</summary>
    public const long MaxEverySecondLagMs = 2000;

    /// <summary>Like <see cref="WaitForCommitAsync"/>, counted as a reply delayed by a late everysec commit.</summary>
    public ValueTask WaitForLateCommitAsync(WalPosition position, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _delayedReplies);
        return WaitForCommitAsync(position, cancellationToken);
    }

    public long Commits => Volatile.Read(ref _commits);

    /// <summary>Whether the log's writes bypass the OS page cache (<see cref="DirectWriteDevice"/>).</summary>
    public bool WritesBypassPageCache => _current.Direct.Direct;

    /// <summary>Writes done with O_DIRECT, by every log opened so far.</summary>
    public long DirectWrites => _retiredDirectWrites + _current.Direct.DirectWrites;

    /// <summary>Commits that failed (each one a disk fault that made the store refuse writes).</summary>
    public long Faults => Interlocked.Read(ref _faults);

    /// <summary>Times writes resumed after a fault, without a restart.</summary>
    public long Resumes => Interlocked.Read(ref _resumes);

    /// <summary>Set when a commit failed (disk full, I/O error); writes must be refused until <see cref="ResumeAsync"/> succeeds.</summary>
    public Exception? Failure => _failure;

    /// <summary>Bytes of the log's in-memory pages (four; FasterLog allocates them as the tail reaches them).</summary>
    public long BufferBytes => BufferBytesFor(_pageBits);

    /// <summary>The log's in-memory pages for <paramref name="pageBits"/>: FasterLog's memory is four pages (<c>MemorySizeBits</c>).</summary>
    private static long BufferBytesFor(int pageBits) => 1L << (pageBits + 2);

    /// <summary>
    /// Opens the log in <paramref name="directory"/>, recovering it to its last commit (an uncommitted tail is dropped).
    /// A new file's first write counts as done once its directory, and the one above (the data directory), are synced.
    /// <paramref name="wrapDevice"/> and <paramref name="syncDirectory"/> are for tests only (fault injection, and to
    /// see the syncs); production passes null.
    /// </summary>
    public static FasterWriteAheadLog Open(
        string directory, int pageBits, FsyncPolicy policy, TimeProvider time, ILogger logger, Func<IDevice, IDevice>? wrapDevice = null, Action<string>? syncDirectory = null)
    {
        FasterWriteAheadLog? wal = null;
        syncDirectory ??= DirectorySync.Sync;
        // No commit completes while the log is opened and recovered: the first comes from the committer, once wal is set.
        Generation first = OpenLog(directory, pageBits, logger, wrapDevice, syncDirectory, 1, () => wal!);
        wal = new FasterWriteAheadLog(directory, pageBits, wrapDevice, syncDirectory, first, policy, time, logger) { MaxEntryBytes = (1 << pageBits) - 64 };
        return wal;
    }

    /// <summary>Longest <see cref="EnsureCommitFile"/> waits for FasterLog to write the first commit file.</summary>
    private static readonly TimeSpan s_commitFileWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gives a log without a commit file its first one, before it takes any write. FasterLog recovers only from a commit
    /// file (then finds the commit records written after it), and in FastCommitMode it writes one only after a commit's
    /// record is on disk, in its commit callback (then once every thousand commits): a commit is finished, and its
    /// replies released, at the record's write, so on a new data directory the first writes were acknowledged before any
    /// commit file existed, and a SIGKILL at that moment lost them all (found in session 29: one SET, killed at once, gone
    /// after the restart in four runs out of five). So a new log commits an empty batch (replayed as nothing) and waits
    /// until its commit file is written and durable by name. The store calls it after recovery, before it serves writes.
    /// </summary>
    public void EnsureCommitFile()
    {
        string commits = Path.Combine(_directory, "log-commits");
        if (HasCommitFile(commits))
        {
            return;
        }

        Span<byte> empty = stackalloc byte[WalRecord.BatchHeaderSize + WalRecord.ChecksumSize];
        WaitForCommit(Append(empty[..WalRecord.SealBatch(empty, WalRecord.BatchHeaderSize, 0)]), CancellationToken.None);
        System.Diagnostics.Stopwatch waited = System.Diagnostics.Stopwatch.StartNew();
        while (!HasCommitFile(commits))
        {
            if (waited.Elapsed > s_commitFileWait || _failure is not null)
            {
                throw new IOException(
                    $"the write-ahead log in '{_directory}' wrote no commit file within {s_commitFileWait.TotalSeconds} s of its first commit: " +
                    "without one it cannot be recovered, so Durable does not start. Check that the data directory's disk is writable.", _failure);
            }

            Thread.Sleep(1);
        }

        _syncDirectory(commits);
        _syncDirectory(_directory);
    }

    private static bool HasCommitFile(string commits) =>
        Directory.Exists(commits) && Directory.EnumerateFiles(commits, "*", SearchOption.AllDirectories).Any(file => new FileInfo(file).Length > 0);

    /// <summary>Opens the device and the FasterLog on the files in <paramref name="directory"/>, recovered to their last commit.</summary>
    private static Generation OpenLog(
        string directory, int pageBits, ILogger logger, Func<IDevice, IDevice>? wrapDevice, Action<string> syncDirectory, int number, Func<FasterWriteAheadLog> wal)
    {
        Directory.CreateDirectory(directory);
        string root = Path.GetDirectoryName(Path.GetFullPath(directory)) ?? directory;
        DirectWriteDevice direct = new(Devices.CreateLogDevice(Path.Combine(directory, "wal.log"), preallocateFile: false, deleteOnClose: false, recoverDevice: true), logger);
        DirectorySyncingDevice named = new(direct, root, syncDirectory);
        Generation? generation = null;
        string commits = Path.Combine(directory, "log-commits");
        int segmentBits = SegmentBits(pageBits);
        bool hasCommits = Directory.Exists(commits) && Directory.EnumerateFiles(commits, "*", SearchOption.AllDirectories).Any();
        ChainedCommitPolicy admission = new(() => wal() is { Policy: FsyncPolicy.Always }, (until, onWriteCompletion) =>
        {
            wal().OnCommitFinished();
            generation!.Advance(until, inline: onWriteCompletion);
        });
        FlushWatchingDevice device = new(wrapDevice is null ? named : wrapDevice(named), error => wal().OnWriteCompleted(admission, error));
        // Without the throttle every commit writes a new commit file; with it, most commits cost one page write.
        DeviceLogCommitCheckpointManager commitFiles = new(
            new DirectorySyncingDeviceFactory(root, syncDirectory, path => wal().OnCommitFileWriteFailed(path)),
            new DefaultCheckpointNamingScheme(directory), removeOutdated: true, fastCommitThrottleFreq: 1000);
        FasterLog log = new(new FasterLogSettings
        {
            LogDevice = device,
            PageSizeBits = pageBits,
            MemorySizeBits = pageBits + 2,
            SegmentSizeBits = segmentBits,
            FastCommitMode = true,
            LogCommitManager = commitFiles,
            // TryRecoverLatest swallows recovery errors and starts empty; recover explicitly instead.
            TryRecoverLatest = false,
            AutoRefreshSafeTailAddress = false,
            LogCommitPolicy = admission,
        });
        try
        {
            if (hasCommits)
            {
                // A write torn in flight after the newest commit file is cut before FasterLog's recovery can trip on it.
                long promised = CommittedByNewestCommitFile(commitFiles);
                if (promised >= 0)
                {
                    CutTornWrite(directory, promised, pageBits, logger);
                }

                log.Recover();
                if (log.TailAddress < promised)
                {
                    // Never zero what a commit file guarantees as an uncommitted tail (see CutTornWrite).
                    throw new InvalidDataException(
                        $"FasterLog recovered the write-ahead log only to address {log.TailAddress}, below the {promised} its newest commit file guarantees. " +
                        "Refusing to start rather than drop committed writes: restore the data directory from a backup.");
                }

                long dropped = ClearAfterTail(directory, log.TailAddress, segmentBits);
                if (dropped > 0)
                {
                    Log.TailDropped(logger, dropped, log.TailAddress);
                }
            }
        }
        catch
        {
            log.Dispose();
            device.Dispose();
            throw;
        }

        generation = new Generation(device, log, direct, admission, number);
        return generation;
    }

    /// <summary>
    /// Cuts whatever the segment files hold at and after <paramref name="tail"/> (the recovered end: the last intact
    /// commit). FasterLog ignores those bytes (a torn or uncommitted tail), but new records only overwrite them in part;
    /// cutting them keeps the next recovery from reporting them again. Returns how many bytes were not zero.
    /// </summary>
    private static long ClearAfterTail(string directory, long tail, int segmentBits)
    {
        using WalSegmentReader files = new(directory, segmentBits);
        return files.CutFrom(tail);
    }

    /// <summary>The address the newest commit file says is committed; -1 when there is none it can read.</summary>
    private static long CommittedByNewestCommitFile(DeviceLogCommitCheckpointManager commitFiles)
    {
        long newest = commitFiles.ListCommits().DefaultIfEmpty(-1).First();

        // When the file cannot be read, FasterLog's recovery says what is wrong with it.
        return newest >= 0 && commitFiles.GetCommitMetadata(newest) is { } metadata && TryReadCommitInfo(metadata, out FasterLogRecoveryInfo info)
            ? info.UntilAddress
            : -1;
    }

    /// <summary>
    /// Before FasterLog's recovery: walks the log's entries from <paramref name="from"/> (what the newest commit file calls
    /// committed) and where a write was torn in flight (a record that fails its checksum or is cut by its file's end, zeros
    /// with data after them in the page, a commit record cut short or failing its checksum) cuts the files at the end
    /// of the last whole commit record before it (event 207). FasterLog 2.6.5 mishandles both kinds of tear that power
    /// cuts left on ext4 with 1 KiB blocks: a commit record whose second sector never reached the disk it takes for
    /// committed (replay then refused the directory as damaged); a sector missing among the last commits makes its
    /// recovery throw inside, drop its commit file and recover the log to its very beginning, after which the rest was
    /// zeroed as uncommitted (a probe: one 512-byte sector zeroed among the last ten of 1,100 commits left an empty
    /// store). A tear can only be in a write still in flight at the crash, so within the log's buffer (four pages) before
    /// the data's end; damage further back throws when a whole commit record follows it (committed writes may be lost
    /// behind it), and is cut like a tear when none does (only records never committed follow it). Nothing found: the
    /// files are left as they are.
    /// </summary>
    private static void CutTornWrite(string directory, long from, int pageBits, ILogger logger)
    {
        int segmentBits = SegmentBits(pageBits);
        long pageSize = 1L << pageBits;
        using WalSegmentReader files = new(directory, segmentBits);
        long dataEnd = files.DataEnd();
        long position = from;
        long committed = position;
        long torn = -1;
        byte[] entry = new byte[pageSize];
        while (position < dataEnd)
        {
            long offset = position & (pageSize - 1);
            if (pageSize - offset < 4)
            {
                position += pageSize - offset;
                continue;
            }

            int length = files.ReadInt32(position);
            long pageEnd = position - offset + pageSize;
            if (length == 0)
            {
                if (files.FirstNonZero(position, Math.Min(pageEnd, dataEnd)) >= 0)
                {
                    torn = position;
                    break;
                }

                position = pageEnd;
                continue;
            }

            long size = 4 + Align(length < 0 ? -length : length);
            if (length == int.MinValue || offset + size > pageSize || !files.Holds(position, position + size))
            {
                torn = position;
                break;
            }

            files.Read(position + 4, entry.AsSpan(0, Math.Abs(length)));
            if (length > 0 ? !WalRecord.TryDecode(entry.AsSpan(0, length), out _, out _) : !IsWholeCommitRecord(entry.AsSpan(0, -length)))
            {
                torn = position;
                break;
            }

            if (length < 0)
            {
                committed = position + size;
            }

            position += size;
        }

        if (torn < 0)
        {
            return;
        }

        if (torn < dataEnd - BufferBytesFor(pageBits) - 4096 && WholeCommitRecordAfter(files, torn, dataEnd, pageSize) is long commit and >= 0)
        {
            throw new InvalidDataException(
                $"the write-ahead log is damaged at address {torn}, {dataEnd - torn} bytes before the end of its data: further back than any write in flight at a crash could " +
                $"have reached, and a commit (at address {commit}) follows it, so acknowledged writes may follow it. Refusing to start: restore the data directory from a backup.");
        }

        long dropped = files.CutFrom(committed);
        Log.TornWriteCut(logger, torn, committed, dropped);
    }

    /// <summary>
    /// The address of the first whole commit record in the pages after the one holding <paramref name="damage"/> (each
    /// page's entries are walked from its start, as FasterLog starts every page with an entry), or -1 when there is none:
    /// then only records never committed follow the damage, so cutting it loses nothing a commit promised, however far
    /// back it lies (appendfsync no writes up to five seconds of full pages between commits).
    /// </summary>
    private static long WholeCommitRecordAfter(WalSegmentReader files, long damage, long dataEnd, long pageSize)
    {
        byte[] entry = new byte[pageSize];
        for (long page = (damage | (pageSize - 1)) + 1; page < dataEnd; page += pageSize)
        {
            for (long position = page; position + 4 <= page + pageSize;)
            {
                int length = files.ReadInt32(position);
                long size = 4 + Align(length < 0 ? -length : length);
                if (length == 0 || length == int.MinValue || position + size > page + pageSize)
                {
                    break;
                }

                if (length < 0)
                {
                    files.Read(position + 4, entry.AsSpan(0, -length));
                    if (IsWholeCommitRecord(entry.AsSpan(0, -length)))
                    {
                        return position;
                    }
                }

                position += size;
            }
        }

        return -1;
    }

    /// <summary>Whether a commit record's body reads back as FasterLog's commit information, its checksum included.</summary>
    private static bool IsWholeCommitRecord(ReadOnlySpan<byte> body) => TryReadCommitInfo(body.ToArray(), out _);

    /// <summary>Reads FasterLog's commit information (a commit file's, or a commit record's body), checking its checksum.</summary>
    private static bool TryReadCommitInfo(byte[] bytes, out FasterLogRecoveryInfo info)
    {
        info = default;
        try
        {
            using BinaryReader reader = new(new MemoryStream(bytes));
            info.Initialize(reader);
            return true;
        }
        catch (Exception exception) when (exception is FasterException or IOException or EndOfStreamException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Appends one record; returns the log's tail after it (the address a commit must reach to cover it).</summary>
    public WalPosition Append(ReadOnlySpan<byte> record)
    {
        Generation current = _current;
        // Full fences on both sides (here and in Reopen): either Reopen sees this appender, or this appender sees the log retired.
        Interlocked.Increment(ref current.Appenders);
        try
        {
            if (Volatile.Read(ref current.Retired) != 0)
            {
                // Only a write that passed the MISCONF check just before a fault gets here: its effect is in the store,
                // and the checkpoint that precedes resumption will hold it; the connection gets no reply.
                throw new IOException("the write-ahead log is being reopened after a failed write");
            }

            current.Log.Enqueue(record);
            // After the enqueue, which moved the tail with a full fence: either this sees the committer idle, or the
            // committer, which marks itself idle before it reads the tail, sees this record.
            if (Volatile.Read(ref _committerIdle) != 0 && Interlocked.Exchange(ref _committerIdle, 0) != 0)
            {
                RequestCommit();
            }

            return new WalPosition(current.Number, current.Log.TailAddress);
        }
        finally
        {
            Interlocked.Decrement(ref current.Appenders);
        }
    }

    /// <summary>Whether the records up to <paramref name="position"/> are known to be durable.</summary>
    public bool IsDurable(WalPosition position)
    {
        Generation current = _current;
        if (position.Generation != current.Number)
        {
            // Appended to a log replaced after a failure: once writes resumed, the checkpoint taken before resuming holds
            // every write applied before the replacement. Until then, a record past the old log's last commit is not safe.
            return position.Address == 0 || _failure is null;
        }

        return position.Address <= current.Durable;
    }

    /// <summary>Completes once everything up to <paramref name="position"/> is durable; fails while the log cannot be written.</summary>
    public ValueTask WaitForCommitAsync(WalPosition position, CancellationToken cancellationToken)
    {
        if (IsDurable(position))
        {
            return ValueTask.CompletedTask;
        }

        return BeginWait(position, out Generation current) is { } failure
            ? ValueTask.FromException(failure)
            : WaitForDurableAsync(current, position, cancellationToken);
    }

    /// <summary>
    /// Blocks until everything up to <paramref name="position"/> is durable (for FASTER's synchronous checkpoint callback);
    /// throws <see cref="IOException"/> while the log cannot be written. It polls <see cref="IsDurable"/> rather than wait
    /// for <see cref="Generation.Advanced"/>: that one's continuations run one after another on the thread that finished
    /// the commit, and a waiter resumed there before this one may wait for a key stripe this thread holds (the callback
    /// runs inside a command's store operation), which would leave both waiting for ever.
    /// </summary>
    public void WaitForCommit(WalPosition position, CancellationToken cancellationToken)
    {
        if (IsDurable(position))
        {
            return;
        }

        if (BeginWait(position, out Generation current) is { } failure)
        {
            throw failure;
        }

        while (!IsDurable(position))
        {
            if (Failed(current) is { } failed)
            {
                throw failed;
            }

            cancellationToken.ThrowIfCancellationRequested();
            Thread.Sleep(1);
        }
    }

    /// <summary>Before waiting for <paramref name="position"/>: the failure to report, or null once a commit is sure to cover it.</summary>
    private IOException? BeginWait(WalPosition position, out Generation current)
    {
        current = _current;
        Exception? failure = _failure;
        if (failure is not null || position.Generation != current.Number)
        {
            return CannotWrite(failure, "it was replaced after a failed write");
        }

        // A commit in flight that chains issues the next one for this record when it completes; otherwise ask for one.
        if (!current.Policy.Chaining)
        {
            RequestCommit();
        }

        return null;
    }

    /// <summary>While waiting on <paramref name="current"/>: the error to report if the log failed, closed or was replaced.</summary>
    private IOException? Failed(Generation current)
    {
        Exception? failure = _failure;
        return failure is not null || _current != current || current.Disposed ? CannotWrite(failure, "it was closed or replaced") : null;
    }

    /// <summary>The error of a wait the log cannot complete: <paramref name="failure"/>'s message, or <paramref name="otherwise"/>.</summary>
    private static IOException CannotWrite(Exception? failure, string otherwise) =>
        new("the write-ahead log cannot be written: " + (failure?.Message ?? otherwise), failure);

    private async ValueTask WaitForDurableAsync(Generation current, WalPosition position, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task advanced = current.Advanced;
            if (IsDurable(position))
            {
                return;
            }

            if (Failed(current) is { } failed)
            {
                throw failed;
            }

            await advanced.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void RequestCommit()
    {
        if (Interlocked.Exchange(ref _requested, 1) == 0)
        {
            _commitRequested.Release();
        }
    }

    /// <summary>Drops records below <paramref name="address"/> (covered by a checkpoint); the space is freed after the next commit.</summary>
    public void TruncateUntil(long address)
    {
        _current.Log.TruncateUntil(address);
        RequestCommit();
    }

    /// <summary>
    /// Reads the committed records from <paramref name="from"/> on, in order, for recovery, each with the address after it.
    /// Throws <see cref="FasterException"/> where FasterLog cannot follow the log (an entry length it cannot step over, or a
    /// page that starts with zeros).
    /// </summary>
    public IEnumerable<(byte[] Record, int Length, long Address, long Next)> ReadCommitted(long from)
    {
        FasterLog log = _current.Log;
        using FasterLogScanIterator iterator = log.Scan(Math.Max(from, log.BeginAddress), log.CommittedUntilAddress);
        while (iterator.GetNext(out byte[] entry, out int length, out long address, out long next))
        {
            yield return (entry, length, address, next);
        }
    }

    /// <summary>
    /// Reads the segment files themselves from <paramref name="from"/> (the end of the last entry a recovery scan read) to
    /// <paramref name="to"/> (the committed end), stepping over commit records and zeros at the end of a page, as FasterLog's
    /// scan does; unlike the scan, it checks that the rest of a page after a zero entry length is zero, and it goes on past
    /// a page that starts with zeros. Bytes beyond a file's end (a file cut short) read as zeros.
    /// </summary>
    /// <returns><see cref="WalRemainder.Clean"/> when commit records and page padding lead to <paramref name="to"/>;
    /// <see cref="WalRemainder.Zeroed"/> with the address where zeros begin that run to <paramref name="to"/> (a torn tail);
    /// <see cref="WalRemainder.Data"/> with the address of the first other byte (a record, or garbage).</returns>
    public (WalRemainder Kind, long Address) InspectCommittedRemainder(long from, long to)
    {
        using WalSegmentReader files = new(_directory, SegmentBits(_pageBits));
        long pageSize = 1L << _pageBits;
        long position = from;
        long zerosFrom = -1;
        while (position < to)
        {
            long offset = position & (pageSize - 1);
            int length = files.ReadInt32(position);
            if (length < 0 && length != int.MinValue && offset + 4 + Align(-length) <= pageSize)
            {
                // A commit record (FasterLog gives them negative lengths); the scan steps over them too.
                position += 4 + Align(-length);
                zerosFrom = -1;
                continue;
            }

            long pageEnd = position - offset + pageSize;
            long stop = length == 0 && offset != 0 ? Math.Min(pageEnd, to) : to;
            long nonZero = files.FirstNonZero(position, stop);
            if (nonZero >= 0)
            {
                return (WalRemainder.Data, nonZero);
            }

            zerosFrom = zerosFrom < 0 ? position : zerosFrom;
            if (stop == to)
            {
                return (WalRemainder.Zeroed, zerosFrom);
            }

            // Zeros to the end of the page: padding before an entry that did not fit, or the start of a torn tail.
            position = pageEnd;
        }

        return (WalRemainder.Clean, to);
    }

    /// <summary>Whether a whole sector of zeros lies between <paramref name="from"/> and <paramref name="to"/> in the segment files (<see cref="WalSegmentReader.HasZeroSector"/>).</summary>
    public bool HasZeroSector(long from, long to)
    {
        using WalSegmentReader files = new(_directory, SegmentBits(_pageBits));
        return files.HasZeroSector(from, to);
    }

    private static int Align(int length) => (length + 3) & ~3;

    /// <summary>Bits of a WAL segment file: 1 GiB, or a page when pages are larger.</summary>
    private static int SegmentBits(int pageBits) => Math.Max(pageBits, 30);

    /// <summary>
    /// After each write of the log (on the pool thread that wrote it): finishes the commit in flight if the write completed
    /// it; a failed write wakes the committer, whose commit then reports the failure (and wakes the waiters).
    /// </summary>
    private void OnWriteCompleted(ChainedCommitPolicy commits, uint error)
    {
        if (error != 0)
        {
            RequestCommit();
            return;
        }

        try
        {
            commits.OnWriteCompleted();
        }
        catch (Exception exception) when (exception is FasterException or ObjectDisposedException)
        {
            // The next commit chained from here failed to start (the log failed or closes): the committer reports it.
            RequestCommit();
        }
    }

    /// <summary>Counts a completed commit (any: the committer's, or one chained by <see cref="ChainedCommitPolicy"/>).</summary>
    private void OnCommitFinished()
    {
        Volatile.Write(ref _lastCommitUnixMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
        Interlocked.Increment(ref _commits);
    }

    private async Task RunCommitterAsync()
    {
        CancellationToken stopping = _stopping.Token;
        bool quiet = false;
        while (!stopping.IsCancellationRequested)
        {
            // everysec with nothing appended since the last look: sleep up to a second (as often as Redis's everysec
            // fsyncs) rather than wake every 10 ms for nothing; the next append wakes the committer (Append).
            bool idle = quiet && TryGoIdle();
            TimeSpan interval = _policy switch
            {
                FsyncPolicy.Always => Timeout.InfiniteTimeSpan,
                FsyncPolicy.EverySecond => EverySecondCommitInterval,
                _ => TimeSpan.FromSeconds(5),
            };
            try
            {
                await _commitRequested.WaitAsync(idle ? TimeSpan.FromSeconds(1) : interval, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Volatile.Write(ref _committerIdle, 0);
            Volatile.Write(ref _requested, 0);
            quiet = !await CommitNowAsync(stopping) && _policy == FsyncPolicy.EverySecond;
        }
    }

    // Marks the committer idle, then reads the tail (Append reads in the other order): false, and not idle, when a record
    // arrived meanwhile.
    private bool TryGoIdle()
    {
        Interlocked.Exchange(ref _committerIdle, 1);
        FasterLog log = _current.Log;
        if (log.TailAddress <= log.CommittedUntilAddress)
        {
            return true;
        }

        Volatile.Write(ref _committerIdle, 0);
        return false;
    }

    /// <summary>Commits what was appended or truncated since the last commit; false when there was nothing to commit (or the log failed).</summary>
    private async Task<bool> CommitNowAsync(CancellationToken cancellationToken)
    {
        // After a failure FasterLog rethrows it on every commit: only a new log (Reopen, ResumeAsync) commits again.
        if (_failure is not null)
        {
            return false;
        }

        FasterLog log = _current.Log;
        if (log.TailAddress <= log.CommittedUntilAddress && log.BeginAddress <= log.CommittedBeginAddress)
        {
            Volatile.Write(ref _committedAsOfUnixMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
            return false;
        }

        try
        {
            long started = _time.GetUtcNow().ToUnixTimeMilliseconds();
            long tail = log.TailAddress;
            await log.CommitAsync(cancellationToken);
            // Not admitted while another commit was in flight, it is issued when that one completes: wait for it.
            await log.WaitForCommitAsync(tail, token: cancellationToken);
            // Everything appended before the commit started is now durable.
            Volatile.Write(ref _committedAsOfUnixMs, started);
            return true;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception exception)
        {
            _failure = exception;
            Interlocked.Increment(ref _faults);
            Log.CommitFailed(_logger, log.CommittedUntilAddress, exception);
            _current.Wake();
        }

        return false;
    }

    /// <summary>
    /// A write of a commit file (<c>log-commits/commit.N</c>, written every thousand commits) failed. FASTER 2.6.5 ignores
    /// that and, next, deletes the commit file before the previous one: left in place, the short or empty file would be the
    /// newest one recovery reads. So it is deleted (recovery then starts from the previous one and finds the later commits
    /// in the log itself), and the log fails as after a failed commit: writes are refused until the disk takes writes again.
    /// </summary>
    private void OnCommitFileWriteFailed(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Left for recovery, which refuses an unreadable commit file with a clear message rather than guess.
        }

        if (_failure is null)
        {
            IOException failure = new($"a write of the write-ahead log's commit file '{path}' failed (disk full or I/O error)");
            _failure = failure;
            Interlocked.Increment(ref _faults);
            Log.CommitFailed(_logger, _current.Log.CommittedUntilAddress, failure);
            _current.Wake();
        }
    }

    /// <summary>
    /// While the log is failing: retires the poisoned FasterLog (waiting until no append still uses it), disposes it and opens
    /// the files again at their last commit. Writes stay refused, and nothing is committed, until <see cref="ResumeAsync"/>:
    /// the new log's records land from the last commit on, below addresses that a checkpoint taken during the fault may hold
    /// as its replay position, so the caller must checkpoint before the new log commits anything. If opening fails, the log
    /// stays retired (appends throw) and the next call tries again.
    /// </summary>
    public void Reopen()
    {
        if (_failure is null)
        {
            throw new InvalidOperationException("the write-ahead log is not failing");
        }

        Generation old = _current;
        Interlocked.Exchange(ref old.Retired, 1);
        SpinWait spin = default;
        while (Volatile.Read(ref old.Appenders) != 0)
        {
            spin.SpinOnce();
        }

        if (!old.Disposed)
        {
            old.Disposed = true;
            old.Log.Dispose();
            old.Device.Dispose();
        }

        Generation next = OpenLog(_directory, _pageBits, _logger, _wrapDevice, _syncDirectory, old.Number + 1, () => this);
        _retiredDirectWrites += old.Direct.DirectWrites;
        _current = next;
        old.Wake();
    }

    /// <summary>
    /// After <see cref="Reopen"/> and a checkpoint that covers every write applied so far (it truncated the new log at its
    /// replay position): commits the new log, which proves the disk takes writes again, and accepts writes again. Throws,
    /// leaving writes refused, when the commit fails.
    /// </summary>
    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        Generation current = _current;
        if (_failure is not { } failure || current.Retired != 0)
        {
            throw new InvalidOperationException("the write-ahead log is not failing, or was not reopened");
        }

        long started = _time.GetUtcNow().ToUnixTimeMilliseconds();
        // A fresh FasterLog always writes a commit record here (its truncation point moved, or nothing was committed yet).
        await current.Log.CommitAsync(cancellationToken);
        Volatile.Write(ref _committedAsOfUnixMs, started);
        Interlocked.Increment(ref _resumes);
        _failure = null;
        Log.Resumed(_logger, current.Log.BeginAddress, failure.Message);
    }

    /// <summary>
    /// Writes and syncs a small file beside the log, then deletes it: a cheap check that the disk takes writes again
    /// before a resumption attempt pays for a checkpoint. False (with the reason) when it does not.
    /// </summary>
    public bool ProbeDisk(out string? problem)
    {
        string path = Path.Combine(_directory, "probe.tmp");
        try
        {
            using (FileStream probe = new(path, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
            {
                probe.Write(new byte[4096]);
                probe.Flush(flushToDisk: true);
            }

            File.Delete(path);
            problem = null;
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            problem = exception.Message;
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _committer;
        // A last commit so that a graceful stop leaves nothing behind in memory.
        await CommitNowAsync(CancellationToken.None);
        Generation current = _current;
        if (!current.Disposed)
        {
            current.Disposed = true;
            current.Log.Dispose();
            current.Device.Dispose();
            current.Wake();
        }

        _commitRequested.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Cut the write-ahead log's tail: {Bytes} non-zero bytes after the last intact commit (address {Address}) " +
            "were dropped: a record torn by a crash, or appended but never committed (so never acknowledged with appendfsync always)")]
        public static partial void TailDropped(ILogger logger, long bytes, long address);

        [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "The write-ahead log's last writes were torn by the crash (damage at address {Torn}, after " +
            "the last whole commit): dropped {Dropped} bytes from the end of that commit ({Committed}) on. No commit from the tear on had completed, so no write acknowledged with " +
            "appendfsync always is lost (FasterLog 2.6.5 misreads such a tear)")]
        public static partial void TornWriteCut(ILogger logger, long torn, long committed, long dropped);

        [LoggerMessage(EventId = 200, Level = LogLevel.Critical, Message = "Write-ahead log commit failed: refusing writes (-MISCONF) until the disk takes writes again. " +
            "Reads go on; everything committed (up to WAL address {CommittedAddress}) is on disk. Retrying every second: reopen the log, checkpoint, commit")]
        public static partial void CommitFailed(ILogger logger, long committedAddress, Exception exception);

        [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Write-ahead log writable again: reopened at its last commit, checkpointed (replay now starts at WAL address {Address}) " +
            "and committed; accepting writes again. The fault was: {Failure}")]
        public static partial void Resumed(ILogger logger, long address, string failure);
    }
}
