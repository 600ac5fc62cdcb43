using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>A key a command's read finds expired is deleted once the command ends, as Redis deletes an expired key it touches.</summary>
public sealed class ExpiredReadTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync(TimeProvider time) => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, Time = time, CompactionIntervalSeconds = 0 },
        NullLogger.Instance);

    [Fact]
    public async Task ReclaimExpiredReads_KeyReadExpired_DeletedCountedAndLogged()
    {
        // Timers stopped: the expiry cycle never runs, so only the read can reclaim the key.
        ManualClock clock = new() { TimersStopped = true };
        await using (FasterStore store = await OpenAsync(clock))
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "gone"u8, RecordType.String, "v"u8, clock.NowMs + 10);
            session.CompleteCommand();
            session.Write(0, "kept"u8, RecordType.String, "v"u8, clock.NowMs + 60_000);
            session.CompleteCommand();
            long expiredBefore = store.GetStatistics().ExpiredKeys;
            clock.Advance(TimeSpan.FromMilliseconds(20));

            // Counted until something reclaims it, as Redis's DBSIZE counts an expired key nothing has touched.
            Assert.Equal(2, store.KeyCount(0));
            Assert.False(session.TryRead(0, "gone"u8, null, out _));
            Assert.True(session.TryRead(0, "kept"u8, null, out _));
            session.CompleteCommand();
            Assert.Equal(2, store.KeyCount(0));
            session.ReclaimExpiredReads();

            Assert.Equal(1, store.KeyCount(0));
            Assert.Equal(1, store.ExpiringKeyCount(0));
            Assert.Equal(expiredBefore + 1, store.GetStatistics().ExpiredKeys);
            // Nothing left to reclaim: a second call deletes nothing more.
            session.ReclaimExpiredReads();
            Assert.Equal(1, store.KeyCount(0));
            Assert.True(session.TryRead(0, "kept"u8, null, out _));
        }

        // Deleted, not only counted: with the clock set back before its expiry, the key is still gone after a reopen.
        ManualClock earlier = new() { TimersStopped = true };
        earlier.Advance(TimeSpan.FromMinutes(-10));
        await using (FasterStore store = await OpenAsync(earlier))
        {
            using IStoreSession session = store.OpenSession();
            Assert.False(session.TryRead(0, "gone"u8, null, out _));
            Assert.True(session.TryRead(0, "kept"u8, null, out _));
            Assert.Equal(1, store.KeyCount(0));
        }
    }

    [Fact]
    public async Task ReclaimExpiredReads_KeyWrittenAgainBeforeTheReclaim_IsKept()
    {
        ManualClock clock = new() { TimersStopped = true };
        await using FasterStore store = await OpenAsync(clock);
        using IStoreSession session = store.OpenSession();
        session.Write(0, "k"u8, RecordType.String, "old"u8, clock.NowMs + 10);
        session.CompleteCommand();
        clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.False(session.TryRead(0, "k"u8, null, out _));
        // A write (this command's, or another connection's before the reclaim takes the stripe) replaces the expired record.
        session.Write(0, "k"u8, RecordType.String, "new"u8, 0);
        session.CompleteCommand();
        session.ReclaimExpiredReads();

        Assert.True(session.TryRead(0, "k"u8, null, out StoredRecord record));
        Assert.Equal(0, record.ExpiresAtMs);
        Assert.Equal(1, store.KeyCount(0));
    }

    [Fact]
    public async Task ReclaimExpiredReads_KeysAScanMet_DeletedOnlyWhenTheScanReclaims()
    {
        ManualClock clock = new() { TimersStopped = true };
        await using FasterStore store = await OpenAsync(clock);
        using IStoreSession session = store.OpenSession();
        foreach (string key in new[] { "a", "b", "c" })
        {
            session.Write(0, System.Text.Encoding.ASCII.GetBytes(key), RecordType.String, "v"u8, clock.NowMs + 10);
            session.CompleteCommand();
        }

        session.Write(0, "kept"u8, RecordType.String, "v"u8, 0);
        session.CompleteCommand();
        clock.Advance(TimeSpan.FromMilliseconds(20));

        // KEYS walks without reclaiming (as Redis's KEYS), SCAN reclaims what it meets (as Redis's SCAN).
        ScanAll(session, reclaimExpired: false);
        Assert.Equal(4, store.KeyCount(0));
        ScanAll(session, reclaimExpired: true);
        Assert.Equal(1, store.KeyCount(0));
        Assert.Equal(0, store.ExpiringKeyCount(0));
    }

    private static void ScanAll(IStoreSession session, bool reclaimExpired)
    {
        KeyNames seen = new();
        ulong cursor = 0;
        do
        {
            cursor = session.Scan(0, cursor, 100, seen, reclaimExpired);
            session.CompleteCommand();
            session.ReclaimExpiredReads();
        }
        while (cursor != 0);

        Assert.Equal(["kept"], seen.Names);
    }

    private sealed class KeyNames : IKeyVisitor
    {
        public List<string> Names { get; } = [];

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record) => Names.Add(System.Text.Encoding.ASCII.GetString(key));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
