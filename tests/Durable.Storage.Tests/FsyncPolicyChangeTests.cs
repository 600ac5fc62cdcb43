using System.Diagnostics;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// CONFIG SET appendfsync changes the store's policy while it runs: replies follow the new policy from the next write
/// on, writes acknowledged under the old one are committed at once, and the committer takes up the new interval (under
/// <c>always</c> it sleeps without a timer, so a change away from it must wake it).
/// </summary>
public sealed class FsyncPolicyChangeTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync(FsyncPolicy policy) => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, FsyncPolicy = policy },
        NullLogger.Instance);

    [Fact]
    public async Task NoToAlways_WritesAcknowledgedBeforeAreCommittedAtOnce_AndLaterRepliesWaitForTheirCommit()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using FasterStore store = await OpenAsync(FsyncPolicy.No);
        using IStoreSession session = store.OpenSession();
        for (int i = 0; i < 20; i++)
        {
            Write(session, $"before{i}");
            await session.WaitForDurabilityAsync(cancellationToken);
        }

        // Under no the first commit comes about 5 s after the start: these writes are not durable yet.
        long acknowledged = store.WalTailAddress;
        Assert.True(store.WalDurableAddress < acknowledged);

        store.FsyncPolicy = FsyncPolicy.Always;
        Assert.Equal(FsyncPolicy.Always, store.GetStatistics().FsyncPolicy);
        await WaitUntilAsync(() => store.WalDurableAddress >= acknowledged, "the writes acknowledged under no were not committed after the change");

        for (int i = 0; i < 20; i++)
        {
            Write(session, $"after{i}");
            long written = store.WalTailAddress;
            await session.WaitForDurabilityAsync(cancellationToken);
            Assert.True(store.WalDurableAddress >= written, $"write {i} was acknowledged under always before its commit");
        }
    }

    [Theory]
    [InlineData(FsyncPolicy.EverySecond)]
    [InlineData(FsyncPolicy.No)]
    public async Task AlwaysToAnother_RepliesNoLongerWait_AndEverysecCommitsWithoutWaiters(FsyncPolicy policy)
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using FasterStore store = await OpenAsync(FsyncPolicy.Always);
        using IStoreSession session = store.OpenSession();
        Write(session, "under-always");
        await session.WaitForDurabilityAsync(cancellationToken);
        long durable = store.WalDurableAddress;
        Assert.True(durable >= store.WalTailAddress);
        // The committer finishes its round and goes back to sleep (under always, until someone asks for a commit).
        await Task.Delay(200, cancellationToken);

        store.FsyncPolicy = policy;
        // Replies no longer wait for a commit (under always, a reply to a write just made is never ready at once).
        for (int i = 0; i < 50; i++)
        {
            Write(session, $"after{i}");
            Task reply = session.WaitForDurabilityAsync(cancellationToken).AsTask();
            Assert.True(reply.IsCompleted, $"the reply to write {i} waited for a commit after appendfsync changed from always");
            await reply;
        }

        if (policy == FsyncPolicy.EverySecond)
        {
            // The committer, asleep without a timer under always, took up everysec's commits every 10 ms: nobody waits for
            // these writes, and they are committed within moments.
            long appended = store.WalTailAddress;
            await WaitUntilAsync(() => store.WalDurableAddress >= appended, "everysec did not commit the writes made after the change");
        }
    }

    private static void Write(IStoreSession session, string key)
    {
        session.Write(0, Encoding.ASCII.GetBytes(key), RecordType.String, "v"u8, 0);
        session.CompleteCommand();
    }

    /// <summary>Waits up to 2 s (well under appendfsync no's 5 s between commits) for <paramref name="condition"/>.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.ElapsedMilliseconds < 2000, failure);
            await Task.Delay(5, TestContext.Current.CancellationToken);
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
