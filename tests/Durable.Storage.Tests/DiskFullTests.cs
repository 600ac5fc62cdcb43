using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// A full disk: writes are refused before the store log's page writes could fail (<see cref="DiskSpaceGuard"/>), and a
/// checkpoint or a WAL commit file that could not be written whole is never relied on. Before this, a real full disk
/// stopped the server (a failed page write), a checkpoint whose snapshot write had failed was taken as complete (older
/// checkpoints and the WAL before it deleted, the data directory then unloadable), and a checkpoint whose folder could not
/// be made left FASTER's checkpoint stuck until a restart.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private const long Reserve = 100L << 20;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private long _free = 1L << 40;

    [Fact]
    public void Guard_RefusesBelowTheReserve_AcceptsAgainASixteenthAboveIt_AndZeroTurnsItOff()
    {
        DiskSpaceGuard guard = new(_directory, Reserve, _ => _free, NullLogger.Instance);
        guard.Check();
        Assert.Null(guard.Refusal);
        Assert.True(guard.Fits(Reserve));

        _free = Reserve - 1;
        guard.Check();
        Assert.StartsWith("no space left for writes: the data directory's file system has 99 MB free, under the 100 MB kept free (disk-reserve)", guard.Refusal, StringComparison.Ordinal);
        Assert.Equal(1, guard.Refusals);
        Assert.False(guard.Fits(Reserve / 2));

        _free = Reserve + (Reserve / 32);
        guard.Check();
        Assert.NotNull(guard.Refusal);
        _free = Reserve + (Reserve / 16);
        guard.Check();
        Assert.Null(guard.Refusal);
        Assert.Equal(_free, guard.FreeBytes);

        DiskSpaceGuard off = new(_directory, 0, _ => 0, NullLogger.Instance);
        off.Check();
        Assert.Null(off.Refusal);
        Assert.True(off.Fits(long.MaxValue / 2));
        Assert.Equal(-1, off.FreeBytes);
    }

    [Fact]
    public async Task Store_RefusesWritesWhileTheDiskIsLow_ReadsGoOn_AndWritesResumeOnceThereIsRoom()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        await WriteAsync(session, "before");
        Assert.Null(store.WriteFailure);

        Volatile.Write(ref _free, Reserve - (1L << 20));
        Assert.True(await Waiting.UntilAsync(() => store.WriteFailure is not null), "writes refused within the check interval");
        Assert.Contains("kept free (disk-reserve)", store.WriteFailure, StringComparison.Ordinal);
        Assert.Equal(1, store.GetStatistics().DiskFullRefusals);
        Assert.Equal(Reserve, store.GetStatistics().DiskReserveBytes);
        Assert.Equal("value", Read(session, "before"));
        Assert.False(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken), "no compaction copies while the disk is low");

        Volatile.Write(ref _free, 2 * Reserve);
        Assert.True(await Waiting.UntilAsync(() => store.WriteFailure is null), "writes accepted again");
        await WriteAsync(session, "after");
        Assert.Equal("value", Read(session, "after"));
    }

    [Fact]
    public async Task CheckpointWhoseFileWriteFails_IsDiscarded_TheOlderOneAndTheWalStay_AndTheNextOneWorks()
    {
        FailingSyncs checkpointFiles = new(directory => directory.Contains("cpr-checkpoints", StringComparison.Ordinal));
        StoreOptions options = Options(checkpointFiles.Sync);
        Guid kept;
        await using (FasterStore store = await FasterStore.OpenAsync(options, NullLogger.Instance, wrapWalDevice: null, wrapLogDevice: null))
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, "first");
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            kept = Assert.Single(Checkpoints());
            await WriteAsync(session, "second");

            checkpointFiles.Failing = true;
            IOException failure = await Assert.ThrowsAsync<IOException>(async () => await store.CheckpointAsync(TestContext.Current.CancellationToken));
            Assert.Contains("the checkpoint was discarded", failure.Message, StringComparison.Ordinal);
            Assert.Equal([kept], Checkpoints());

            checkpointFiles.Failing = false;
            await WriteAsync(session, "third");
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            Assert.NotEqual(kept, Assert.Single(Checkpoints()));
            await WriteAsync(session, "fourth");
        }

        await using FasterStore reopened = await FasterStore.OpenAsync(options, NullLogger.Instance, wrapWalDevice: null, wrapLogDevice: null);
        using IStoreSession reader = reopened.OpenSession();
        foreach (string key in new[] { "first", "second", "third", "fourth" })
        {
            Assert.Equal("value", Read(reader, key));
        }
    }

    [Fact]
    public async Task CheckpointWhoseFolderCannotBeMade_IsDiscarded_AndTheNextOneWorks()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        await WriteAsync(session, "first");
        // A file where the index checkpoints' folder goes: making a checkpoint's folder in it fails, as on a full disk.
        string blocked = Path.Combine(_directory, "checkpoints", "index-checkpoints");
        Directory.CreateDirectory(Path.GetDirectoryName(blocked)!);
        await File.WriteAllTextAsync(blocked, "in the way", TestContext.Current.CancellationToken);
        IOException failure = await Assert.ThrowsAsync<IOException>(async () => await store.CheckpointAsync(TestContext.Current.CancellationToken));
        Assert.Contains("index-checkpoints", failure.Message, StringComparison.Ordinal);

        File.Delete(blocked);
        await store.CheckpointAsync(TestContext.Current.CancellationToken);
        Assert.Single(Checkpoints());
    }

    [Fact]
    public async Task WalCommitFileWriteFails_WritesAreRefused_ThenResume_AndNothingIsLost()
    {
        FailingSyncs commitFiles = new(directory => directory.EndsWith("log-commits", StringComparison.Ordinal));
        StoreOptions options = Options(commitFiles.Sync);
        await using (FasterStore store = await FasterStore.OpenAsync(options, NullLogger.Instance, wrapWalDevice: null, wrapLogDevice: null))
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, "first");
            string commits = Path.Combine(_directory, "wal", "log-commits");
            // FasterLog writes its first commit file with its first commit, just after reporting it done.
            Assert.True(await Waiting.UntilAsync(() => Directory.Exists(commits) && Directory.GetFiles(commits).Length > 0), "the first commit file");

            // The next commit file is new (one every thousand commits): its first write syncs its folder, and fails.
            commitFiles.Failing = true;
            for (int i = 0; store.WriteFailure is null && i < 3000; i++)
            {
                try
                {
                    await WriteAsync(session, "filler:" + i);
                }
                catch (IOException)
                {
                    // The commit this write waited for failed with the commit file: not acknowledged.
                }
            }

            Assert.Contains("commit file", store.WriteFailure, StringComparison.Ordinal);

            commitFiles.Failing = false;
            Assert.True(await Waiting.UntilAsync(() => store.WriteFailure is null), "writes resume once the disk takes them");
            await WriteAsync(session, "after");
        }

        await using FasterStore reopened = await FasterStore.OpenAsync(options, NullLogger.Instance, wrapWalDevice: null, wrapLogDevice: null);
        using IStoreSession reader = reopened.OpenSession();
        Assert.Equal("value", Read(reader, "first"));
        Assert.Equal("value", Read(reader, "after"));
    }

    private StoreOptions Options(Action<string>? syncDirectory = null) => SmallStore.Options(_directory) with
    {
        DiskReserveBytes = Reserve,
        FreeDiskBytes = _ => Volatile.Read(ref _free),
        SyncDirectory = syncDirectory,
    };

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(Options(), NullLogger.Instance, wrapWalDevice: null, wrapLogDevice: null);

    private List<Guid> Checkpoints() =>
        [.. Directory.GetDirectories(Path.Combine(_directory, "checkpoints", "cpr-checkpoints")).Select(d => Guid.Parse(Path.GetFileName(d)))];

    /// <summary>A write and its commit (with the default policy, always, each write waits for a commit of its own).</summary>
    private static async Task WriteAsync(IStoreSession session, string key)
    {
        Assert.True(session.Write(0, Encoding.ASCII.GetBytes(key), RecordType.String, "value"u8, 0));
        session.CompleteCommand();
        await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
    }

    private static string? Read(IStoreSession session, string key)
    {
        ArrayBufferWriter<byte> value = new();
        bool found = session.TryRead(0, Encoding.ASCII.GetBytes(key), value, out _);
        session.CompleteCommand();
        return found ? Encoding.ASCII.GetString(value.WrittenSpan) : null;
    }

    /// <summary>Directory syncs that fail, while <see cref="Failing"/>, for the directories <paramref name="matches"/> picks: a new file there then fails its first write, as on a full disk.</summary>
    private sealed class FailingSyncs(Func<string, bool> matches)
    {
        private volatile bool _failing;

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }

        public void Sync(string directory)
        {
            if (_failing && matches(directory))
            {
                throw new IOException("injected: no space left on device");
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
}
