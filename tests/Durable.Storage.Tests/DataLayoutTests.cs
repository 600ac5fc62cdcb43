using System.Buffers;
using System.IO.Hashing;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

/// <summary>The data directory keeps the page and segment sizes it was created with (FASTER misreads a log written with others).</summary>
public sealed class DataLayoutTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Encode_IsPinned()
    {
        byte[] content = [0x01, 0x10, 0x16, 0x12];
        Assert.Equal("01-10-16-12-" + BitConverter.ToString(Crc32.Hash(content)), BitConverter.ToString(DataLayoutFile.Encode(new DataLayout(16, 22, 18))));
    }

    [Fact]
    public void TryDecode_DamagedTruncatedOrNewer_IsRefusedWithReason()
    {
        byte[] bytes = DataLayoutFile.Encode(new DataLayout(16, 22, 18));
        Assert.True(DataLayoutFile.TryDecode(bytes, out DataLayout layout, out _));
        Assert.Equal(new DataLayout(16, 22, 18), layout);
        for (int i = 0; i < bytes.Length; i++)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x10;
            Assert.False(DataLayoutFile.TryDecode(damaged, out _, out string? problem), $"flipped byte {i}");
            Assert.NotNull(problem);
        }

        Assert.False(DataLayoutFile.TryDecode(bytes.AsSpan(0, bytes.Length - 1), out _, out _));
        byte[] newer = (byte[])bytes.Clone();
        newer[0] = 2;
        BitConverter.TryWriteBytes(newer.AsSpan(4), Crc32.HashToUInt32(newer.AsSpan(0, 4)));
        Assert.False(DataLayoutFile.TryDecode(newer, out _, out string? reason));
        Assert.Contains("written by a newer Durable", reason);
    }

    // By hand before the layout was kept: 8mb -> 2mb crashed the process in FASTER's RecoverHybridLog (access violation),
    // 2mb -> 8mb at the first read of an old record. Records of 3 KB need pages of 64 KiB (2mb) or 256 KiB (8mb).
    [Theory]
    [InlineData(8L << 20, 2L << 20)]
    [InlineData(2L << 20, 8L << 20)]
    public async Task Reopen_WithAnotherMemory_KeepsThePageSizeAndReadsEverything(long created, long reopened)
    {
        byte[] value = new byte[3000];
        await using (FasterStore store = await OpenAsync(created, new RecordingLogger()))
        {
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < 3000; i++)
            {
                BitConverter.TryWriteBytes(value, i);
                session.Write(0, Encoding.ASCII.GetBytes($"key:{i}"), RecordType.String, value, 0);
                session.CompleteCommand();
            }

            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            for (int i = 0; i < 3000; i += 3)
            {
                BitConverter.TryWriteBytes(value, -i);
                session.Write(0, Encoding.ASCII.GetBytes($"key:{i}"), RecordType.String, value, 0);
                session.CompleteCommand();
            }
        }

        RecordingLogger logger = new();
        await using FasterStore again = await OpenAsync(reopened, logger);
        Assert.Equal(MemoryBudget.Propose(Options(created)).LogPageBits, again.Budget.PageBits);
        Assert.True(logger.Has(131), logger.Text);
        Assert.Equal(reopened, again.GetStatistics().MemoryBudgetBytes);
        using IStoreSession reader = again.OpenSession();
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < 3000; i++)
        {
            read.ResetWrittenCount();
            Assert.True(reader.TryRead(0, Encoding.ASCII.GetBytes($"key:{i}"), read, out _), $"key:{i}");
            Assert.Equal(i % 3 == 0 ? -i : i, BitConverter.ToInt32(read.WrittenSpan));
        }
    }

    [Fact]
    public async Task Open_DamagedLayoutFile_RefusesWithWhatToDo()
    {
        await (await OpenAsync(2L << 20, new RecordingLogger())).DisposeAsync();
        string path = Path.Combine(_directory, DataLayoutFile.FileName);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[1] ^= 1;
        File.WriteAllBytes(path, bytes);
        InvalidDataException refused = await Assert.ThrowsAsync<InvalidDataException>(() => OpenAsync(2L << 20, new RecordingLogger()));
        Assert.Contains("checksum mismatch", refused.Message);
        Assert.Contains("restore the data directory from a backup", refused.Message);
    }

    [Fact]
    public async Task Open_OlderDirectoryWithoutLayout_AssumesTheseSizesSavesThemAndSaysSo()
    {
        await using (FasterStore store = await OpenAsync(2L << 20, new RecordingLogger()))
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "a"u8, RecordType.String, "1"u8, 0);
            session.CompleteCommand();
        }

        File.Delete(Path.Combine(_directory, DataLayoutFile.FileName));
        RecordingLogger logger = new();
        await using (FasterStore reopened = await OpenAsync(2L << 20, logger))
        {
            using IStoreSession session = reopened.OpenSession();
            Assert.True(session.TryRead(0, "a"u8, null, out _));
        }

        Assert.True(logger.Has(130), logger.Text);
        Assert.True(DataLayoutFile.TryDecode(File.ReadAllBytes(Path.Combine(_directory, DataLayoutFile.FileName)), out DataLayout saved, out _));
        Assert.Equal(MemoryBudget.ProposeUnrecorded(Options(2L << 20)), saved);
    }

    [Fact]
    public async Task Open_OlderDirectoryWithoutLayoutAt128MiB_AssumesPagesA32ndAsItWasWritten()
    {
        // Written before layouts were recorded, when pages were a 32nd of memory: 4 MiB at 128 MiB (a new one gets 2 MiB).
        DataLayout written = MemoryBudget.ProposeUnrecorded(Options(128L << 20));
        Assert.NotEqual(MemoryBudget.Propose(Options(128L << 20)).LogPageBits, written.LogPageBits);
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(Path.Combine(_directory, DataLayoutFile.FileName), DataLayoutFile.Encode(written));
        await using (FasterStore store = await OpenAsync(128L << 20, new RecordingLogger()))
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "a"u8, RecordType.String, "1"u8, 0);
            session.CompleteCommand();
        }

        File.Delete(Path.Combine(_directory, DataLayoutFile.FileName));
        await using (FasterStore reopened = await OpenAsync(128L << 20, new RecordingLogger()))
        {
            Assert.Equal(written.LogPageBits, reopened.Budget.PageBits);
            using IStoreSession session = reopened.OpenSession();
            Assert.True(session.TryRead(0, "a"u8, null, out _));
        }
    }

    private StoreOptions Options(long memory) =>
        new() { DataDirectory = _directory, MemoryBytes = memory, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, CompactionIntervalSeconds = 0 };

    private Task<FasterStore> OpenAsync(long memory, RecordingLogger logger) => FasterStore.OpenAsync(Options(memory), logger);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
