using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// appendfsync everysec bounds what a crash can lose: commits every 10 ms while writes come in, and when the log has not
/// been fully committed for two seconds (a slow disk or machine), replies to writes wait for a commit, as Redis stops
/// acknowledging writes when its fsync is late.
/// </summary>
public sealed class EverySecondLagTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly ShiftedTime _time = new();

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, FsyncPolicy = FsyncPolicy.EverySecond, Time = _time },
        NullLogger.Instance);

    [Fact]
    public async Task CommitLate_WriteRepliesWaitForCommit_OnTimeTheyDoNot()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        session.Write(0, "on-time"u8, RecordType.String, "v"u8, 0);
        session.CompleteCommand();
        await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, store.GetStatistics().WalDelayedReplies);

        // The clock jumps past the allowed lag: as if no commit had completed for three seconds.
        _time.Offset = TimeSpan.FromSeconds(3);
        session.Write(0, "late"u8, RecordType.String, Encoding.ASCII.GetBytes("v"), 0);
        session.CompleteCommand();
        await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, store.GetStatistics().WalDelayedReplies);

        // A batch that wrote nothing does not wait.
        await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, store.GetStatistics().WalDelayedReplies);
    }

    [Fact]
    public async Task EverySecond_WriteCommittedWithinMilliseconds_WithoutAnyoneWaiting()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        // Three writes, each committed well within half a second: with commits once a second (before session 25) each
        // waited 0-1 s, so all three within 500 ms happened about one run in eight. Each comes after a quiet spell, when
        // the committer sleeps for a second until an append wakes it.
        for (int i = 0; i < 3; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            long commitsBefore = store.GetStatistics().WalCommits;
            session.Write(0, Encoding.ASCII.GetBytes($"k{i}"), RecordType.String, "v"u8, 0);
            session.CompleteCommand();
            await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
            System.Diagnostics.Stopwatch waited = System.Diagnostics.Stopwatch.StartNew();
            while (store.GetStatistics().WalCommits <= commitsBefore)
            {
                Assert.True(waited.ElapsedMilliseconds < 500, $"write {i} not committed after {waited.ElapsedMilliseconds} ms");
                await Task.Delay(1, TestContext.Current.CancellationToken);
            }
        }
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

    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
}
