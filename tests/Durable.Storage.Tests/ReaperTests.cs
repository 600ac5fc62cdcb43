using System.Buffers;
using System.Diagnostics;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// Large collections dropped lazily (UNLINK): the key goes at once, the background reaper deletes the parts, and its queue
/// (a logged store record) carries a reap cut short by a crash over to the next start.
/// </summary>
public sealed class ReaperTests : IDisposable
{
    internal const uint First = 0x7FFF_FFF0;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void QueueRecord_IsPinned()
    {
        ReapQueue.Entry[] entries = [new(0x0102030405060708, 0x80000001, 300, 0), new(9, 2, 0x0A0B0C0D, 0x0A0B0C00)];
        byte[] bytes = new byte[ReapQueue.Size(entries.Length)];
        ReapQueue.Encode(entries, bytes);
        Assert.Equal(
            new byte[]
            {
                1, 2, 0, 0, 0,
                8, 7, 6, 5, 4, 3, 2, 1, 1, 0, 0, 0x80, 0x2C, 0x01, 0, 0, 0, 0, 0, 0,
                9, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x0D, 0x0C, 0x0B, 0x0A, 0x00, 0x0C, 0x0B, 0x0A,
            },
            bytes);
        Assert.Equal([0xFF, (byte)'r', (byte)'e', (byte)'a', (byte)'p'], ReapQueue.Key.ToArray());

        List<ReapQueue.Entry> decoded = [];
        ReapQueue.Decode(bytes, decoded);
        Assert.Equal(entries, decoded);
        Assert.Equal(300u, decoded[0].Remaining);
    }

    [Fact]
    public void QueueRecord_OfANewerBuildOrDamaged_IsRefused()
    {
        byte[] bytes = new byte[ReapQueue.Size(1)];
        ReapQueue.Encode([new ReapQueue.Entry(1, 0, 100, 0)], bytes);
        List<ReapQueue.Entry> decoded = [];

        Assert.Contains("newer Durable", Assert.Throws<InvalidDataException>(() => ReapQueue.Decode([2, .. bytes[1..]], decoded)).Message);
        Assert.Contains("holds 24 bytes", Assert.Throws<InvalidDataException>(() => ReapQueue.Decode(bytes.AsSpan(..^1), decoded)).Message);
        bytes[ReapQueue.HeaderSize + 16] = 101;
        Assert.Contains("101 of 100 parts", Assert.Throws<InvalidDataException>(() => ReapQueue.Decode(bytes, decoded)).Message);
    }

    [Fact]
    public async Task Unlink_RemovesTheKeyAtOnce_AndTheReaperDeletesTheParts()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        long records = store.GetStatistics().Records;
        store.Reaper.Paused = true;
        ulong generation = WriteCollection(session, "big"u8, 300);

        Assert.True(session.Unlink(0, "big"u8));
        session.CompleteCommand();
        Assert.False(session.TryRead(0, "big"u8, null, out _));
        Assert.Equal(0, store.KeyCount(0));
        Assert.False(session.Unlink(0, "big"u8));

        // Paused: the parts wait, and the queue says so.
        Assert.Equal(300, CountParts(session, generation, 300));
        StoreStatistics pending = store.GetStatistics();
        Assert.Equal(1, pending.LazyFreePendingObjects);
        Assert.Equal(300, pending.LazyFreePendingParts);
        Assert.Equal(0, pending.LazyFreedObjects);

        store.Reaper.Paused = false;
        await WaitUntilAsync(() => CountParts(session, generation, 300) == 0 && store.Reaper.PendingObjects == 0);
        StoreStatistics done = store.GetStatistics();
        Assert.Equal(1, done.LazyFreedObjects);
        Assert.Equal(0, done.LazyFreePendingParts);

        // Every part and the queue's record are gone from the store's record count too.
        Assert.Equal(records, done.Records);
    }

    [Fact]
    public async Task SmallCollections_AndDelete_LoseTheirPartsBeforeTheCommandEnds()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        store.Reaper.Paused = true;
        ulong small = WriteCollection(session, "small"u8, (int)PartReaper.LazyAbovePartCount);
        ulong deleted = WriteCollection(session, "deleted"u8, 300);

        Assert.True(session.Unlink(0, "small"u8));
        Assert.True(session.Delete(0, "deleted"u8));
        session.CompleteCommand();

        Assert.Equal(0, CountParts(session, small, PartReaper.LazyAbovePartCount));
        Assert.Equal(0, CountParts(session, deleted, 300));
        Assert.Equal(0, store.Reaper.PendingObjects);
    }

    [Fact]
    public async Task DeleteOfACollectionOnDisk_ReadsItsPartsTogether()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        ulong generation = WriteCollection(session, "cold"u8, 300);
        SmallStore.PushToDisk(session);

        // Each part must be known to exist before its delete: read one by one, 300 waits for the disk; together, one per 64.
        long waits = session.DiskWaits;
        Assert.True(session.Delete(0, "cold"u8));
        session.CompleteCommand();
        Assert.InRange(session.DiskWaits - waits, 1, 10);
        Assert.Equal(0, CountParts(session, generation, 300));
        Assert.Equal(4000, store.KeyCount(0));
    }

    [Fact]
    public async Task TwoCommandsPastTheQueuesLimit_TheSecondDeletesWhatDoesNotFit()
    {
        const int PerCommand = 200;
        const uint Parts = PartReaper.LazyAbovePartCount + 1;
        await using FasterStore store = await OpenAsync();
        using IStoreSession first = store.OpenSession();
        using IStoreSession second = store.OpenSession();
        store.Reaper.Paused = true;
        ulong[] generations = new ulong[2 * PerCommand];
        for (int i = 0; i < generations.Length; i++)
        {
            generations[i] = WriteCollection(first, System.Text.Encoding.ASCII.GetBytes($"c{i}"), Parts);
        }

        // Both commands see an empty queue while they run; the second to complete finds 200 queued and room for 56.
        for (int i = 0; i < PerCommand; i++)
        {
            Assert.True(first.Unlink(0, System.Text.Encoding.ASCII.GetBytes($"c{i}")));
            Assert.True(second.Unlink(0, System.Text.Encoding.ASCII.GetBytes($"c{PerCommand + i}")));
        }

        first.CompleteCommand();
        second.CompleteCommand();
        Assert.Equal(PartReaper.MostPendingObjects, store.Reaper.PendingObjects);
        int queued = PartReaper.MostPendingObjects - PerCommand;
        Assert.All(generations[..(PerCommand + queued)], generation => Assert.Equal((int)Parts, CountParts(first, generation, Parts)));
        Assert.All(generations[(PerCommand + queued)..], generation => Assert.Equal(0, CountParts(first, generation, Parts)));

        store.Reaper.Paused = false;
        await WaitUntilAsync(() => store.Reaper.PendingObjects == 0);
        Assert.All(generations, generation => Assert.Equal(0, CountParts(first, generation, Parts)));
    }

    [Fact]
    public async Task AReapCutShortByACrash_GoesOnAfterTheRestart()
    {
        long records;
        ulong first;
        ulong second;
        await using (FasterStore store = await OpenAsync())
        {
            records = store.GetStatistics().Records;
            using IStoreSession session = store.OpenSession();
            store.Reaper.Paused = true;
            first = WriteCollection(session, "a"u8, 300);
            second = WriteCollection(session, "b"u8, 500);
            Assert.True(session.Unlink(0, "a"u8));
            Assert.True(session.Unlink(0, "b"u8));
            session.CompleteCommand();

            // The reaper's steps, taken by hand: one before a checkpoint, two after it, then a crash (no checkpoint at stop).
            using FasterStoreSession reaper = (FasterStoreSession)store.OpenSession();
            Assert.True(reaper.Reap(100));
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            Assert.True(reaper.Reap(250));
            Assert.True(reaper.Reap(250));
            Assert.Equal(0, CountParts(session, first, 300));
            Assert.Equal(250, CountParts(session, second, 500));
            Assert.Equal(1, store.Reaper.FreedObjects);
            Assert.Equal(250, store.Reaper.PendingParts);
        }

        RecordingLogger logger = new();
        await using FasterStore reopened = await FasterStore.OpenAsync(SmallStore.Options(_directory), logger);
        Assert.Contains(logger.Lines, l => l.EventId == 151 && l.Message.StartsWith("1 dropped large collections still have 250 parts", StringComparison.Ordinal));
        using IStoreSession again = reopened.OpenSession();
        await WaitUntilAsync(() => reopened.Reaper.PendingObjects == 0);
        Assert.Equal(0, CountParts(again, first, 300));
        Assert.Equal(0, CountParts(again, second, 500));
        Assert.Equal(1, reopened.Reaper.FreedObjects);
        Assert.Equal(records, reopened.GetStatistics().Records);
        Assert.Equal(0, reopened.KeyCount(0));
    }

    [Fact]
    public async Task UnlinksOnTwoSessionsAtOnce_BothSurviveAReplay()
    {
        const uint Parts = 70;
        for (int trial = 0; trial < 12; trial++)
        {
            ulong[] generations = new ulong[2];
            await using (FasterStore store = await OpenAsync())
            {
                store.Reaper.Paused = true;

                // Two commands queue a collection each at the same moment: were the two versions of the queue's record logged
                // in the other order than they were made, replay would end with the first, which lacks the second's
                // collection, whose parts would then stay for ever.
                using Barrier together = new(2);
                await Task.WhenAll(Enumerable.Range(0, 2).Select(s => Task.Run(() =>
                {
                    using IStoreSession session = store.OpenSession();
                    byte[] key = System.Text.Encoding.ASCII.GetBytes($"t{trial}-{s}");
                    generations[s] = WriteCollection(session, key, Parts);
                    together.SignalAndWait(TestContext.Current.CancellationToken);
                    Assert.True(session.Unlink(0, key));
                    session.CompleteCommand();
                }, TestContext.Current.CancellationToken)));
                Assert.Equal(2, store.Reaper.PendingObjects);
            }

            // No checkpoint: the queue comes back from the WAL.
            await using FasterStore reopened = await OpenAsync();
            using IStoreSession again = reopened.OpenSession();
            await WaitUntilAsync(() => reopened.Reaper.PendingObjects == 0);
            Assert.All(generations, generation => Assert.Equal(0, CountParts(again, generation, Parts)));
            Assert.Equal(2, reopened.Reaper.FreedObjects);
        }
    }

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(SmallStore.Options(_directory), NullLogger.Instance);

    internal static ulong WriteCollection(IStoreSession session, ReadOnlySpan<byte> key, uint parts, int db = 0)
    {
        ulong generation = PartsDescriptor.NewGeneration();
        for (uint part = 0; part < parts; part++)
        {
            session.WritePart(generation, First + part, [(byte)part, 1, 2, 3]);
        }

        byte[] root = new byte[PartsDescriptor.Size];
        new PartsDescriptor(generation, First, parts).WriteTo(root);
        session.Write(db, key, RecordType.Hash, root, 0);
        session.CompleteCommand();
        return generation;
    }

    internal static int CountParts(IStoreSession session, ulong generation, uint parts)
    {
        int found = 0;
        ArrayBufferWriter<byte> value = new();
        for (uint part = 0; part < parts; part++)
        {
            value.ResetWrittenCount();
            found += session.TryReadPart(generation, First + part, value) ? 1 : 0;
        }

        return found;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), "the reaper did not finish in 20 s");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
