using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// FLUSHDB ASYNC (and FLUSHDB under lazyfree-lazy-user-flush): the logical database maps to a fresh physical number at
/// once, and the reaper deletes the old one's records in the background; its list of dropped databases (a logged store
/// record) carries a walk cut short by a crash over to the next start, and no number is handed out again before its
/// records are gone.
/// </summary>
public sealed class DroppedDatabaseTests : IDisposable
{
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
    public void DroppedRecord_IsPinned()
    {
        byte[] bytes = new byte[DroppedDatabases.Size(3)];
        DroppedDatabases.Encode([7, 0, 254], bytes);
        Assert.Equal(new byte[] { 1, 3, 7, 0, 254 }, bytes);
        Assert.Equal([0xFF, (byte)'d', (byte)'r', (byte)'o', (byte)'p'], DroppedDatabases.Key.ToArray());

        List<byte> decoded = [];
        DroppedDatabases.Decode(bytes, decoded);
        Assert.Equal([7, 0, 254], decoded);
    }

    [Fact]
    public void DroppedRecord_OfANewerBuildOrDamaged_IsRefused()
    {
        List<byte> decoded = [];
        Assert.Contains("newer Durable", Assert.Throws<InvalidDataException>(() => DroppedDatabases.Decode([2, 1, 5], decoded)).Message);
        Assert.Contains("holds 4 bytes", Assert.Throws<InvalidDataException>(() => DroppedDatabases.Decode([1, 1, 5, 6], decoded)).Message);
        Assert.Contains("twice", Assert.Throws<InvalidDataException>(() => DroppedDatabases.Decode([1, 2, 5, 5], decoded)).Message);
        Assert.Contains("shorter than its header", Assert.Throws<InvalidDataException>(() => DroppedDatabases.Decode([1], decoded)).Message);
    }

    [Fact]
    public async Task LazyFlush_EmptiesTheDatabaseAtOnce_AndTheReaperDeletesItsRecords()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        long records = store.GetStatistics().Records;
        store.Reaper.Paused = true;
        ulong large = ReaperTests.WriteCollection(session, "large"u8, 200, db: 1);
        ulong small = ReaperTests.WriteCollection(session, "small"u8, 10, db: 1);
        ulong other = ReaperTests.WriteCollection(session, "other"u8, 200, db: 0);
        WriteStrings(session, 1, "s", 30);

        // Each string and the large collection's root twice in the log (a root is rewritten, same generation, whenever its
        // count changes), an older version on disk: the walk meets both in one slice of reads and must delete each key
        // once, and queue the collection's parts once.
        SmallStore.PushToDisk(session);
        WriteStrings(session, 1, "s", 30);
        byte[] root = new byte[PartsDescriptor.Size];
        new PartsDescriptor(large, ReaperTests.First, 200).WriteTo(root);
        session.Write(1, "large"u8, RecordType.Hash, root, 0);
        session.CompleteCommand();

        session.FlushDatabase(1, lazyFree: true);
        session.CompleteCommand();
        Assert.Equal(0, store.KeyCount(1));
        Assert.False(session.TryRead(1, "s-7"u8, null, out _));
        Assert.False(session.TryRead(1, "large"u8, null, out _));
        Assert.Equal(10, ReaperTests.CountParts(session, small, 10));
        Assert.Single(store.Reaper.Dropped);
        Assert.Equal(32, store.GetStatistics().LazyFreePendingObjects);
        Assert.Equal(1, store.GetStatistics().LazyFreePendingDatabases);

        // The emptied database takes writes at once, and the reaper leaves them alone.
        WriteStrings(session, 1, "after", 3);
        Assert.Equal(3, store.KeyCount(1));

        // One step, by hand, deletes every old key and queues the large collection's parts once.
        using (FasterStoreSession reaper = (FasterStoreSession)store.OpenSession())
        {
            Assert.True(reaper.ReapDatabase(DatabaseWalk.KeysPerStep));
        }

        Assert.Equal(1, store.Reaper.PendingObjects);
        Assert.Equal(1, store.GetStatistics().LazyFreePendingObjects);
        store.Reaper.Paused = false;
        Assert.True(await Waiting.UntilAsync(() => store.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
        Assert.Equal(0, ReaperTests.CountParts(session, large, 200));
        Assert.Equal(0, ReaperTests.CountParts(session, small, 10));
        Assert.Equal(200, ReaperTests.CountParts(session, other, 200));
        Assert.Equal(3, store.KeyCount(1));
        Assert.True(session.TryRead(1, "after-2"u8, null, out _));
        // Plus the database map, written by the flush, and the filler pushed to disk.
        Assert.Equal(records + 201 + 3 + 1 + 4000, store.GetStatistics().Records);
        Assert.Equal(32, store.Reaper.FreedObjects);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Flush_OfSmallCollectionsAndStringsOnDisk_DeletesEveryRecord(bool lazyFree)
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        long records = store.GetStatistics().Records;
        List<ulong> collections = [];
        for (int i = 0; i < 100; i++)
        {
            // A collection's parts are deleted (read first) between the reads of the keys around it.
            collections.Add(ReaperTests.WriteCollection(session, Encoding.ASCII.GetBytes($"c-{i}"), 10, db: 1));
            WriteStrings(session, 1, $"s{i}", 3);
        }

        SmallStore.PushToDisk(session);
        session.FlushDatabase(1, lazyFree);
        session.CompleteCommand();
        Assert.True(await Waiting.UntilAsync(() => store.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
        Assert.Equal(0, store.KeyCount(1));
        Assert.All(collections, generation => Assert.Equal(0, ReaperTests.CountParts(session, generation, 10)));
        Assert.Equal(records + 4000 + (lazyFree ? 1 : 0), store.GetStatistics().Records);
    }

    [Fact]
    public async Task AWalkCutShortByACrash_GoesOnAfterTheRestart()
    {
        long records;
        await using (FasterStore store = await OpenAsync())
        {
            records = store.GetStatistics().Records;
            using IStoreSession session = store.OpenSession();
            store.Reaper.Paused = true;
            WriteStrings(session, 2, "old", 3000);
            session.FlushDatabase(2, lazyFree: true);
            session.CompleteCommand();
            WriteStrings(session, 2, "new", 40);

            // The reaper's steps, taken by hand: one before a checkpoint, one after it, then a crash (no checkpoint at stop).
            using FasterStoreSession reaper = (FasterStoreSession)store.OpenSession();
            Assert.True(reaper.ReapDatabase(1000));
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            Assert.True(reaper.ReapDatabase(1000));
            Assert.Equal(1000, store.GetStatistics().LazyFreePendingObjects);
        }

        RecordingLogger logger = new();
        await using FasterStore reopened = await FasterStore.OpenAsync(SmallStore.Options(_directory), logger);
        Assert.Contains(logger.Lines, l => l.EventId == 152 && l.Message.StartsWith("1 databases emptied by FLUSHDB/FLUSHALL ASYNC still have 1000 old keys", StringComparison.Ordinal));
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(40, reopened.KeyCount(2));
        Assert.True(await Waiting.UntilAsync(() => reopened.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
        Assert.Equal(40, reopened.KeyCount(2));
        Assert.Equal(records + 40 + 1, reopened.GetStatistics().Records);
        ArrayBufferWriter<byte> value = new();
        Assert.True(again.TryRead(2, "new-39"u8, value, out _));
        Assert.Equal("v-new-39", Encoding.ASCII.GetString(value.WrittenSpan));
    }

    [Fact]
    public async Task NumbersAreHandedOutAgain_OnlyOnceTheirRecordsAreGone()
    {
        const int Flushes = 260;
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            store.Reaper.Paused = true;

            // 16 databases leave 239 free numbers: past them, FLUSHDB ASYNC deletes the keys itself.
            for (int round = 0; round < Flushes; round++)
            {
                WriteStrings(session, 0, $"r{round}", 2);
                session.FlushDatabase(0, lazyFree: true);
                session.CompleteCommand();
                Assert.Equal(0, store.KeyCount(0));
            }

            Assert.Equal(KeyCounts.PhysicalDatabases - 1 - 16, store.Reaper.Dropped.Length);
            WriteStrings(session, 0, "last", 5);
            WriteStrings(session, 3, "three", 5);
        }

        // Replayed from the WAL (no checkpoint): the map and the list come back as they were, and the reaper empties the list.
        await using FasterStore reopened = await OpenAsync();

        // The reaper starts with the store and may have emptied the list already (it did, once, on a loaded machine): the
        // list came back if it is whole, or if a walk over it began (a walk begins only over a list that is not empty).
        Assert.True(
            reopened.Reaper.Dropped.Length == KeyCounts.PhysicalDatabases - 1 - 16 || reopened.Reaper.WalksStarted > 0,
            $"{reopened.Reaper.Dropped.Length} dropped databases listed after the replay, and no walk began");
        Assert.True(await Waiting.UntilAsync(() => reopened.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
        Assert.Equal(5, reopened.KeyCount(0));
        Assert.Equal(5, reopened.KeyCount(3));

        // The numbers are free again: one more lazy flush of each database, then the reaper.
        using IStoreSession session2 = reopened.OpenSession();
        reopened.Reaper.Paused = true;
        session2.FlushDatabase(0, lazyFree: true);
        session2.FlushDatabase(3, lazyFree: true);
        session2.CompleteCommand();
        Assert.Equal(2, reopened.GetStatistics().LazyFreePendingDatabases);
        Assert.Equal(10, reopened.GetStatistics().LazyFreePendingObjects);
        reopened.Reaper.Paused = false;
        Assert.True(await Waiting.UntilAsync(() => reopened.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
        Assert.Equal(0, reopened.KeyCount(0));
        Assert.Equal(0, reopened.KeyCount(3));

        // The database map is the one record left: every key of every dropped database is gone, and so is the list.
        Assert.Equal(1, reopened.GetStatistics().Records);
    }

    [Fact]
    public async Task FlushesWhileTheReaperRuns_ReplayToTheSameState()
    {
        const int Rounds = 400;
        await using (FasterStore store = await OpenAsync())
        {
            // Numbers are dropped, reaped and handed out again while the flushes go on: the WAL must hold the map's and the
            // list's changes in the order they were made, or replay would map a database to a number it then reaps.
            using IStoreSession session = store.OpenSession();
            for (int round = 0; round < Rounds; round++)
            {
                WriteStrings(session, round % 3, $"r{round}", 20);
                session.FlushDatabase(round % 3, lazyFree: true);
                session.CompleteCommand();
                WriteStrings(session, round % 3, $"kept{round}", 1);
            }
        }

        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.True(await Waiting.UntilAsync(() => reopened.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
        for (int db = 0; db < 3; db++)
        {
            // Each database holds the one key written after its last flush.
            int last = Rounds - 3 + ((db - Rounds + 3) % 3 + 3) % 3;
            Assert.Equal(1, reopened.KeyCount(db));
            Assert.True(again.TryRead(db, Encoding.ASCII.GetBytes($"kept{last}-0"), null, out _), $"database {db}: kept{last}-0");
        }

        Assert.Equal(3 + 1, reopened.GetStatistics().Records);
    }

    [Fact]
    public async Task LongKeys_AStepCollectsAtMostAMegabyteOfThem()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        store.Reaper.Paused = true;
        for (int i = 0; i < 300; i++)
        {
            session.Write(3, Encoding.ASCII.GetBytes($"{i:D5}{new string('k', 8 * 1024)}"), RecordType.String, "v"u8, 0);
            session.CompleteCommand();
        }

        session.FlushDatabase(3, lazyFree: true);
        session.CompleteCommand();

        // 300 keys of 8 KiB: a step stops collecting past 1 MiB of keys (its deletes are one WAL entry), well short of 1,024.
        using FasterStoreSession reaper = (FasterStoreSession)store.OpenSession();
        Assert.True(reaper.ReapDatabase(DatabaseWalk.KeysPerStep));
        Assert.InRange(store.GetStatistics().LazyFreePendingObjects, 300 - 130, 300 - 120);

        store.Reaper.Paused = false;
        Assert.True(await Waiting.UntilAsync(() => store.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
        Assert.Equal(1, store.GetStatistics().Records);
    }

    [Fact]
    public async Task MoreDatabasesAtTheNextStart_AreNotGivenADroppedNumber()
    {
        await using (FasterStore store = await FasterStore.OpenAsync(SmallStore.Options(_directory) with { Databases = 4 }, NullLogger.Instance))
        {
            using IStoreSession session = store.OpenSession();
            store.Reaper.Paused = true;
            WriteStrings(session, 0, "old", 50);
            session.FlushDatabase(0, lazyFree: true);
            session.CompleteCommand();
        }

        // Database 0 was physical 0, then 4: databases 4.. get 1, 2, 3 and 5.. (not 0, still dropped, and not 4).
        StoreOptions more = SmallStore.Options(_directory) with { Databases = 8 };
        await using (FasterStore store = await FasterStore.OpenAsync(more, NullLogger.Instance))
        {
            using IStoreSession session = store.OpenSession();
            for (int db = 0; db < 8; db++)
            {
                Assert.Equal(0, store.KeyCount(db));
            }

            WriteStrings(session, 7, "seven", 3);
            WriteStrings(session, 4, "four", 3);
            Assert.True(await Waiting.UntilAsync(() => store.GetStatistics() is { LazyFreePendingObjects: 0, LazyFreePendingDatabases: 0 }));
            Assert.Equal(3, store.KeyCount(7));
            Assert.Equal(3, store.KeyCount(4));
        }

        await using FasterStore reopened = await FasterStore.OpenAsync(more, NullLogger.Instance);
        Assert.Equal(3, reopened.KeyCount(7));
        Assert.Equal(3, reopened.KeyCount(4));
        Assert.Equal(0, reopened.KeyCount(0));
    }

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(SmallStore.Options(_directory), NullLogger.Instance);

    private static void WriteStrings(IStoreSession session, int db, string prefix, int count)
    {
        for (int i = 0; i < count; i++)
        {
            session.Write(db, Encoding.ASCII.GetBytes($"{prefix}-{i}"), RecordType.String, Encoding.ASCII.GetBytes($"v-{prefix}-{i}"), 0);
            session.CompleteCommand();
        }
    }
}
