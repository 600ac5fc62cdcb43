using System.Buffers;
using System.IO.Hashing;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

public sealed class LogLayoutFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Encode_IsPinned()
    {
        const string Content = "01-15-12";
        byte[] content = [.. Content.Split('-').Select(h => Convert.ToByte(h, 16))];
        Assert.Equal(Content + "-" + BitConverter.ToString(Crc32.Hash(content)), BitConverter.ToString(LogLayoutFile.Encode(new LogLayout(21, 18))));
    }

    [Fact]
    public void TryDecode_DamagedTruncatedOrNewer_IsRefusedWithReason()
    {
        byte[] bytes = LogLayoutFile.Encode(new LogLayout(21, 18));
        Assert.True(LogLayoutFile.TryDecode(bytes, out LogLayout layout, out _));
        Assert.Equal(new LogLayout(21, 18), layout);
        Assert.False(LogLayoutFile.TryDecode(bytes.AsSpan(0, 6), out _, out string? problem));
        Assert.Contains("bytes", problem, StringComparison.Ordinal);
        byte[] damaged = [.. bytes];
        damaged[1] = 22;
        Assert.False(LogLayoutFile.TryDecode(damaged, out _, out problem));
        Assert.Equal("checksum mismatch", problem);
        byte[] newer = [.. bytes];
        newer[0] = 2;
        Assert.False(LogLayoutFile.TryDecode(newer, out _, out problem));
        Assert.Contains("format version 2", problem, StringComparison.Ordinal);
    }

    // Records never cross a page: without the layout file, reopening at 2 MiB a log written at 8 MiB crashed the process
    // in FASTER's recovery, and the other way round at the first read of an old record.
    [Theory]
    [InlineData(8L << 20, 2L << 20)]
    [InlineData(2L << 20, 8L << 20)]
    public async Task Reopen_OtherMemory_KeepsThePagesAndReadsEverything(long first, long second)
    {
        RecordingLogger logger = new();
        long pageBytes;
        await using (FasterStore store = await FasterStore.OpenAsync(Options(first), logger))
        {
            pageBytes = store.PageBytes;
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < 3000; i++)
            {
                session.Write(0, Key(i), RecordType.String, Value(i), 0);
                session.CompleteCommand();
            }

            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        Assert.False(logger.Has(124));
        await using FasterStore reopened = await FasterStore.OpenAsync(Options(second), logger);
        Assert.Equal(pageBytes, reopened.PageBytes);
        Assert.Single(logger.Lines, l => l.EventId == 124);
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(3000, reopened.KeyCount(0));
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < 3000; i++)
        {
            read.ResetWrittenCount();
            Assert.True(again.TryRead(0, Key(i), read, out _), $"key {i}");
            Assert.True(read.WrittenSpan.SequenceEqual(Value(i)), $"value of key {i}");
        }
    }

    [Fact]
    public async Task Open_DamagedLayoutFile_RefusesToStart()
    {
        await using (await FasterStore.OpenAsync(Options(2L << 20), new RecordingLogger()))
        {
        }

        await File.WriteAllBytesAsync(Path.Combine(_directory, LogLayoutFile.FileName), [1, 2, 3], TestContext.Current.CancellationToken);
        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(() => FasterStore.OpenAsync(Options(2L << 20), new RecordingLogger()));
        Assert.Contains(LogLayoutFile.FileName, error.Message, StringComparison.Ordinal);
    }

    private StoreOptions Options(long memory) => new()
    {
        DataDirectory = _directory,
        MemoryBytes = memory,
        IndexBytes = 1L << 16,
        SegmentBytes = 1L << 22,
        CompactionIntervalSeconds = 0,
    };

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i}");

    // 2,900 to 3,199 bytes: records end at every offset within a page, so some cross the other budget's page boundaries.
    private static byte[] Value(int i)
    {
        byte[] value = new byte[2900 + (i % 300)];
        new Random(i).NextBytes(value);
        return value;
    }

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
