using System.Text;
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
            Write(session, "gone", clock.NowMs + 10);
            Write(session, "kept", clock.NowMs + 60_000);
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
        Write(session, "k", clock.NowMs + 10, "old");
        clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.False(session.TryRead(0, "k"u8, null, out _));
        // A write (this command's, or another connection's before the reclaim takes the stripe) replaces the expired record.
        Write(session, "k", 0, "new");
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
            Write(session, key, clock.NowMs + 10);
        }

        Write(session, "kept", 0);
        clock.Advance(TimeSpan.FromMilliseconds(20));

        // KEYS walks without reclaiming (as Redis's KEYS), SCAN reclaims what it meets (as Redis's SCAN).
        ScanAll(session, reclaimExpired: false);
        Assert.Equal(4, store.KeyCount(0));
        ScanAll(session, reclaimExpired: true);
        Assert.Equal(1, store.KeyCount(0));
        Assert.Equal(0, store.ExpiringKeyCount(0));
    }

    [Fact]
    public async Task ReclaimExpiredReads_MoreExpiredKeysThanTheLimitInOneCommand_TheRestReclaimedWhenReadAgain()
    {
        ManualClock clock = new() { TimersStopped = true };
        await using FasterStore store = await OpenAsync(clock);
        using IStoreSession session = store.OpenSession();
        int keys = FasterStoreSession.MaxExpiredReads + 36;
        for (int i = 0; i < keys; i++)
        {
            Write(session, $"k{i}", clock.NowMs + 10);
        }

        clock.Advance(TimeSpan.FromMilliseconds(20));
        // One command (an MGET, say) reads them all: the first MaxExpiredReads are reclaimed after it, the rest are left
        // (to the expiry cycle, or to the next command that reads them).
        for (int i = 0; i < keys; i++)
        {
            Assert.False(session.TryRead(0, Encoding.ASCII.GetBytes($"k{i}"), null, out _));
        }

        session.CompleteCommand();
        session.ReclaimExpiredReads();
        Assert.Equal(36, store.KeyCount(0));

        for (int i = 0; i < keys; i++)
        {
            Assert.False(session.TryRead(0, Encoding.ASCII.GetBytes($"k{i}"), null, out _));
        }

        session.CompleteCommand();
        session.ReclaimExpiredReads();
        Assert.Equal(0, store.KeyCount(0));
        Assert.Equal(0, store.ExpiringKeyCount(0));
    }

    // One command: key = value, expiring at expiresAtMs (0: never).
    private static void Write(IStoreSession session, string key, long expiresAtMs, string value = "v")
    {
        session.Write(0, Encoding.ASCII.GetBytes(key), RecordType.String, Encoding.ASCII.GetBytes(value), expiresAtMs);
        session.CompleteCommand();
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

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record) => Names.Add(Encoding.ASCII.GetString(key));
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
