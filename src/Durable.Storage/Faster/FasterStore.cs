using System.Diagnostics;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// The store on a FASTER hybrid log. Keys are stored as one byte of physical database number followed by the
/// client's key; logical databases map onto physical ones through a small table (so SWAPDB is O(1)) that is
/// itself a record, key 0xFF "dbmap". Key and TTL counts per database are kept in memory and rebuilt from the
/// log at startup.
/// </summary>
public sealed partial class FasterStore : IStore
{
    internal const byte MetadataPrefix = 0xFF;
    internal static ReadOnlySpan<byte> DatabaseMapKey => [MetadataPrefix, (byte)'d', (byte)'b', (byte)'m', (byte)'a', (byte)'p'];

    private readonly StoreOptions _options;
    private readonly ILogger _logger;
    private readonly IDevice _device;
    private readonly long[] _keyCounts = new long[256];
    private readonly long[] _expiringCounts = new long[256];
    private readonly byte[] _physical;
    private readonly CancellationTokenSource _stopping = new();
    private readonly RmwValueLength _valueLength = new();
    private Task _expiryLoop = Task.CompletedTask;
    private long _expiredKeys;
    private long _pendingReads;
    private long _lastCheckpointUnixSeconds;
    private int _checkpointsTaken;

    private FasterStore(StoreOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        string logDirectory = Path.Combine(options.DataDirectory, "log");
        Directory.CreateDirectory(logDirectory);
        _device = Devices.CreateLogDevice(Path.Combine(logDirectory, "hlog"), preallocateFile: false, deleteOnClose: false, recoverDevice: true);

        int memoryBits = Math.Max(16, FloorLog2(options.MemoryBytes));
        int pageBits = Math.Clamp(memoryBits - 2, 12, 25);
        int segmentBits = Math.Max(pageBits, FloorLog2(options.SegmentBytes));
        long buckets = 1L << Math.Max(10, FloorLog2(options.IndexBytes / 64));
        PageBytes = 1L << pageBits;
        Kv = new FasterKV<SpanByte, SpanByte>(
            buckets,
            new LogSettings { LogDevice = _device, PageSizeBits = pageBits, MemorySizeBits = memoryBits, SegmentSizeBits = segmentBits, MutableFraction = 0.9 },
            new CheckpointSettings { CheckpointDir = Path.Combine(options.DataDirectory, "checkpoints"), RemoveOutdated = true },
            logger: null);
        _physical = new byte[options.Databases];
        for (int i = 0; i < _physical.Length; i++)
        {
            _physical[i] = (byte)i;
        }
    }

    internal FasterKV<SpanByte, SpanByte> Kv { get; }

    internal TimeProvider Time => _options.Time;

    /// <summary>Size of a log page: one record (key, value and headers) must fit in one page.</summary>
    public long PageBytes { get; }

    /// <summary>Largest key plus value this store accepts (a record must fit in a log page).</summary>
    public long MaxRecordBytes => PageBytes - 64;

    /// <summary>Key plus payload: the record less its header and the database byte that prefixes every stored key.</summary>
    public long MaxValueBytes => MaxRecordBytes - RecordHeader.Size - 1;

    public int Databases => _options.Databases;

    public KeyLocks Locks { get; } = new();

    /// <summary>Opens (and recovers, when the directory holds a checkpoint) the store in <see cref="StoreOptions.DataDirectory"/>.</summary>
    public static FasterStore Open(StoreOptions options, ILogger logger)
    {
        if (options.Databases is < 1 or > 255)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "databases must be between 1 and 255");
        }

        FasterStore store = new(options, logger);
        try
        {
            store.Recover();
            store._expiryLoop = Task.Run(() => new ExpiryCycle(store).RunAsync(store._stopping.Token));
            return store;
        }
        catch
        {
            store.Kv.Dispose();
            store._device.Dispose();
            throw;
        }
    }

    private void Recover()
    {
        string checkpoints = Path.Combine(_options.DataDirectory, "checkpoints", "cpr-checkpoints");
        bool hasCheckpoint = Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints).Any();
        bool hasLog = Directory.EnumerateFiles(Path.Combine(_options.DataDirectory, "log")).Any(f => new FileInfo(f).Length > 0);
        if (!hasCheckpoint)
        {
            if (hasLog)
            {
                throw new InvalidDataException(
                    $"the data directory '{_options.DataDirectory}' holds log files but no checkpoint to recover them from; " +
                    "refusing to start empty over existing data. Move the directory away to start fresh.");
            }

            Log.StartingEmpty(_logger, _options.DataDirectory);
            return;
        }

        Stopwatch watch = Stopwatch.StartNew();
        // Recover() (not TryRecoverLatest) so that a damaged checkpoint stops startup instead of starting empty.
        Kv.Recover();
        using (FasterStoreSession session = (FasterStoreSession)OpenSession())
        {
            session.LoadDatabaseMap(_physical);
            session.CountKeys(_keyCounts, _expiringCounts);
        }

        long keys = 0;
        foreach (long count in _keyCounts)
        {
            keys += count;
        }

        Log.Recovered(_logger, keys, Kv.Log.TailAddress - Kv.Log.BeginAddress, watch.ElapsedMilliseconds);
    }

    public IStoreSession OpenSession() =>
        new FasterStoreSession(this, Kv.For(new StoreFunctions()).NewSession<StoreFunctions>(
            sessionVariableLengthStructSettings: new SessionVariableLengthStructSettings<SpanByte, SpanByte> { valueLength = _valueLength }));

    internal byte Physical(int db) => Volatile.Read(ref _physical[db]);

    internal void SwapPhysical(int first, int second, FasterStoreSession session)
    {
        (_physical[first], _physical[second]) = (_physical[second], _physical[first]);
        session.SaveDatabaseMap(_physical);
    }

    internal void AdjustCounts(byte physical, long keys, long expiring)
    {
        if (keys != 0)
        {
            Interlocked.Add(ref _keyCounts[physical], keys);
        }

        if (expiring != 0)
        {
            Interlocked.Add(ref _expiringCounts[physical], expiring);
        }
    }

    internal void CountExpired() => Interlocked.Increment(ref _expiredKeys);

    internal void CountPendingRead() => Interlocked.Increment(ref _pendingReads);

    public long KeyCount(int db) => Volatile.Read(ref _keyCounts[Physical(db)]);

    public long ExpiringKeyCount(int db) => Volatile.Read(ref _expiringCounts[Physical(db)]);

    public StoreStatistics GetStatistics() => new(
        Volatile.Read(ref _expiredKeys),
        Kv.Log.MemorySizeBytes,
        Kv.Log.TailAddress,
        Kv.Log.HeadAddress,
        Kv.Log.BeginAddress,
        Kv.IndexSize * 64,
        Volatile.Read(ref _pendingReads),
        Volatile.Read(ref _lastCheckpointUnixSeconds),
        Volatile.Read(ref _checkpointsTaken));

    public async ValueTask CheckpointAsync(CancellationToken cancellationToken)
    {
        Stopwatch watch = Stopwatch.StartNew();
        (bool success, Guid token) = await Kv.TakeFullCheckpointAsync(CheckpointType.Snapshot, cancellationToken);
        if (!success)
        {
            throw new InvalidOperationException("checkpoint did not complete (another checkpoint was in progress)");
        }

        Volatile.Write(ref _lastCheckpointUnixSeconds, Time.GetUtcNow().ToUnixTimeSeconds());
        Interlocked.Increment(ref _checkpointsTaken);
        Log.CheckpointTaken(_logger, token, watch.ElapsedMilliseconds);
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

        Kv.Dispose();
        _device.Dispose();
        _stopping.Dispose();
    }

    private static int FloorLog2(long value) => value <= 1 ? 0 : 63 - (int)long.LeadingZeroCount(value);

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "No checkpoint in {Directory}: starting with an empty data set")]
        public static partial void StartingEmpty(ILogger logger, string directory);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Recovered {Keys} keys ({LogBytes} bytes of log) in {Milliseconds} ms")]
        public static partial void Recovered(ILogger logger, long keys, long logBytes, long milliseconds);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Checkpoint {Token} written in {Milliseconds} ms")]
        public static partial void CheckpointTaken(ILogger logger, Guid token, long milliseconds);

        [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Background expiry failed; retrying")]
        public static partial void ExpiryFailed(ILogger logger, Exception exception);
    }
}
