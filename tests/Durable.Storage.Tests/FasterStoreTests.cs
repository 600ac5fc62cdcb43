using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

public sealed class FasterStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync(long memory = 1L << 20) => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = memory, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 },
        NullLogger.Instance);

    [Fact]
    public async Task WriteRead_DataTenTimesMemory_ReadsBackFromDisk()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        byte[] value = new byte[1000];
        for (int i = 0; i < 10_000; i++)
        {
            BitConverter.TryWriteBytes(value, i);
            session.Write(0, Encoding.ASCII.GetBytes($"key:{i}"), RecordType.String, value, 0);
        }

        Assert.Equal(10_000, store.KeyCount(0));
        Assert.True(store.GetStatistics().LogHeadAddress > store.GetStatistics().LogBeginAddress, "most records live on disk");
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < 10_000; i += 7)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Encoding.ASCII.GetBytes($"key:{i}"), read, out StoredRecord record));
            Assert.Equal(1000, record.Length);
            Assert.Equal(i, BitConverter.ToInt32(read.WrittenSpan));
        }
    }

    [Fact]
    public async Task Checkpoint_Reopen_RecoversDataAndCounts()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "a"u8, RecordType.String, "1"u8, 0);
            session.Write(3, "b"u8, RecordType.String, "2"u8, long.MaxValue);
            session.Write(3, "c"u8, RecordType.String, "3"u8, 0);
            Assert.True(session.Delete(3, "c"u8));
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(1, reopened.KeyCount(0));
        Assert.Equal(1, reopened.KeyCount(3));
        Assert.Equal(1, reopened.ExpiringKeyCount(3));
        Assert.True(again.TryRead(3, "b"u8, null, out _));
        Assert.False(again.TryRead(3, "c"u8, null, out _));
    }

    [Fact]
    public async Task Reopen_WithoutCheckpoint_ReplaysWriteAheadLog()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            byte[] value = new byte[1000];
            for (int i = 0; i < 5000; i++)
            {
                BitConverter.TryWriteBytes(value, i);
                session.Write(0, Encoding.ASCII.GetBytes($"k{i}"), RecordType.String, value, 0);
            }

            session.CompleteCommand();
            Assert.True(session.Delete(0, "k7"u8));
            session.FlushDatabase(1, lazyFree: false);
            Assert.True(session.TrySetExpiry(0, "k8"u8, long.MaxValue));
            session.CompleteCommand();
        }

        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(4999, reopened.KeyCount(0));
        ArrayBufferWriter<byte> read = new();
        Assert.True(again.TryRead(0, "k4999"u8, read, out _));
        Assert.Equal(4999, BitConverter.ToInt32(read.WrittenSpan));
        Assert.False(again.TryRead(0, "k7"u8, null, out _));
        Assert.True(again.TryRead(0, "k8"u8, null, out StoredRecord withTtl));
        Assert.Equal(long.MaxValue, withTtl.ExpiresAtMs);
        Assert.Equal(1, reopened.ExpiringKeyCount(0));
    }

    [Fact]
    public async Task Open_LogWithoutCheckpointOrWal_RefusesToStartEmpty()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            byte[] value = new byte[1000];
            for (int i = 0; i < 5000; i++)
            {
                session.Write(0, Encoding.ASCII.GetBytes($"k{i}"), RecordType.String, value, 0);
            }
        }

        Directory.Delete(Path.Combine(_directory, "wal"), recursive: true);
        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(() => OpenAsync());
        Assert.Contains("refusing to start empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopen_DamagedWalRecordInTheMiddle_StopsStartupWithClearMessage()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            // Enough after the damaged record that it lies further back than any write in flight at a crash could reach
            // (else it reads as a torn last write, which is cut).
            for (int i = 0; i < 40_000; i++)
            {
                session.Write(0, Encoding.ASCII.GetBytes($"key-{i:D5}"), RecordType.String, Encoding.ASCII.GetBytes($"value-{i:D5}"), 0);
                session.CompleteCommand();
            }
        }

        // Flip one byte of one record's value in the middle of the committed log.
        string segment = Directory.GetFiles(Path.Combine(_directory, "wal"), "wal.log*").OrderBy(f => f, StringComparer.Ordinal).First();
        byte[] bytes = File.ReadAllBytes(segment);
        int at = IndexOf(bytes, "value-00050"u8);
        Assert.True(at > 0, "the record is in the first WAL segment");
        bytes[at + 6] ^= 0x01;
        File.WriteAllBytes(segment, bytes);

        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(() => OpenAsync());
        Assert.Contains("damaged", error.Message, StringComparison.Ordinal);
        Assert.Contains("Refusing to start", error.Message, StringComparison.Ordinal);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    [Fact]
    public async Task SwapDatabases_SurvivesCheckpoint()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "k"u8, RecordType.String, "zero"u8, 0);
            session.SwapDatabases(0, 1);
            Assert.False(session.TryRead(0, "k"u8, null, out _));
            Assert.Equal(1, store.KeyCount(1));
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.True(again.TryRead(1, "k"u8, null, out _));
        Assert.False(again.TryRead(0, "k"u8, null, out _));
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
