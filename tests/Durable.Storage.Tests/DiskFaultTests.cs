using System.Buffers;
using System.Diagnostics;
using System.Text;
using Durable.Storage.Faster;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Tests;

/// <summary>
/// The write-ahead log's disk fails: writes are refused, reads go on, nothing acknowledged is lost, and once the disk
/// works again the store replaces the failed log and accepts writes without a restart.
/// </summary>
public sealed class DiskFaultTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(20);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly RecordingLogger _logger = new();
    private FaultInjectingDevice? _device;

    private StoreOptions Options => new() { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 };

    private async Task<FasterStore> OpenFaultyAsync()
    {
        (FasterStore store, _device) = await FaultInjectingDevice.OpenStoreAsync(Options, _logger);
        return store;
    }

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(Options, _logger);

    private static byte[] Key(string prefix, int i) => Encoding.ASCII.GetBytes($"{prefix}:{i}");

    private static async Task WriteAcknowledgedAsync(IStoreSession session, string prefix, int count)
    {
        for (int i = 0; i < count; i++)
        {
            session.Write(0, Key(prefix, i), RecordType.String, Key("value", i), 0);
            session.CompleteCommand();
            await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Writes that met the fault in flight: applied to the store and appended to the WAL, never committed.</summary>
    private static void WriteUnacknowledged(IStoreSession session, string prefix, int count)
    {
        for (int i = 0; i < count; i++)
        {
            session.Write(0, Key(prefix, i), RecordType.String, Key("value", i), 0);
            session.CompleteCommand();
        }
    }

    private static void AssertAllThere(IStoreSession session, string prefix, int count)
    {
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < count; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Key(prefix, i), read, out _), $"{prefix}:{i} was acknowledged");
            Assert.Equal($"value:{i}", Encoding.ASCII.GetString(read.WrittenSpan));
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < s_deadline, "timed out waiting until " + what);
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task WalWriteFails_WritesRefusedReadsGoOn_ResumedWithoutRestartOnceDiskWorks_NothingAcknowledgedLost()
    {
        await using (FasterStore store = await OpenFaultyAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteAcknowledgedAsync(session, "before", 200);
            Assert.Null(store.WriteFailure);

            _device!.FailWrites = true;
            WriteUnacknowledged(session, "in-flight", 100);
            session.Write(0, "during"u8, RecordType.String, "x"u8, 0);
            session.CompleteCommand();
            // With appendfsync always the write that meets the fault gets an error, never an acknowledgment.
            await Assert.ThrowsAnyAsync<Exception>(async () => await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken));
            await WaitUntilAsync(() => store.WriteFailure is not null, "the store reports the failure");
            AssertAllThere(session, "before", 200);

            // While the disk still fails, attempts to resume (reopen, checkpoint, commit) fail and writes stay refused.
            await WaitUntilAsync(() => _logger.Has(120), "an attempt to resume failed");
            Assert.NotNull(store.WriteFailure);
            Assert.Equal(1, store.GetStatistics().WalFaults);
            Assert.Equal(0, store.GetStatistics().WalResumes);

            _device.FailWrites = false;
            await WaitUntilAsync(() => store.WriteFailure is null, "writes resume");
            Assert.Equal(1, store.GetStatistics().WalResumes);
            await WriteAcknowledgedAsync(session, "after", 50);
            AssertAllThere(session, "in-flight", 100);
        }

        (LogLevel Level, int EventId, string Message) critical = Assert.Single(_logger.Lines, l => l.EventId == 200);
        Assert.Equal(LogLevel.Critical, critical.Level);
        (LogLevel Level, int EventId, string Message) resumed = Assert.Single(_logger.Lines, l => l.EventId == 201);
        Assert.Equal(LogLevel.Warning, resumed.Level);

        // No checkpoint at dispose: recovery is the checkpoint taken to resume plus the new log.
        await using FasterStore reopened = await OpenAsync();
        Assert.False(_logger.Has(107), "the resumption's checkpoint matches the WAL\n" + _logger.Text);
        using IStoreSession again = reopened.OpenSession();
        AssertAllThere(again, "before", 200);
        AssertAllThere(again, "in-flight", 100);
        AssertAllThere(again, "after", 50);
        await WriteAcknowledgedAsync(again, "later", 10);
    }

    /// <summary>
    /// 100 acknowledged writes ("before"), then the disk fails, 100 writes never committed ("unlogged"), and a checkpoint:
    /// its replay position is the failed log's tail, which the WAL on disk never reaches. Its truncation asks for the
    /// commit that fails.
    /// </summary>
    private async Task CheckpointWhileWalFailsAsync(FasterStore store, IStoreSession session)
    {
        await WriteAcknowledgedAsync(session, "before", 100);
        _device!.FailWrites = true;
        WriteUnacknowledged(session, "unlogged", 100);
        await store.CheckpointAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task CheckpointWhileWalFails_ResumedThenCrash_KeepsWritesAcknowledgedAfterResumption()
    {
        await using (FasterStore store = await OpenFaultyAsync())
        {
            using IStoreSession session = store.OpenSession();
            // The reopened log's records land below this checkpoint's replay position.
            await CheckpointWhileWalFailsAsync(store, session);
            await WaitUntilAsync(() => store.WriteFailure is not null, "the store reports the failure");
            _device!.FailWrites = false;
            await WaitUntilAsync(() => store.WriteFailure is null, "writes resume");
            await WriteAcknowledgedAsync(session, "after", 100);
        }

        // Crash: no checkpoint at dispose. Recovery must replay the records written after the resumption.
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        AssertAllThere(again, "before", 100);
        AssertAllThere(again, "unlogged", 100);
        AssertAllThere(again, "after", 100);
    }

    [Fact]
    public async Task CheckpointWhileWalFails_RestartThenCrash_KeepsWritesAcknowledgedAfterRestart()
    {
        await using (FasterStore store = await OpenFaultyAsync())
        {
            using IStoreSession session = store.OpenSession();
            await CheckpointWhileWalFailsAsync(store, session);
        }

        await using (FasterStore restarted = await OpenAsync())
        {
            Assert.True(_logger.Has(107), "the store says it renewed a checkpoint that was ahead of the WAL\n" + _logger.Text);
            using IStoreSession session = restarted.OpenSession();
            AssertAllThere(session, "before", 100);
            AssertAllThere(session, "unlogged", 100);
            // These land in the WAL below the old checkpoint's replay address.
            await WriteAcknowledgedAsync(session, "after", 100);
        }

        // Crash: no checkpoint at dispose. Recovery must replay the records written after the restart.
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        AssertAllThere(again, "before", 100);
        AssertAllThere(again, "unlogged", 100);
        AssertAllThere(again, "after", 100);
    }

    /// <summary>
    /// Pins the FasterLog 2.6.5 behaviour the store is built around: one failed write poisons the log for the rest of
    /// its life, and reopening recovers exactly the last successful commit (which is how the WAL resumes writes after a
    /// fault). If an upgrade changes this, the WAL could keep its log instead of replacing it.
    /// </summary>
    [Fact]
    public async Task FasterLog_AfterFailedWrite_StaysPoisonedAndReopensAtLastCommit()
    {
        Directory.CreateDirectory(_directory);
        (FasterLog log, FaultInjectingDevice device) = OpenFasterLog();
        Assert.Equal(FasterWriteAheadLog.FreshBeginAddress, log.BeginAddress);
        byte[] record = new byte[100];
        for (int i = 0; i < 100; i++)
        {
            record[0] = (byte)i;
            log.Enqueue(record);
        }

        await log.CommitAsync(token: TestContext.Current.CancellationToken);
        long committed = log.CommittedUntilAddress;
        device.FailWrites = true;
        log.Enqueue(record);
        await Assert.ThrowsAsync<CommitFailureException>(async () => await log.CommitAsync(token: TestContext.Current.CancellationToken));
        device.FailWrites = false;
        log.Enqueue(record);
        await Assert.ThrowsAsync<CommitFailureException>(async () => await log.CommitAsync(token: TestContext.Current.CancellationToken));
        Assert.Equal(committed, log.CommittedUntilAddress);
        Assert.Equal(committed, log.FlushedUntilAddress);
        log.Dispose();
        device.Dispose();

        (log, device) = OpenFasterLog();
        log.Recover();
        Assert.Equal(committed, log.CommittedUntilAddress);
        int count = 0;
        using (FasterLogScanIterator iterator = log.Scan(log.BeginAddress, log.CommittedUntilAddress))
        {
            while (iterator.GetNext(out byte[] entry, out _, out _))
            {
                Assert.Equal(count++, entry[0]);
            }
        }

        Assert.Equal(100, count);
        log.Dispose();
        device.Dispose();
    }

    private (FasterLog Log, FaultInjectingDevice Device) OpenFasterLog()
    {
        FaultInjectingDevice device = new(Devices.CreateLogDevice(Path.Combine(_directory, "wal.log"), preallocateFile: false, deleteOnClose: false, recoverDevice: true));
        FasterLog log = new(new FasterLogSettings
        {
            LogDevice = device,
            PageSizeBits = 16,
            MemorySizeBits = 18,
            SegmentSizeBits = 30,
            FastCommitMode = true,
            LogCommitManager = new DeviceLogCommitCheckpointManager(
                new LocalStorageNamedDeviceFactory(), new DefaultCheckpointNamingScheme(_directory), removeOutdated: true, fastCommitThrottleFreq: 1000),
            TryRecoverLatest = false,
            AutoRefreshSafeTailAddress = false,
        });
        return (log, device);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
