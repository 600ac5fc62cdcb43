using System.Buffers;
using System.Globalization;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

/// <summary>
/// Checkpoints taken while several sessions write: after a crash (dispose without a final checkpoint) every
/// acknowledged write is there and read-modify-write counters are exact (nothing missed, nothing applied twice).
/// </summary>
public sealed class CheckpointUnderLoadTests(ITestOutputHelper output) : IDisposable
{
    private const int Writers = 4;
    private const int Iterations = 800;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly RecordingLogger _logger = new();

    private Task<FasterStore> OpenAsync(FsyncPolicy policy) => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 18, IndexBytes = 1L << 16, SegmentBytes = 1L << 20, FsyncPolicy = policy },
        _logger);

    /// <summary>INCR as the dispatcher runs it: the key's stripe held exclusively around read, write and CompleteCommand.</summary>
    private static void Increment(FasterStore store, IStoreSession session, byte[] key)
    {
        int stripe = KeyLocks.StripeOf(key);
        store.Locks.EnterExclusive(stripe);
        try
        {
            ArrayBufferWriter<byte> value = new();
            long current = session.TryRead(0, key, value, out _) ? long.Parse(value.WrittenSpan, CultureInfo.InvariantCulture) : 0;
            session.Write(0, key, RecordType.String, Encoding.ASCII.GetBytes((current + 1).ToString(CultureInfo.InvariantCulture)), 0);
            session.CompleteCommand();
        }
        finally
        {
            store.Locks.ExitExclusive(stripe);
        }
    }

    private static async Task RunWriterAsync(FasterStore store, int writer)
    {
        using IStoreSession session = store.OpenSession();
        byte[] own = Encoding.ASCII.GetBytes($"counter:{writer}");
        for (int i = 0; i < Iterations; i++)
        {
            Increment(store, session, own);
            Increment(store, session, "shared"u8.ToArray());
            byte[] unique = Encoding.ASCII.GetBytes($"unique:{writer}:{i}");
            int stripe = KeyLocks.StripeOf(unique);
            store.Locks.EnterExclusive(stripe);
            session.Write(0, unique, RecordType.String, Encoding.ASCII.GetBytes($"value:{writer}:{i}"), 0);
            session.CompleteCommand();
            store.Locks.ExitExclusive(stripe);
            await session.WaitForCommitAsync(TestContext.Current.CancellationToken);
        }
    }

    private static long ReadCounter(IStoreSession session, string key)
    {
        ArrayBufferWriter<byte> value = new();
        Assert.True(session.TryRead(0, Encoding.ASCII.GetBytes(key), value, out _), key + " exists");
        return long.Parse(value.WrittenSpan, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Checkpoint_WhileACommandIsBetweenItsWrites_MovesTheVersionOnlyAfterIt()
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using FasterStore store = await OpenAsync(FsyncPolicy.Always);
        using IStoreSession session = store.OpenSession();
        // A command as the dispatcher runs it: two records written under its key's stripe (a member, then the count).
        byte[] member = "set:member"u8.ToArray();
        int stripe = KeyLocks.StripeOf(member);
        store.Locks.EnterExclusive(stripe);
        session.Write(0, member, RecordType.String, "a"u8.ToArray(), 0);
        long version = store.Kv.CurrentVersion;
        Task checkpoint = Task.Run(async () => await store.CheckpointAsync(cancellationToken), cancellationToken);
        await Task.Delay(300, cancellationToken);

        // Its second write must fall in the version of its first: the checkpoint has not moved on meanwhile.
        Assert.Equal(version, store.Kv.CurrentVersion);
        Assert.False(checkpoint.IsCompleted, "the checkpoint waits for the command");
        session.Write(0, "set:count"u8.ToArray(), RecordType.String, "1"u8.ToArray(), 0);
        session.CompleteCommand();
        store.Locks.ExitExclusive(stripe);

        await checkpoint;
        Assert.True(store.Kv.CurrentVersion > version, "the checkpoint moved the version once the command ended");
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.EverySecond)]
    public async Task CheckpointsDuringConcurrentWrites_Crash_EveryAcknowledgedWriteExact(FsyncPolicy policy)
    {
        int checkpoints = 0;
        await using (FasterStore store = await OpenAsync(policy))
        {
            Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(() => RunWriterAsync(store, w)))];
            Task all = Task.WhenAll(writers);
            while (!all.IsCompleted || checkpoints < 3)
            {
                await store.CheckpointAsync(TestContext.Current.CancellationToken);
                checkpoints++;
            }

            await all;
        }

        // Dispose took no checkpoint: recovery is the last checkpoint plus the WAL from its cookie.
        await using FasterStore reopened = await OpenAsync(policy);
        using IStoreSession session = reopened.OpenSession();
        Assert.Equal(Writers * Iterations, ReadCounter(session, "shared"));
        for (int w = 0; w < Writers; w++)
        {
            Assert.Equal(Iterations, ReadCounter(session, $"counter:{w}"));
            ArrayBufferWriter<byte> value = new();
            for (int i = 0; i < Iterations; i++)
            {
                value.ResetWrittenCount();
                Assert.True(session.TryRead(0, Encoding.ASCII.GetBytes($"unique:{w}:{i}"), value, out _), $"unique:{w}:{i} was acknowledged");
                Assert.Equal($"value:{w}:{i}", Encoding.ASCII.GetString(value.WrittenSpan));
            }
        }

        Assert.Equal(1 + Writers + (Writers * Iterations), reopened.KeyCount(0));
        Assert.True(checkpoints >= 3, $"{checkpoints} checkpoints ran");
        output.WriteLine($"{checkpoints} checkpoints during the load");
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
