using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

public sealed class MemoryBudgetTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Split_64MiBReadCacheOff_WalAnEighthIndexASixteenthLogTheRest()
    {
        MemoryBudget budget = new(new StoreOptions { DataDirectory = _directory, MemoryBytes = 64L << 20, ReadCache = false });
        Assert.Equal(21, budget.PageBits);
        Assert.Equal(8L << 20, budget.WalBufferBytes);
        Assert.Equal((4L << 20) / 64, budget.InitialIndexBuckets);
        // 64 MiB - 8 MiB WAL - 4 MiB index = 52 MiB: 26 pages, 7 of them FASTER's slack.
        Assert.Equal(19, budget.LogPages(4L << 20));
        Assert.Equal(52L << 20, budget.LogMemoryLimitBytes(4L << 20));
        Assert.Equal(32 - 19, budget.EmptyPages(4L << 20));
        Assert.Equal(26, budget.BufferBits);
        // The index's growth comes out of the log's share, down to its minimum.
        Assert.Equal(15, budget.LogPages(12L << 20));
        Assert.True(budget.Affords(26L << 20));
        Assert.False(budget.Affords(32L << 20));
        Assert.Equal(MemoryBudget.MinimumLogPages, budget.LogPages(64L << 20));
    }

    [Fact]
    public void Split_NotAPowerOfTwo_BufferRoundedUpLogGetsTheRest()
    {
        MemoryBudget budget = new(new StoreOptions { DataDirectory = _directory, MemoryBytes = 100L << 20, ReadCache = true });
        Assert.Equal(21, budget.PageBits);
        Assert.Equal(26 + 1, budget.BufferBits);
        // A 256th of the budget, rounded down to a power of two.
        Assert.Equal(256L << 10, budget.ColdReadTableBytes);
        // 100 MiB - 8 MiB WAL - 256 KiB cold-read table - 4 MiB index = 87.75 MiB: 43 whole pages of 2 MiB.
        Assert.Equal(43 - MemoryBudget.SlackPages, budget.LogPages(4L << 20));
    }

    [Theory]
    [InlineData(4L << 20, 17)]
    [InlineData(64L << 20, 21)]
    [InlineData(128L << 20, 21)]
    [InlineData(256L << 20, 21)]
    [InlineData(1L << 30, 23)]
    [InlineData(8L << 30, 24)]
    public void Propose_Budget_PageA32ndUpTo2MiBThenA128th(long memory, int pageBits)
    {
        StoreOptions options = new() { DataDirectory = _directory, MemoryBytes = memory };
        Assert.Equal(pageBits, MemoryBudget.Propose(options).LogPageBits);
        MemoryBudget budget = new(options);
        // The WAL buffer is four pages: an eighth of the budget up to 64 MiB, a 32nd at 256 MiB.
        Assert.Equal(4L << pageBits, budget.WalBufferBytes);
    }

    [Theory]
    [InlineData(4L << 20, 17)]
    [InlineData(256L << 20, 23)]
    [InlineData(1L << 30, 24)]
    public void ProposeUnrecorded_Budget_PageA32ndAsBeforeLayoutsWereRecorded(long memory, int pageBits) =>
        Assert.Equal(pageBits, MemoryBudget.ProposeUnrecorded(new StoreOptions { DataDirectory = _directory, MemoryBytes = memory }).LogPageBits);

    [Fact]
    public async Task Store_DataTenTimesTheBudget_LogStaysWithinItsShare()
    {
        await using FasterStore store = await FasterStore.OpenAsync(
            new StoreOptions { DataDirectory = _directory, MemoryBytes = 4L << 20, IndexBytes = 256L << 10, SegmentBytes = 1L << 22, CompactionIntervalSeconds = 0 },
            NullLogger.Instance);
        using IStoreSession session = store.OpenSession();
        // Few keys for the index (no overflow buckets, whose growth would shrink the log's share only as the tail next moves).
        byte[] value = new byte[10_000];
        for (int i = 0; i < 4_000; i++)
        {
            session.Write(0, Encoding.ASCII.GetBytes($"k{i}"), RecordType.String, value, 0);
            session.CompleteCommand();
        }

        StoreStatistics statistics = store.GetStatistics();
        Assert.Equal(4L << 20, statistics.MemoryBudgetBytes);
        Assert.True(statistics.LogMemoryLimitBytes + statistics.IndexBytes + statistics.WalBufferBytes <= 4L << 20);
        // Its share holds while the disk keeps up; pages not yet flushed cannot be evicted, so a burst may fill FASTER's
        // whole buffer (the budget rounded up to a power of two; 4 MiB here) for a while.
        Assert.InRange(statistics.LogMemoryBytes, 1, (1L << store.Budget.BufferBits) + (4 * store.PageBytes));
        Assert.True(statistics.LogHeadAddress > statistics.LogBeginAddress, "most of the data is on disk");
    }

    [Fact]
    public async Task Store_OverflowBucketsFillTheBudget_LogAtItsMinimumAndWarnsOnce()
    {
        RecordingLogger logger = new();
        await using FasterStore store = await FasterStore.OpenAsync(
            new StoreOptions { DataDirectory = _directory, MemoryBytes = 4L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, CompactionIntervalSeconds = 0 },
            logger);
        using IStoreSession session = store.OpenSession();
        store.ReportIndexOverBudget();
        Assert.False(logger.Has(123), "an empty index leaves the log its share");

        // 4 MiB: a WAL buffer of 512 KiB (4 pages of 128 KiB) and a log of at least 15 pages of 128 KiB leave the index
        // about 1.6 MiB. 500,000 keys take about 2.6 MiB of overflow buckets (measured: 1.6 MiB for 300,000), as the index grows
        // only while the whole log is in memory.
        byte[] value = new byte[8];
        for (int i = 0; i < 500_000; i++)
        {
            session.Write(0, Encoding.ASCII.GetBytes($"k{i}"), RecordType.String, value, 0);
            session.CompleteCommand();
        }

        store.ReportIndexOverBudget();
        store.ReportIndexOverBudget();
        StoreStatistics statistics = store.GetStatistics();
        Assert.True(statistics.IndexOverflowBytes > 0);
        Assert.True(statistics.IndexBytes + statistics.IndexOverflowBytes + statistics.WalBufferBytes + statistics.LogMemoryLimitBytes > 4L << 20,
            $"over the budget: index {statistics.IndexBytes}, overflow {statistics.IndexOverflowBytes}, WAL {statistics.WalBufferBytes}, log limit {statistics.LogMemoryLimitBytes}");
        Assert.Equal((MemoryBudget.MinimumLogPages + MemoryBudget.SlackPages) * store.PageBytes, statistics.LogMemoryLimitBytes);
        Assert.Single(logger.Lines, l => l.EventId == 123);
    }

    [Fact]
    public async Task Reopen_CheckpointWithOverflowBucketsThenWalToReplay_LogWithinItsShare()
    {
        StoreOptions options = new() { DataDirectory = _directory, MemoryBytes = 4L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, CompactionIntervalSeconds = 0 };
        await using (FasterStore store = await FasterStore.OpenAsync(options, NullLogger.Instance))
        {
            using IStoreSession session = store.OpenSession();
            // 300,000 keys take about 1.6 MiB of overflow buckets, which the checkpoint holds: the log's share is then at
            // its minimum. The next 200,000 keys (about 6 MiB of log) are only in the WAL, for the replay.
            Write(session, 0, 300_000);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            Write(session, 300_000, 500_000);
        }

        await using FasterStore reopened = await FasterStore.OpenAsync(options, NullLogger.Instance);
        StoreStatistics statistics = reopened.GetStatistics();
        Assert.Equal(500_000, reopened.KeyCount(0));
        Assert.InRange(statistics.LogMemoryBytes, 1, statistics.LogMemoryLimitBytes);
    }

    private static void Write(IStoreSession session, int from, int to)
    {
        byte[] value = new byte[8];
        for (int i = from; i < to; i++)
        {
            session.Write(0, Encoding.ASCII.GetBytes($"k{i}"), RecordType.String, value, 0);
            session.CompleteCommand();
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
