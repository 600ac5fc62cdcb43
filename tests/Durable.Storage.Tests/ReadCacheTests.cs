using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// The read cache: a record read from disk for the second time within the window is copied back to the log's tail, so
/// its next reads need no disk; the copy never hides a newer write, keeps expiry and parts, changes no key count, and
/// the store reopens (with or without a checkpoint) to the same data.
/// </summary>
public sealed class ReadCacheTests : IAsyncLifetime
{
    private const int Keys = 3000;
    private const int Hot = 50;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new();
    private FaultInjectingDevice _log = null!;
    private FasterStore _store = null!;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    private async Task<FasterStore> OpenAsync(bool readCache = true)
    {
        _store = await FasterStore.OpenAsync(
            new StoreOptions
            {
                DataDirectory = _directory,
                MemoryBytes = 1L << 20,
                IndexBytes = 1L << 16,
                SegmentBytes = 1L << 22,
                ReadCache = readCache,
                CompactionIntervalSeconds = 0,
                CheckpointIntervalSeconds = 0,
                Time = _clock,
            },
            NullLogger.Instance,
            wrapWalDevice: null,
            wrapLogDevice: inner => _log = new FaultInjectingDevice(inner));
        return _store;
    }

    private long PendingReads => _store.GetStatistics().PendingReads;

    private long ReadCopies => _store.GetStatistics().ReadCopies;

    [Fact]
    public async Task HotKeysOnDisk_ReadTwice_LaterReadsServedFromMemory()
    {
        await OpenAsync();
        using IStoreSession session = _store.OpenSession();
        WriteAll(session, "v1");

        long pending = PendingReads;
        ReadHot(session, "v1");
        Assert.Equal(Hot, PendingReads - pending);
        Assert.Equal(0, ReadCopies);

        // The second cold read of each key copies it; from then on the hot set is read from memory.
        ReadHot(session, "v1");
        Assert.Equal(Hot, ReadCopies);
        pending = PendingReads;
        for (int round = 0; round < 3; round++)
        {
            ReadHot(session, "v1");
        }

        Assert.Equal(pending, PendingReads);
        Assert.Equal(Keys, _store.KeyCount(0));
        Assert.Equal(0, _store.ExpiringKeyCount(0));
    }

    [Fact]
    public async Task ReadCacheOff_HotKeysStayOnDisk()
    {
        await OpenAsync(readCache: false);
        using IStoreSession session = _store.OpenSession();
        WriteAll(session, "v1");
        ReadHot(session, "v1");
        ReadHot(session, "v1");
        long pending = PendingReads;
        ReadHot(session, "v1");
        Assert.Equal(Hot, PendingReads - pending);
        Assert.Equal(0, ReadCopies);
        Assert.Equal(0, _store.GetStatistics().ColdReadTableBytes);
    }

    [Fact]
    public async Task EveryColdKeyReadOnce_CopiesNothing()
    {
        await OpenAsync();
        using IStoreSession session = _store.OpenSession();
        WriteAll(session, "v1");
        long pending = PendingReads;
        for (int i = 0; i < Keys / 2; i++)
        {
            Assert.Equal(Value(i, "v1"), LockedRead(session, Key(i)));
        }

        Assert.True(PendingReads - pending > Keys / 3, "the first half of the keys was on disk");
        Assert.Equal(0, ReadCopies);
    }

    [Fact]
    public async Task Copy_KeepsExpiryAndCounts_ExpiredRecordIsNotCopied()
    {
        await OpenAsync();
        using IStoreSession session = _store.OpenSession();
        long soon = _clock.NowMs + 60_000;
        long later = _clock.NowMs + 3_600_000;
        LockedWrite(session, "expires-soon"u8.ToArray(), "soon", soon);
        LockedWrite(session, "expires-later"u8.ToArray(), "later", later);
        WriteAll(session, "v1");
        long pending = PendingReads;
        for (int read = 0; read < 2; read++)
        {
            Assert.Equal("later", LockedRead(session, "expires-later"u8.ToArray(), out StoredRecord record));
            Assert.Equal(later, record.ExpiresAtMs);
        }

        Assert.Equal(1, ReadCopies);
        Assert.Equal("later", LockedRead(session, "expires-later"u8.ToArray(), out StoredRecord copied));
        Assert.Equal(later, copied.ExpiresAtMs);
        Assert.Equal(2, PendingReads - pending);
        Assert.Equal(Keys + 2, _store.KeyCount(0));
        Assert.Equal(2, _store.ExpiringKeyCount(0));

        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(LockedRead(session, "expires-soon"u8.ToArray()));
        Assert.Null(LockedRead(session, "expires-soon"u8.ToArray()));
        Assert.Equal(1, ReadCopies);
    }

    [Fact]
    public async Task PartsOnDisk_ReadTwice_ServedFromMemoryWithTheSameContents()
    {
        await OpenAsync();
        using IStoreSession session = _store.OpenSession();
        const ulong Generation = 42;
        for (uint part = 0; part < Hot; part++)
        {
            session.WritePart(Generation, part, Encoding.ASCII.GetBytes(Value((int)part, "part")));
            session.CompleteCommand();
        }

        WriteAll(session, "v1");
        ArrayBufferWriter<byte> read = new();
        for (int round = 0; round < 2; round++)
        {
            for (uint part = 0; part < Hot; part++)
            {
                read.ResetWrittenCount();
                Assert.True(session.TryReadPart(Generation, part, read));
                Assert.Equal(Value((int)part, "part"), Encoding.ASCII.GetString(read.WrittenSpan));
            }
        }

        Assert.Equal(Hot, ReadCopies);
        long pending = PendingReads;
        for (uint part = 0; part < Hot; part++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryReadPart(Generation, part, read));
            Assert.Equal(Value((int)part, "part"), Encoding.ASCII.GetString(read.WrittenSpan));
        }

        Assert.Equal(pending, PendingReads);
        Assert.Equal(Keys, _store.KeyCount(0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reopen_AfterCopies_SameDataAndCounts(bool checkpoint)
    {
        await OpenAsync();
        using (IStoreSession session = _store.OpenSession())
        {
            WriteAll(session, "v1");
            WriteAll(session, "v2");
            ReadHot(session, "v2");
            ReadHot(session, "v2");
            Assert.Equal(Hot, ReadCopies);
            if (checkpoint)
            {
                await _store.CheckpointAsync(TestContext.Current.CancellationToken);
            }
        }

        await _store.DisposeAsync();
        await OpenAsync();
        Assert.Equal(Keys, _store.KeyCount(0));
        using IStoreSession reopened = _store.OpenSession();
        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal(Value(i, "v2"), LockedRead(reopened, Key(i)));
        }
    }

    [Fact]
    public async Task Scan_AfterCopies_ReturnsEveryKeyExactlyOnce()
    {
        await OpenAsync();
        using IStoreSession session = _store.OpenSession();
        WriteAll(session, "v1");
        ReadHot(session, "v1");
        ReadHot(session, "v1");
        Assert.Equal(Hot, ReadCopies);

        AssertScanSeesEveryKeyOnce(session);
    }

    /// <summary>
    /// A copy is written by FASTER's upsert, which may mark spare space after the value (its extra-value-length filler);
    /// the store's own in-place writes then shrink that record. Log scans must still step over it record by record.
    /// </summary>
    [Fact]
    public async Task CopiesOverwrittenInPlaceWithShorterValues_ScanStillSeesEveryKeyOnce()
    {
        await OpenAsync();
        using IStoreSession session = _store.OpenSession();
        WriteAll(session, "v1");
        ReadHot(session, "v1");
        ReadHot(session, "v1");
        Assert.Equal(Hot, ReadCopies);
        for (int i = 0; i < Hot; i++)
        {
            // Every length from 1 to 50 bytes: whatever spare space the copy's allocation left, some shrink crosses it.
            LockedWrite(session, Key(i), new string('s', i + 1));
        }

        AssertScanSeesEveryKeyOnce(session);
        for (int i = 0; i < Hot; i++)
        {
            Assert.Equal(new string('s', i + 1), LockedRead(session, Key(i)));
        }
    }

    /// <summary>A write waits for the stripe a copying read holds (2 s on the slow disk), so it lands after the copy and wins.</summary>
    [Fact]
    public async Task WriteRacingWithInlineCopy_IsNotLost()
    {
        await OpenAsync();
        using IStoreSession reader = _store.OpenSession();
        using IStoreSession writer = _store.OpenSession();
        WriteAll(writer, "v1");
        Assert.Equal(Value(0, "v1"), LockedRead(reader, Key(0)));

        _log.ReadDelay = TimeSpan.FromSeconds(2);
        Task<string?> copying = Task.Run(() => LockedRead(reader, Key(0)), TestContext.Current.CancellationToken);
        Assert.True(SpinWait.SpinUntil(() => _log.MostReadsInFlight >= 1, TimeSpan.FromSeconds(30)), "the read reached the slow disk");
        Task writing = Task.Run(() => LockedWrite(writer, Key(0), "newer"), TestContext.Current.CancellationToken);
        Assert.Equal(Value(0, "v1"), await copying);
        await writing;
        _log.ReadDelay = TimeSpan.Zero;

        Assert.Equal(1, ReadCopies);
        Assert.Equal("newer", LockedRead(reader, Key(0)));
        WriteAll(writer, "v2", from: 1);
        Assert.Equal("newer", LockedRead(reader, Key(0)));
    }

    /// <summary>A prefetched record that a write superseded (the stripe's write version moved) is neither used nor copied.</summary>
    [Fact]
    public async Task WriteBetweenPrefetchAndRead_NoCopyOfTheOldRecord()
    {
        await OpenAsync();
        using IStoreSession reader = _store.OpenSession();
        using IStoreSession writer = _store.OpenSession();
        WriteAll(writer, "v1");
        Assert.Equal(Value(0, "v1"), LockedRead(reader, Key(0)));
        Assert.Equal(Value(1, "v1"), LockedRead(reader, Key(1)));

        _log.ReadDelay = TimeSpan.FromSeconds(1);
        Assert.True(reader.BeginPrefetch(0, Key(0)));
        Assert.True(reader.BeginPrefetch(0, Key(1)));
        ValueTask completing = reader.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        LockedWrite(writer, Key(0), "newer");
        await completing;
        _log.ReadDelay = TimeSpan.Zero;

        Assert.Equal("newer", LockedRead(reader, Key(0)));
        // The other key's prefetched record is its newest: its second cold read, copied.
        long pending = PendingReads;
        Assert.Equal(Value(1, "v1"), LockedRead(reader, Key(1)));
        Assert.Equal(pending, PendingReads);
        Assert.Equal(1, ReadCopies);

        WriteAll(writer, "v2", from: 2);
        Assert.Equal("newer", LockedRead(reader, Key(0)));
        Assert.Equal(Value(1, "v1"), LockedRead(reader, Key(1)));
    }

    /// <summary>
    /// Readers copy hot keys back while a writer keeps overwriting them and pushing them to disk: no reader ever sees a
    /// key's version go back, and every key ends with the last value written.
    /// </summary>
    [Fact]
    public async Task ConcurrentReadersAndWriter_NoVersionGoesBack_FinalValuesAreTheLastWritten()
    {
        const int Rounds = 40;
        await OpenAsync();
        using (IStoreSession loader = _store.OpenSession())
        {
            WriteAll(loader, "0");
        }

        using CancellationTokenSource done = new();
        Task writer = Task.Run(
            () =>
            {
                using IStoreSession session = _store.OpenSession();
                for (int round = 1; round <= Rounds; round++)
                {
                    for (int i = 0; i < Hot; i++)
                    {
                        LockedWrite(session, Key(i), Value(i, round.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    }

                    // Filler, so that the hot keys' records go to disk between rounds.
                    WriteAll(session, "filler", from: Hot, count: 300);
                }

                done.Cancel();
            },
            TestContext.Current.CancellationToken);
        Task[] readers = [.. Enumerable.Range(0, 2).Select(seed => Task.Run(() => ReadUntil(seed, done.Token), TestContext.Current.CancellationToken))];
        await writer;
        await Task.WhenAll(readers);

        Assert.True(ReadCopies > 0, "the readers copied records while the writer ran");
        using IStoreSession check = _store.OpenSession();
        for (int i = 0; i < Hot; i++)
        {
            Assert.Equal(Value(i, Rounds.ToString(System.Globalization.CultureInfo.InvariantCulture)), LockedRead(check, Key(i)));
        }

        Assert.Equal(Keys, _store.KeyCount(0));
    }

    private void ReadUntil(int seed, CancellationToken stop)
    {
        using IStoreSession session = _store.OpenSession();
        Random random = new(seed);
        int[] newest = new int[Hot];
        while (!stop.IsCancellationRequested)
        {
            int i = random.Next(Hot);
            // Twice in a row: the second read of a key on disk is its second cold read.
            for (int read = 0; read < 2; read++)
            {
                string value = LockedRead(session, Key(i)) ?? throw new InvalidOperationException($"key {i} missing");
                int version = int.Parse(value.AsSpan(0, value.IndexOf(':', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(version >= newest[i], $"key {i} went back from version {newest[i]} to {version}");
                newest[i] = version;
            }
        }
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i:D5}");

    private static string Value(int i, string version) => $"{version}:{i}:" + new string('v', 1000);

    private void WriteAll(IStoreSession session, string version, int from = 0, int count = Keys)
    {
        for (int i = from; i < Math.Min(Keys, from + count); i++)
        {
            LockedWrite(session, Key(i), Value(i, version));
        }
    }

    private void ReadHot(IStoreSession session, string version)
    {
        for (int i = 0; i < Hot; i++)
        {
            Assert.Equal(Value(i, version), LockedRead(session, Key(i)));
        }
    }

    private string? LockedRead(IStoreSession session, byte[] key) => LockedRead(session, key, out _);

    /// <summary>A read as the dispatcher runs it: under the key's stripe, shared.</summary>
    private string? LockedRead(IStoreSession session, byte[] key, out StoredRecord record)
    {
        int stripe = KeyLocks.StripeOf(key);
        _store.Locks.EnterShared(stripe);
        try
        {
            ArrayBufferWriter<byte> value = new();
            return session.TryRead(0, key, value, out record) ? Encoding.ASCII.GetString(value.WrittenSpan) : null;
        }
        finally
        {
            _store.Locks.ExitShared(stripe);
        }
    }

    private void LockedWrite(IStoreSession session, byte[] key, string value, long expiresAtMs = 0)
    {
        int stripe = KeyLocks.StripeOf(key);
        _store.Locks.EnterExclusive(stripe);
        try
        {
            session.Write(0, key, RecordType.String, Encoding.ASCII.GetBytes(value), expiresAtMs);
            session.CompleteCommand();
        }
        finally
        {
            _store.Locks.ExitExclusive(stripe);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }

    /// <summary>A whole SCAN of database 0 returns each of the <see cref="Keys"/> keys exactly once.</summary>
    private static void AssertScanSeesEveryKeyOnce(IStoreSession session)
    {
        KeyCounter seen = new();
        ulong cursor = 0;
        do
        {
            cursor = session.Scan(0, cursor, 100, seen, reclaimExpired: false);
        }
        while (cursor != 0);

        Assert.Equal(Keys, seen.Counts.Count);
        Assert.All(seen.Counts, pair => Assert.Equal(1, pair.Value));
    }

    private sealed class KeyCounter : IKeyVisitor
    {
        public Dictionary<string, int> Counts { get; } = [];

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record)
        {
            string name = Encoding.ASCII.GetString(key);
            Counts[name] = Counts.GetValueOrDefault(name) + 1;
        }
    }
}
