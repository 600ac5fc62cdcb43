using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

public sealed class TrySetExpiryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync(TimeProvider? time = null) => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, Time = time ?? TimeProvider.System },
        NullLogger.Instance);

    [Fact]
    public async Task TrySetExpiry_MissingKey_ReturnsFalseAndCreatesNothing()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();

        Assert.False(session.TrySetExpiry(0, "missing"u8, long.MaxValue));

        Assert.False(session.TryRead(0, "missing"u8, null, out _));
        Assert.Equal(0, store.KeyCount(0));
        Assert.Equal(0, store.ExpiringKeyCount(0));
    }

    [Fact]
    public async Task TrySetExpiry_HotRecord_ChangesExpiryKeepsPayloadAndCounts()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        session.Write(2, "k"u8, RecordType.String, "payload"u8, 0);

        Assert.True(session.TrySetExpiry(2, "k"u8, long.MaxValue - 1));
        AssertRecord(session, 2, "k"u8, "payload", long.MaxValue - 1);
        Assert.Equal(1, store.ExpiringKeyCount(2));

        Assert.True(session.TrySetExpiry(2, "k"u8, 0));
        AssertRecord(session, 2, "k"u8, "payload", 0);
        Assert.Equal(1, store.KeyCount(2));
        Assert.Equal(0, store.ExpiringKeyCount(2));
    }

    [Fact]
    public async Task TrySetExpiry_RecordOnDisk_CopiesRecordWithNewExpiry()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        byte[] value = new byte[1000];
        for (int i = 0; i < 5_000; i++)
        {
            value.AsSpan().Fill((byte)('a' + (i % 26)));
            session.Write(0, Encoding.ASCII.GetBytes($"key:{i}"), RecordType.String, value, 0);
        }

        Assert.True(store.GetStatistics().LogHeadAddress > store.GetStatistics().LogBeginAddress, "the first records live on disk");

        Assert.True(session.TrySetExpiry(0, "key:0"u8, 4_000_000_000_000));

        AssertRecord(session, 0, "key:0"u8, new string('a', 1000), 4_000_000_000_000);
        Assert.Equal(5_000, store.KeyCount(0));
        Assert.Equal(1, store.ExpiringKeyCount(0));
    }

    [Fact]
    public async Task TrySetExpiry_ExpiredRecord_ReturnsFalseAndKeyStaysGone()
    {
        ManualClock clock = new();
        await using FasterStore store = await OpenAsync(clock);
        using IStoreSession session = store.OpenSession();
        session.Write(0, "k"u8, RecordType.String, "v"u8, clock.NowMs + 1000);
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.False(session.TrySetExpiry(0, "k"u8, 0));

        Assert.False(session.TryRead(0, "k"u8, null, out _));
    }

    [Fact]
    public async Task TrySetExpiry_ExpiredRecordOnDisk_ReturnsFalseAndKeyStaysGone()
    {
        ManualClock clock = new();
        await using FasterStore store = await OpenAsync(clock);
        using IStoreSession session = store.OpenSession();
        session.Write(0, "k"u8, RecordType.String, "v"u8, clock.NowMs + 1000);
        byte[] filler = new byte[1000];
        for (int i = 0; i < 5_000; i++)
        {
            session.Write(0, Encoding.ASCII.GetBytes($"filler:{i}"), RecordType.String, filler, 0);
        }

        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.False(session.TrySetExpiry(0, "k"u8, 0));

        Assert.False(session.TryRead(0, "k"u8, null, out _));
        // Until the background cycle reclaims it, "k" still counts as one key with a TTL; afterwards as nothing.
        Assert.Equal(store.KeyCount(0) - 5_000, store.ExpiringKeyCount(0));
    }

    [Fact]
    public async Task Write_OverExpiredRecord_CountsItAsExpired()
    {
        ManualClock clock = new();
        await using FasterStore store = await OpenAsync(clock);
        using IStoreSession session = store.OpenSession();
        session.Write(0, "k"u8, RecordType.String, "v"u8, clock.NowMs + 1000);
        session.Write(0, "live"u8, RecordType.String, "v"u8, clock.NowMs + 100_000);
        clock.Advance(TimeSpan.FromSeconds(2));

        // The background cycle may reclaim "k" first; either way it is counted exactly once.
        // New either way: no live record was there.
        Assert.True(session.Write(0, "k"u8, RecordType.String, "new"u8, 0));
        Assert.False(session.Write(0, "live"u8, RecordType.String, "new"u8, 0));

        Assert.Equal(1, store.GetStatistics().ExpiredKeys);
        Assert.Equal(2, store.KeyCount(0));
        Assert.Equal(0, store.ExpiringKeyCount(0));
    }

    private static void AssertRecord(IStoreSession session, int db, ReadOnlySpan<byte> key, string payload, long expiresAtMs)
    {
        ArrayBufferWriter<byte> read = new();
        Assert.True(session.TryRead(db, key, read, out StoredRecord record));
        Assert.Equal(RecordType.String, record.Type);
        Assert.Equal(expiresAtMs, record.ExpiresAtMs);
        Assert.Equal(payload, Encoding.ASCII.GetString(read.WrittenSpan));
    }

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
}
