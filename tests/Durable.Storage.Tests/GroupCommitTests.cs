using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using FASTER.core;

namespace Durable.Storage.Tests;

/// <summary>
/// With appendfsync always, commits run one at a time and the completion of one issues the next (ChainedCommitPolicy): a
/// commit asked for while another is in flight must never be lost (every writer's wait completes), the writes of many
/// sessions share commits, and every acknowledged write survives a crash.
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 22, IndexBytes = 1L << 16 },
        new RecordingLogger());

    [Fact]
    public async Task WaitForDurability_ManyConcurrentWriters_AllCompleteInSharedCommitsAndSurviveACrash()
    {
        const int Writers = 16;
        const int WritesEach = 300;
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using (FasterStore store = await OpenAsync())
        {
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(
                async () =>
                {
                    using IStoreSession session = store.OpenSession();
                    for (int i = 0; i < WritesEach; i++)
                    {
                        session.Write(0, Encoding.ASCII.GetBytes($"w{w}-{i}"), RecordType.String, "v"u8, 0);
                        session.CompleteCommand();
                        // A lost commit request would leave this wait pending forever: fail instead.
                        await session.WaitForDurabilityAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                    }
                },
                cancellationToken)));
            long commits = store.GetStatistics().WalCommits;
            Assert.InRange(commits, 1, Writers * WritesEach - 1);
        }

        // The store closes without a checkpoint: everything acknowledged comes back from the WAL.
        await using FasterStore reopened = await OpenAsync();
        Assert.Equal(Writers * WritesEach, reopened.KeyCount(0));
    }

    [Fact]
    public async Task WaitForCommit_AWaiterResumedBeforeItBlocksUntilItReturns_Returns()
    {
        // FASTER's checkpoint callback waits for the WAL inside a command that holds key stripes; a writer resumed inline
        // on the commit's thread before it (its continuation registered first) may wait for one of those stripes.
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        HeldWritesDevice? device = null;
        await using FasterWriteAheadLog wal = FasterWriteAheadLog.Open(
            _directory, 16, FsyncPolicy.Always, TimeProvider.System, new RecordingLogger(), inner => device = new HeldWritesDevice(inner));
        device!.Hold();
        using ManualResetEventSlim checkpointReturned = new();
        WalPosition first = wal.Append("first"u8);
        Task writer = wal.WaitForCommitAsync(first, cancellationToken).AsTask().ContinueWith(
            _ => checkpointReturned.Wait(TimeSpan.FromSeconds(60), cancellationToken),
            cancellationToken,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        WalPosition second = wal.Append("second"u8);
        Task checkpoint = Task.Run(
            () =>
            {
                wal.WaitForCommit(second, cancellationToken);
                checkpointReturned.Set();
            },
            cancellationToken);
        await Task.Delay(200, cancellationToken);
        try
        {
            device.Release();
            await checkpoint.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            await writer.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            Assert.True(wal.IsDurable(second));
        }
        finally
        {
            checkpointReturned.Set();
        }
    }

    [Fact]
    public async Task WaitForCommit_FromAWaiterOfTheLastCommit_Returns()
    {
        // A writer resumed by a commit goes on to its next command, which may wait for the next commit synchronously (a
        // checkpoint's callback): whichever thread finished the last commit, the next one must complete.
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using FasterWriteAheadLog wal = FasterWriteAheadLog.Open(_directory, 16, FsyncPolicy.Always, TimeProvider.System, new RecordingLogger());
        for (int i = 0; i < 300; i++)
        {
            WalPosition first = wal.Append("first"u8);
            Task next = wal.WaitForCommitAsync(first, cancellationToken).AsTask().ContinueWith(
                _ => wal.WaitForCommit(wal.Append("second"u8), cancellationToken),
                cancellationToken,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            await next.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
    }

    /// <summary>Holds every write back from <see cref="Hold"/> until <see cref="Release"/>, then forwards them in order.</summary>
    private sealed class HeldWritesDevice(IDevice inner) : ForwardingDevice(inner)
    {
        private readonly Queue<Action> _held = new();
        private readonly Lock _gate = new();
        private bool _holding;

        public void Hold()
        {
            lock (_gate)
            {
                _holding = true;
            }
        }

        public void Release()
        {
            Action[] held;
            lock (_gate)
            {
                _holding = false;
                held = [.. _held];
                _held.Clear();
            }

            foreach (Action write in held)
            {
                write();
            }
        }

        public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
            Forward(() => Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context));

        public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
            Forward(() => Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context));

        private void Forward(Action write)
        {
            lock (_gate)
            {
                if (_holding)
                {
                    _held.Enqueue(write);
                    return;
                }
            }

            write();
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
