using System.Runtime.InteropServices;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using FASTER.core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// A file's name is durable before anything counts on the file (<see cref="DirectorySync"/>,
/// <see cref="DirectorySyncingDevice"/>): FASTER opens its files O_SYNC but never syncs a directory, so after a power cut
/// a WAL segment, a commit file or a checkpoint's metadata could be written and yet unreachable.
/// </summary>
public sealed class DirectorySyncTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Sync_OfADirectory_Succeeds_OfOneThatIsMissing_Throws()
    {
        Directory.CreateDirectory(_directory);
        DirectorySync.Sync(_directory);
        IOException missing = Assert.Throws<IOException>(() => DirectorySync.Sync(Path.Combine(_directory, "missing")));
        Assert.Contains("errno 2", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SyncUpTo_SyncsFromTheDirectoryUpToTheRoot_AndOnlyTheDirectoryOutsideIt()
    {
        List<string> synced = [];
        string deep = Path.Combine(_directory, "a", "b");
        DirectorySync.SyncUpTo(deep, _directory + "/", synced.Add);
        Assert.Equal([deep, Path.Combine(_directory, "a"), _directory], synced);

        synced.Clear();
        DirectorySync.SyncUpTo(_directory + "-other", _directory, synced.Add);
        Assert.Equal([_directory + "-other"], synced);
    }

    [Fact]
    public void FirstWriteToEachSegment_IsReportedOnlyOnceItsDirectoriesAreSynced()
    {
        string folder = Path.Combine(_directory, "log");
        Directory.CreateDirectory(folder);
        List<string> events = [];
        bool failSync = false;
        using DirectorySyncingDevice device = new(Devices.CreateLogDevice(Path.Combine(folder, "hlog"), preallocateFile: false, deleteOnClose: true), _directory, Sync);
        device.Initialize(1L << 20);
        byte[] buffer = GC.AllocateArray<byte>(2 * 4096, pinned: true);
        nint page = (Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0) + 4095) & ~(nint)4095;

        Write(segment: 0, offset: 0);
        Assert.Equal(["sync log: hlog.0", "sync root: log", "callback: error 0"], Take());
        Write(segment: 0, offset: 4096);
        Assert.Equal(["callback: error 0"], Take());

        failSync = true;
        Write(segment: 1, offset: 0);
        Assert.Equal(["sync log: hlog.0 hlog.1", "callback: error 5"], Take());
        failSync = false;
        Write(segment: 1, offset: 4096);
        Assert.Equal(["sync log: hlog.0 hlog.1", "sync root: log", "callback: error 0"], Take());
        GC.KeepAlive(buffer);

        void Write(int segment, ulong offset)
        {
            using ManualResetEventSlim done = new();
            device.WriteAsync(page, segment, offset, 4096, (error, bytes, context) =>
            {
                Add($"callback: error {error}");
                done.Set();
            }, null!);
            Assert.True(done.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        }

        void Sync(string directory)
        {
            Add(Seen(directory));
            if (failSync)
            {
                throw new IOException("injected");
            }
        }

        void Add(string what)
        {
            lock (events)
            {
                events.Add(what);
            }
        }

        List<string> Take()
        {
            lock (events)
            {
                List<string> taken = [.. events];
                events.Clear();
                return taken;
            }
        }
    }

    [Fact]
    public async Task EveryFileAndFolderTheStoreMakes_IsNamedInASyncOfItsDirectory()
    {
        List<string> seen = [];
        StoreOptions options = SmallStore.Options(_directory) with
        {
            SyncDirectory = directory =>
            {
                lock (seen)
                {
                    seen.Add(directory + "/" + string.Join('/', Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName)) + "/");
                }
            },
        };
        await using (FasterStore store = await FasterStore.OpenAsync(options, NullLogger.Instance, wrapWalDevice: null, wrapLogDevice: null))
        {
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < 3000; i++)
            {
                session.Write(0, Encoding.ASCII.GetBytes($"key:{i}"), RecordType.String, new byte[1000], 0);
                session.CompleteCommand();
            }

            Assert.True(store.Kv.Log.HeadAddress > store.Kv.Log.BeginAddress, "the log has segments on disk");
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        string[] entries = Directory.GetFileSystemEntries(_directory, "*", SearchOption.AllDirectories);
        Assert.Contains(entries, e => e.EndsWith("info.dat.0", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("hlog.", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("commit.", StringComparison.Ordinal));
        foreach (string entry in entries.Append(_directory))
        {
            string parent = Path.GetDirectoryName(entry)!;
            string name = Path.GetFileName(entry);
            lock (seen)
            {
                Assert.True(
                    seen.Any(s => s.StartsWith(parent + "/", StringComparison.Ordinal) && s.Contains("/" + name + "/", StringComparison.Ordinal)),
                    $"{entry} was never in a sync of {parent}");
            }
        }
    }

    /// <summary>What a sync of <paramref name="directory"/> covers: its name under the test's root and its entries, in order.</summary>
    private string Seen(string directory) =>
        $"sync {(directory == _directory ? "root" : Path.GetFileName(directory))}: " +
        string.Join(' ', Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));

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
