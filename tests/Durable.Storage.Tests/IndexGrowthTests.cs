using System.Buffers;
using System.Diagnostics;
using System.Text;
using Durable.Storage.Faster;

namespace Durable.Storage.Tests;

public sealed class IndexGrowthTests : IDisposable
{
    private const int Keys = 20_000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private readonly RecordingLogger _logger = new();

    private Task<FasterStore> OpenAsync(long memoryBytes = 16L << 20) => FasterStore.OpenAsync(
        new StoreOptions
        {
            DataDirectory = _directory,
            MemoryBytes = memoryBytes,
            IndexBytes = 1L << 16,
            SegmentBytes = 1L << 22,
            CompactionIntervalSeconds = 0,
            CheckpointIntervalSeconds = 0,
        },
        _logger);

    [Fact]
    public async Task GrowIndexIfCrowded_ManyKeysInSmallIndex_DoublesIndexAndKeysSurviveReopen()
    {
        long grownBytes;
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            long before = store.GetStatistics().IndexBytes;
            Assert.False(await store.GrowIndexIfCrowdedAsync(TestContext.Current.CancellationToken), "an empty index is not crowded");
            for (int i = 0; i < Keys; i++)
            {
                session.Write(0, Key(i), RecordType.String, Value(i), 0);
                session.CompleteCommand();
            }

            // 20,000 keys in 1,024 buckets of 7 entries: most of them live in overflow buckets. It grows (doubling each
            // time; the store's own once-a-second loop may already have taken some of the steps while the keys were
            // written) until 2 to 4 keys share a bucket, and then stops (8,192 buckets for 20,000 keys).
            // A call made while the loop itself is growing the index returns false at once (seen under load: the test
            // stopped at 2,048 buckets), so repeat until more than 4 keys no longer share a bucket.
            Stopwatch watch = Stopwatch.StartNew();
            while (await store.GrowIndexIfCrowdedAsync(TestContext.Current.CancellationToken) || Keys > store.GetStatistics().IndexBytes / 64 * 4)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the index stopped growing while still crowded");
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }

            grownBytes = store.GetStatistics().IndexBytes;
            Assert.Equal(8 * before, grownBytes);
            Assert.Equal(8192 * 64, grownBytes);
            Assert.False(await store.GrowIndexIfCrowdedAsync(TestContext.Current.CancellationToken));
            // The bucket prefetch follows the index to its new table.
            Assert.Equal(store.Kv.IndexSize, store.IndexPrefetch.BucketCount);
            AssertAllKeys(session);
        }

        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(grownBytes, reopened.GetStatistics().IndexBytes);
        Assert.Equal(reopened.Kv.IndexSize, reopened.IndexPrefetch.BucketCount);
        Assert.Equal(Keys, reopened.KeyCount(0));
        AssertAllKeys(again);
    }

    [Fact]
    public async Task GrowIndexIfCrowded_PartOfTheLogOnDisk_RefusesAndWarnsOnce()
    {
        await using FasterStore store = await OpenAsync(memoryBytes: 1L << 16);
        using IStoreSession session = store.OpenSession();
        long before = store.GetStatistics().IndexBytes;
        for (int i = 0; i < Keys; i++)
        {
            session.Write(0, Key(i), RecordType.String, Value(i), 0);
            session.CompleteCommand();
        }

        StoreStatistics statistics = store.GetStatistics();
        Assert.True(statistics.LogHeadAddress > statistics.LogBeginAddress, "part of the log is on disk");
        Assert.False(await store.GrowIndexIfCrowdedAsync(TestContext.Current.CancellationToken));
        Assert.False(await store.GrowIndexIfCrowdedAsync(TestContext.Current.CancellationToken));
        Assert.Equal(before, store.GetStatistics().IndexBytes);
        // One warning in all: 118 (part of the log on disk), or 122 (over the budget) when the store's own once-a-second
        // check ran while the keys were still being written, before the log spilled (a slow machine).
        Assert.Single(_logger.Lines, l => l.EventId is 118 or 122);
        AssertAllKeys(session);
    }

    private static void AssertAllKeys(IStoreSession session)
    {
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < Keys; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Key(i), read, out _), $"key {i}");
            Assert.True(read.WrittenSpan.SequenceEqual(Value(i)), $"value of key {i}");
        }
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i}");

    private static byte[] Value(int i) => Encoding.ASCII.GetBytes($"value:{i}");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }
}
