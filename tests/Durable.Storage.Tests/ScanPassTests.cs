using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// A SCAN pass ends at the log's tail as it was when the pass began, and still returns every key that exists for the
/// whole pass: keys rewritten past that bound, or copied there by a compaction, are returned all the same. FLUSHDB's and
/// RANDOMKEY's walks of the log meet the same compactions.
/// </summary>
public sealed class ScanPassTests : IDisposable
{
    private const int Keys = 5000;
    private const int ValueBytes = 1024;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(Options(), NullLogger.Instance);

    private StoreOptions Options(Action? duringKeyWalk = null) => SmallStore.Options(_directory) with { DuringKeyWalk = duringKeyWalk };

    [Fact]
    public async Task Scan_WritersAppendFasterThanTheScanReads_PassEndsWithEveryKeyThatExistedThroughout()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        WriteKeys(session, 0, Keys, ValueBytes);

        KeySet seen = new();
        ulong cursor = 0;
        int calls = 0;
        int written = Keys;
        do
        {
            cursor = session.Scan(0, cursor, 10, seen, reclaimExpired: false);
            // Fifty new records of the same size for every ten the scan reads: a pass chasing the tail would never end.
            WriteKeys(session, written, 50, ValueBytes);
            written += 50;
            calls++;
        }
        while (cursor != 0 && calls < 3 * Keys / 10);

        Assert.Equal(0UL, cursor);
        Assert.InRange(calls, Keys / 10, (Keys / 10) + 100);
        AssertEveryKey(seen, Keys);
    }

    [Fact]
    public Task Scan_KeysRewrittenPastTheBoundDuringThePass_EveryKeyReturned() => AssertEveryKeyReturnedAsync((store, session) =>
    {
        // Every key's record moves to the tail, past the pass's bound (about 5 MB of log before, 5 MB more after).
        WriteKeys(session, 0, Keys, ValueBytes);
        return Task.CompletedTask;
    });

    [Fact]
    public Task Scan_CompactionCopiesKeysAheadOfTheCursorToTheTail_EveryKeyReturned() => AssertEveryKeyReturnedAsync(async (store, session) =>
    {
        long beginBefore = store.Kv.Log.BeginAddress;
        // Every record is live: the compaction copies everything on disk to the tail and moves the begin address past the cursor.
        Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
        Assert.True(store.Kv.Log.BeginAddress > beginBefore + (Keys / 2 * ValueBytes));
    });

    [Fact]
    public async Task Scan_CompactionMovesTheBeginAddressPastTheWalkDuringACall_EveryKeyReturned()
    {
        // The call's walk is under way on disk when a compaction copies every record there to the tail, past the pass's
        // bound, and moves the begin address past the walk, which skips to it: the copies lie past where the pass would end.
        (FasterStore opened, Action compactDuringTheNextWalk) = await OpenCompactingDuringAWalkAsync();
        await using FasterStore store = opened;
        using IStoreSession session = store.OpenSession();
        WriteKeys(session, 0, Keys, ValueBytes);

        KeySet seen = new();
        ulong cursor = session.Scan(0, 0, 10, seen, reclaimExpired: false);
        long beginBefore = store.Kv.Log.BeginAddress;
        compactDuringTheNextWalk();
        cursor = session.Scan(0, cursor, 10, seen, reclaimExpired: false);
        Assert.True(store.Kv.Log.BeginAddress > beginBefore + (Keys / 2 * ValueBytes));
        while (cursor != 0)
        {
            cursor = session.Scan(0, cursor, 100, seen, reclaimExpired: false);
        }

        AssertEveryKey(seen, Keys);
    }

    [Fact]
    public async Task FlushDatabase_CompactionMovesTheBeginAddressPastTheWalk_EveryKeyDeleted()
    {
        (FasterStore opened, Action compactDuringTheNextWalk) = await OpenCompactingDuringAWalkAsync();
        await using FasterStore store = opened;
        using IStoreSession session = store.OpenSession();
        WriteKeys(session, 0, Keys, ValueBytes);

        long beginBefore = store.Kv.Log.BeginAddress;
        compactDuringTheNextWalk();
        session.FlushDatabase(0, lazyFree: false);
        session.CompleteCommand();
        Assert.True(store.Kv.Log.BeginAddress > beginBefore + (Keys / 2 * ValueBytes));

        ArrayBufferWriter<byte> value = new();
        List<int> left = [.. Enumerable.Range(0, Keys).Where(i => session.TryRead(0, Key(i), value, out _))];
        Assert.True(left.Count == 0, $"{left.Count} keys left, the first {string.Join(", ", left.Take(10))}");
    }

    [Fact]
    public async Task DroppedDatabaseWalk_CompactionMovesTheBeginAddressPastTheWalk_EveryKeyDeleted()
    {
        (FasterStore opened, Action compactDuringTheNextWalk) = await OpenCompactingDuringAWalkAsync();
        await using FasterStore store = opened;
        store.Reaper.Paused = true;
        using IStoreSession session = store.OpenSession();
        WriteKeys(session, 0, Keys, ValueBytes);
        session.FlushDatabase(0, lazyFree: true);
        session.CompleteCommand();

        // The reaper's steps by hand: the compaction in the first one copies the keys it has not reached to the tail,
        // past the walk's end, and moves the begin address past where the step started.
        long beginBefore = store.Kv.Log.BeginAddress;
        compactDuringTheNextWalk();
        using FasterStoreSession reaper = (FasterStoreSession)store.OpenSession();
        for (int step = 0; step < 100 && store.Reaper.Dropped.Length > 0; step++)
        {
            reaper.ReapDatabase(DatabaseWalk.KeysPerStep);
        }

        Assert.True(store.Kv.Log.BeginAddress > beginBefore + (Keys / 2 * ValueBytes));
        Assert.Empty(store.Reaper.Dropped);

        // The database map is the one record left.
        Assert.Equal(1, store.GetStatistics().Records);
    }

    [Fact]
    public async Task RandomKey_CompactionMovesTheBeginAddressPastTheWalk_AKeyIsFound()
    {
        (FasterStore opened, Action compactDuringTheNextWalk) = await OpenCompactingDuringAWalkAsync();
        await using FasterStore store = opened;
        using IStoreSession session = store.OpenSession();
        WriteKeys(session, 0, 1000, ValueBytes);
        // Keys of another database fill the memory: every key of database 0 is on disk, in the compaction's range.
        byte[] filler = new byte[ValueBytes];
        for (int i = 0; store.Kv.Log.HeadAddress <= store.Kv.Log.BeginAddress + (1000 * ValueBytes) + (1L << 20); i++)
        {
            session.Write(1, Key(i), RecordType.String, filler, 0);
            session.CompleteCommand();
        }

        long beginBefore = store.Kv.Log.BeginAddress;
        compactDuringTheNextWalk();
        ArrayBufferWriter<byte> key = new();
        Assert.True(session.TryGetRandomKey(0, key), "no key found in a database of 1000");
        Assert.True(store.Kv.Log.BeginAddress > beginBefore + (1000 * ValueBytes));
        Assert.StartsWith("key:", Encoding.ASCII.GetString(key.WrittenSpan), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compaction_WhileAWalkStartedBeforeTheLogGrewPastItsMemory_StopsAtTheWalksEnd()
    {
        // A walk's iterator runs to the tail of its start; a compaction must not move the begin address past that while
        // the walk goes on, even when the head address has passed it since.
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        WriteKeys(session, 0, 1000, ValueBytes);
        long walkEnd = store.WalkStarted(0);
        WriteKeys(session, 1000, 3000, ValueBytes);
        Assert.True(store.Kv.Log.HeadAddress > walkEnd + ValueBytes);

        Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
        Assert.InRange(store.Kv.Log.BeginAddress, 1, walkEnd);

        store.WalkEnded(walkEnd);
        Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
        Assert.True(store.Kv.Log.BeginAddress > walkEnd);
    }

    // A store whose next walk of the log (a SCAN call's, FLUSHDB's) after the returned action runs compacts the log: the
    // compaction copies every live record on disk to the tail, then moves the begin address past the walk.
    private async Task<(FasterStore Store, Action CompactDuringTheNextWalk)> OpenCompactingDuringAWalkAsync()
    {
        FasterStore? store = null;
        int armed = 0;
        store = await FasterStore.OpenAsync(
            Options(duringKeyWalk: () =>
            {
                if (Interlocked.Exchange(ref armed, 0) == 1)
                {
                    Assert.True(store!.Compactor.CompactIfWorthwhileAsync(force: true, CancellationToken.None).GetAwaiter().GetResult());
                }
            }),
            NullLogger.Instance);
        return (store, () => Interlocked.Exchange(ref armed, 1));
    }

    [Fact]
    public async Task Scan_KeysRewrittenDuringThePassLastCallBelowTheBound_EveryKeyReturned()
    {
        // A small log: the bound (the tail rounded up to 64 KiB) lies well past the tail, and one call walks to the tail
        // and ends the pass. While that call checks its records one by one, the keys it has not checked yet move to the
        // tail (longer values), past where the call walks but below the bound.
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        using IStoreSession writer = store.OpenSession();
        WriteKeys(session, 0, 100, 10);

        KeySet seen = new(onFirst: () => WriteKeys(writer, 50, 50, 100));
        Assert.Equal(0UL, session.Scan(0, 0, 1000, seen, reclaimExpired: false));

        AssertEveryKey(seen, 100);
    }

    /// <summary>Writes the keys, scans ten, runs <paramref name="duringThePass"/>, ends the pass: every key must have been returned.</summary>
    private async Task AssertEveryKeyReturnedAsync(Func<FasterStore, IStoreSession, Task> duringThePass)
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        WriteKeys(session, 0, Keys, ValueBytes);

        KeySet seen = new();
        ulong cursor = session.Scan(0, 0, 10, seen, reclaimExpired: false);
        Assert.NotEqual(0UL, cursor);
        await duringThePass(store, session);
        while (cursor != 0)
        {
            cursor = session.Scan(0, cursor, 100, seen, reclaimExpired: false);
        }

        AssertEveryKey(seen, Keys);
    }

    private static void WriteKeys(IStoreSession session, int first, int count, int valueBytes)
    {
        byte[] value = new byte[valueBytes];
        for (int i = first; i < first + count; i++)
        {
            BitConverter.TryWriteBytes(value, i);
            session.Write(0, Key(i), RecordType.String, value, 0);
            session.CompleteCommand();
        }
    }

    private static void AssertEveryKey(KeySet seen, int keys)
    {
        List<int> missing = [.. Enumerable.Range(0, keys).Where(i => !seen.Keys.Contains($"key:{i}"))];
        Assert.True(missing.Count == 0, $"{missing.Count} keys not returned, the first {string.Join(", ", missing.Take(10))}");
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i}");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }

    /// <summary>Collects the keys a scan returns; <paramref name="onFirst"/> runs when it is shown the first one.</summary>
    private sealed class KeySet(Action? onFirst = null) : IKeyVisitor
    {
        private Action? _onFirst = onFirst;

        public HashSet<string> Keys { get; } = [];

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record)
        {
            Keys.Add(Encoding.ASCII.GetString(key));
            Action? first = _onFirst;
            _onFirst = null;
            first?.Invoke();
        }
    }
}
