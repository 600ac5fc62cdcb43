using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// FasterLog recovers only from a commit file, and FastCommitMode writes the first one after a commit's record is on
/// disk, after its replies may have gone: a store on a new data directory must have one before it takes a write.
/// </summary>
public sealed class WalCommitFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.No)]
    public async Task NewDataDirectory_HasACommitFileBeforeTheFirstWrite_AndTheFirstWriteSurvivesACrash(FsyncPolicy policy)
    {
        StoreOptions options = new() { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, FsyncPolicy = policy };
        await using (FasterStore store = await FasterStore.OpenAsync(options, NullLogger.Instance))
        {
            string commits = Path.Combine(_directory, "wal", "log-commits");
            Assert.Contains(Directory.EnumerateFiles(commits, "*", SearchOption.AllDirectories), file => new FileInfo(file).Length > 0);
            using IStoreSession session = store.OpenSession();
            session.Write(0, "first"u8, RecordType.String, "v"u8, 0);
            session.CompleteCommand();
            await session.WaitForCommitAsync(TestContext.Current.CancellationToken);
        }

        // Disposed without a checkpoint: the write comes back from the WAL alone, found through that commit file.
        await using FasterStore reopened = await FasterStore.OpenAsync(options, NullLogger.Instance);
        Assert.Equal(1, reopened.KeyCount(0));
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
