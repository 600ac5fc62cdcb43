using Durable.Storage.Persistence;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// The write-ahead log on a FasterLog. Sessions append effect records (<see cref="WalRecord"/>) after applying
/// them to the store; one committer loop makes them durable in groups: one commit covers every record appended
/// meanwhile, by any connection. The log's files are opened with O_SYNC, so a completed commit is on disk.
/// A failed write poisons FasterLog 2.6.5 for the rest of the process (every later commit rethrows the same
/// failure, and its flushed address never moves again; pinned by DiskFaultTests), so the first failure is final:
/// writes are refused until a restart, which recovers the log to its last successful commit.
/// </summary>
internal sealed partial class FasterWriteAheadLog : IAsyncDisposable
{
    private readonly IDevice _device;
    private readonly FasterLog _log;
    private readonly FsyncPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _commitRequested = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _committer;
    private int _requested;
    private long _lastCommitUnixMs;

    // When the log was last known fully committed (a commit completed, or the committer found nothing to commit).
    private long _committedAsOfUnixMs;
    private long _delayedReplies;
    private long _commits;
    private volatile Exception? _failure;

    private FasterWriteAheadLog(IDevice device, FasterLog log, FsyncPolicy policy, TimeProvider time, ILogger logger)
    {
        _device = device;
        _log = log;
        _policy = policy;
        _time = time;
        _logger = logger;
        _lastCommitUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        _committedAsOfUnixMs = _lastCommitUnixMs;
        _committer = Task.Run(RunCommitterAsync);
    }

    /// <summary>
    /// FasterLog's first valid address: the begin address of a log that was never truncated. Truncation only
    /// follows a completed checkpoint, so a log that still begins here holds every write ever made.
    /// Pinned by DiskFaultTests.FasterLog_AfterFailedWrite_StaysPoisonedAndReopensAtLastCommit.
    /// </summary>
    public const long FreshBeginAddress = 64;

    public FsyncPolicy Policy => _policy;

    /// <summary>Largest single entry the log takes (one page, less FasterLog's entry header).</summary>
    public int MaxEntryBytes { get; private init; }

    /// <summary>End of everything appended so far.</summary>
    public long TailAddress => _log.TailAddress;

    public long CommittedAddress => _log.CommittedUntilAddress;

    public long BeginAddress => _log.BeginAddress;

    public long SizeBytes => _log.TailAddress - _log.BeginAddress;

    public long LastCommitUnixMs => Volatile.Read(ref _lastCommitUnixMs);

    /// <summary>Replies to writes that waited for a commit because an everysec commit was late (Redis's aof_delayed_fsync).</summary>
    public long DelayedReplies => Interlocked.Read(ref _delayedReplies);

    /// <summary>
    /// With appendfsync everysec: true when writes wait to be committed and the log has not been fully committed for
    /// <see cref="MaxEverySecondLagMs"/> (the disk or the machine is slow). Replies then wait for a commit, as Redis stops
    /// acknowledging writes when its fsync is two seconds late, so that a crash loses about two seconds at most.
    /// </summary>
    public bool IsLagging =>
        _log.TailAddress > _log.CommittedUntilAddress &&
        _time.GetUtcNow().ToUnixTimeMilliseconds() - Volatile.Read(ref _committedAsOfUnixMs) > MaxEverySecondLagMs;

    /// <summary>Longest an everysec commit may be late before replies to writes wait for it.</summary>
    public const long MaxEverySecondLagMs = 2000;

    /// <summary>Like <see cref="WaitForCommitAsync"/>, counted as a reply delayed by a late everysec commit.</summary>
    public ValueTask WaitForLateCommitAsync(long address, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _delayedReplies);
        return WaitForCommitAsync(address, cancellationToken);
    }

    public long Commits => Volatile.Read(ref _commits);

    /// <summary>Set when a commit failed (disk full, I/O error); writes must be refused from then on, until a restart.</summary>
    public Exception? Failure => _failure;

    /// <summary>
    /// Opens the log in <paramref name="directory"/>, recovering it to its last commit (an uncommitted tail is dropped).
    /// <paramref name="wrapDevice"/> is for tests only (fault injection); production passes null.
    /// </summary>
    public static FasterWriteAheadLog Open(string directory, int pageBits, FsyncPolicy policy, TimeProvider time, ILogger logger, Func<IDevice, IDevice>? wrapDevice = null)
    {
        Directory.CreateDirectory(directory);
        IDevice device = Devices.CreateLogDevice(Path.Combine(directory, "wal.log"), preallocateFile: false, deleteOnClose: false, recoverDevice: true);
        if (wrapDevice is not null)
        {
            device = wrapDevice(device);
        }

        string commits = Path.Combine(directory, "log-commits");
        int segmentBits = Math.Max(pageBits, 30);
        bool hasCommits = Directory.Exists(commits) && Directory.EnumerateFiles(commits, "*", SearchOption.AllDirectories).Any();
        FasterLog log = new(new FasterLogSettings
        {
            LogDevice = device,
            PageSizeBits = pageBits,
            MemorySizeBits = pageBits + 2,
            SegmentSizeBits = segmentBits,
            FastCommitMode = true,
            // Without this throttle every commit writes a new commit file; with it, most commits cost one page write.
            LogCommitManager = new DeviceLogCommitCheckpointManager(
                new LocalStorageNamedDeviceFactory(), new DefaultCheckpointNamingScheme(directory), removeOutdated: true, fastCommitThrottleFreq: 1000),
            // TryRecoverLatest swallows recovery errors and starts empty; recover explicitly instead.
            TryRecoverLatest = false,
            AutoRefreshSafeTailAddress = false,
        });
        try
        {
            if (hasCommits)
            {
                log.Recover();
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

        return new FasterWriteAheadLog(device, log, policy, time, logger) { MaxEntryBytes = (1 << pageBits) - 64 };
    }

    /// <summary>
    /// Zeroes whatever the segment files hold at and after <paramref name="tail"/> (the recovered end: the last intact
    /// commit). FasterLog ignores those bytes (a torn or uncommitted tail), but new records only overwrite them in part;
    /// clearing them keeps the next recovery from reporting them again. Returns how many bytes were not zero already.
    /// </summary>
    private static long ClearAfterTail(string directory, long tail, int segmentBits)
    {
        long dropped = 0;
        byte[] buffer = new byte[64 * 1024];
        foreach (string file in Directory.EnumerateFiles(directory, "wal.log.*"))
        {
            if (!long.TryParse(Path.GetExtension(file).AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long segment))
            {
                continue;
            }

            long from = Math.Max(0, tail - (segment << segmentBits));
            using FileStream stream = new(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            long nonZero = 0;
            for (long position = from; position < stream.Length; position += buffer.Length)
            {
                stream.Position = position;
                int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                nonZero += read - buffer.AsSpan(0, read).Count((byte)0);
            }

            if (nonZero > 0)
            {
                stream.Position = from;
                Array.Clear(buffer);
                for (long left = stream.Length - from; left > 0; left -= buffer.Length)
                {
                    stream.Write(buffer, 0, (int)Math.Min(left, buffer.Length));
                }

                stream.Flush(flushToDisk: true);
                dropped += nonZero;
            }
        }

        return dropped;
    }

    /// <summary>Appends one record; returns the log's tail after it (the address a commit must reach to cover it).</summary>
    public long Append(ReadOnlySpan<byte> record)
    {
        _log.Enqueue(record);
        return _log.TailAddress;
    }

    /// <summary>Completes once everything up to <paramref name="address"/> is durable.</summary>
    public ValueTask WaitForCommitAsync(long address, CancellationToken cancellationToken)
    {
        if (address <= _log.CommittedUntilAddress)
        {
            return ValueTask.CompletedTask;
        }

        if (_failure is { } failure)
        {
            return ValueTask.FromException(new IOException("the write-ahead log cannot be written: " + failure.Message, failure));
        }

        RequestCommit();
        return _log.WaitForCommitAsync(address, token: cancellationToken);
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
        _log.TruncateUntil(address);
        RequestCommit();
    }

    /// <summary>Reads the committed records from <paramref name="from"/> on, in order, for recovery.</summary>
    public IEnumerable<(byte[] Record, int Length, long Address)> ReadCommitted(long from)
    {
        using FasterLogScanIterator iterator = _log.Scan(Math.Max(from, _log.BeginAddress), _log.CommittedUntilAddress);
        while (iterator.GetNext(out byte[] entry, out int length, out long address))
        {
            yield return (entry, length, address);
        }
    }

    private async Task RunCommitterAsync()
    {
        TimeSpan interval = _policy switch
        {
            FsyncPolicy.Always => Timeout.InfiniteTimeSpan,
            FsyncPolicy.EverySecond => TimeSpan.FromSeconds(1),
            _ => TimeSpan.FromSeconds(5),
        };
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _commitRequested.WaitAsync(interval, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Volatile.Write(ref _requested, 0);
            await CommitNowAsync(stopping);
        }
    }

    private async Task CommitNowAsync(CancellationToken cancellationToken)
    {
        // After a failure FasterLog rethrows it on every commit: retrying would only repeat the log line.
        if (_failure is not null)
        {
            return;
        }

        if (_log.TailAddress <= _log.CommittedUntilAddress && _log.BeginAddress <= _log.CommittedBeginAddress)
        {
            Volatile.Write(ref _committedAsOfUnixMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
            return;
        }

        try
        {
            long started = _time.GetUtcNow().ToUnixTimeMilliseconds();
            await _log.CommitAsync(cancellationToken);
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            Volatile.Write(ref _lastCommitUnixMs, now);
            // Everything appended before the commit started is now durable.
            Volatile.Write(ref _committedAsOfUnixMs, started);
            Interlocked.Increment(ref _commits);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception exception)
        {
            _failure = exception;
            Log.CommitFailed(_logger, _log.CommittedUntilAddress, exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _committer;
        // A last commit so that a graceful stop leaves nothing behind in memory.
        await CommitNowAsync(CancellationToken.None);
        _log.Dispose();
        _device.Dispose();
        _commitRequested.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Cut the write-ahead log's tail: {Bytes} non-zero bytes after the last intact commit (address {Address}) " +
            "were dropped: a record torn by a crash, or appended but never committed (so never acknowledged with appendfsync always)")]
        public static partial void TailDropped(ILogger logger, long bytes, long address);

        [LoggerMessage(EventId = 200, Level = LogLevel.Critical, Message = "Write-ahead log commit failed: refusing writes until restart (the log cannot recover from a failed write in-process). " +
            "Reads go on; everything committed (up to WAL address {CommittedAddress}) is on disk. Fix the disk, then restart the server")]
        public static partial void CommitFailed(ILogger logger, long committedAddress, Exception exception);
    }
}
