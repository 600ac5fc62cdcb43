using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

public sealed class ReadCacheTests : IDisposable
{
    private const int Keys = 3000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync(bool readCache = true) => FasterStore.OpenAsync(
        new StoreOptions
        {
            DataDirectory = _directory,
            MemoryBytes = 1L << 20,
            IndexBytes = 1L << 16,
            SegmentBytes = 1L << 22,
            ReadCache = readCache,
            ReadCacheBytes = 8L << 20,
            CompactionIntervalSeconds = 0,
            CheckpointIntervalSeconds = 0,
        },
        NullLogger.Instance);

    [Fact]
    public async Task Scan_AfterColdReadsFilledReadCache_ReturnsEveryKeyExactlyOnce()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        WriteTwoVersions(session);

        // The first pass reads from disk and fills the read cache; the second is served by it.
        ReadAll(session);
        long pendingBefore = store.GetStatistics().PendingReads;
        ReadAll(session);
        long pendingSecondPass = store.GetStatistics().PendingReads - pendingBefore;
        Assert.True(pendingSecondPass < Keys / 10, $"second pass of cold reads hit the read cache ({pendingSecondPass} went to disk)");
        Assert.True(store.GetStatistics().ReadCacheBytes > 0);

        KeyCounter seen = new();
        ulong cursor = 0;
        do
        {
            cursor = session.Scan(0, cursor, 100, seen);
        }
        while (cursor != 0);

        Assert.Equal(Keys, seen.Counts.Count);
        Assert.All(seen.Counts, pair => Assert.Equal(1, pair.Value));

        ArrayBufferWriter<byte> random = new();
        Assert.True(session.TryGetRandomKey(0, random));
    }

    [Fact]
    public async Task Reopen_AfterColdReads_CountsEveryKeyOnce()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            WriteTwoVersions(session);
            ReadAll(session);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        await using FasterStore reopened = await OpenAsync();
        Assert.Equal(Keys, reopened.KeyCount(0));
    }

    [Fact]
    public async Task Open_ReadCacheOff_ReportsNoReadCacheMemory()
    {
        await using FasterStore store = await OpenAsync(readCache: false);
        Assert.Equal(0, store.GetStatistics().ReadCacheBytes);
    }

    private static void WriteTwoVersions(IStoreSession session)
    {
        byte[] value = new byte[1024];
        for (int round = 1; round <= 2; round++)
        {
            for (int i = 0; i < Keys; i++)
            {
                value.AsSpan().Fill((byte)round);
                BitConverter.TryWriteBytes(value, i);
                session.Write(0, Key(i), RecordType.String, value, 0);
                session.CompleteCommand();
            }
        }
    }

    private static void ReadAll(IStoreSession session)
    {
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < Keys; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Key(i), read, out _));
            Assert.Equal(2, read.WrittenSpan[^1]);
        }
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i}");

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

    private sealed class KeyCounter : IKeyVisitor
    {
        public Dictionary<string, int> Counts { get; } = [];

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record)
        {
            string name = Encoding.ASCII.GetString(key);
            Counts[name] = Counts.GetValueOrDefault(name) + 1;
        }
    }
}
