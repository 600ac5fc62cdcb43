using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// Prefetch: the keys of a batch that are on disk only are read together, without a thread waiting, while other sessions
/// go on reading from memory; the batch's reads then need no disk read of their own, and a write to the key between the
/// prefetch and the read is never hidden by the prefetched record. Warming (a command waiting for its stripes) reads the
/// same way, pass by pass, and its records serve the command under the lock unless their key was written since.
/// </summary>
public sealed class PrefetchTests : IAsyncLifetime
{
    private const int Keys = 4000;
    private const int Batch = 64;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private FasterStore _store = null!;
    private FaultInjectingDevice _log = null!;

    public async ValueTask InitializeAsync()
    {
        _store = await FasterStore.OpenAsync(
            SmallStore.Options(_directory) with { MemoryBytes = 1L << 18, SegmentBytes = 1L << 22 },
            NullLogger.Instance,
            wrapWalDevice: null,
            wrapLogDevice: inner => _log = new FaultInjectingDevice(inner));
        using IStoreSession session = _store.OpenSession();
        for (int i = 0; i < Keys; i++)
        {
            session.Write(0, Key(i), RecordType.String, Encoding.ASCII.GetBytes(Value(i)), 0);
            session.CompleteCommand();
        }
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i:D5}");

    private static string Value(int i) => $"value:{i}:" + new string('v', 100);

    private static string? Read(IStoreSession session, byte[] key)
    {
        ArrayBufferWriter<byte> value = new();
        return session.TryRead(0, key, value, out _) ? Encoding.ASCII.GetString(value.WrittenSpan) : null;
    }

    /// <summary>A read as the dispatcher runs it: under the key's stripe, shared.</summary>
    private string? LockedRead(IStoreSession session, byte[] key)
    {
        int stripe = KeyLocks.StripeOf(key);
        _store.Locks.EnterShared(stripe);
        try
        {
            return Read(session, key);
        }
        finally
        {
            _store.Locks.ExitShared(stripe);
        }
    }

    private void LockedWrite(IStoreSession session, byte[] key, string? value)
    {
        int stripe = KeyLocks.StripeOf(key);
        _store.Locks.EnterExclusive(stripe);
        try
        {
            if (value is null)
            {
                session.Delete(0, key);
            }
            else
            {
                session.Write(0, key, RecordType.String, Encoding.ASCII.GetBytes(value), 0);
            }

            session.CompleteCommand();
        }
        finally
        {
            _store.Locks.ExitExclusive(stripe);
        }
    }

    [Fact]
    public async Task ColdBatch_ReadsTogetherWithoutBlockingHotReaders_ThenReadsWithoutTheDisk()
    {
        using IStoreSession cold = _store.OpenSession();
        using IStoreSession hot = _store.OpenSession();
        Assert.True(_store.HasColdRecords);
        _log.ReadDelay = TimeSpan.FromSeconds(2);
        int started = 0;
        for (int i = 0; i < Batch; i++)
        {
            started += cold.BeginPrefetch(0, Key(i)) ? 1 : 0;
        }

        Assert.Equal(Batch, started);
        Assert.False(cold.BeginPrefetch(0, Key(Keys - 1)), "a key in memory is not prefetched");
        ValueTask completing = cold.CompletePrefetchesAsync(TestContext.Current.CancellationToken);

        // Another session keeps reading the newest keys (in memory) while the batch waits for the slow disk.
        for (int round = 0; round < 20; round++)
        {
            for (int i = Keys - 50; i < Keys; i++)
            {
                Assert.Equal(Value(i), Read(hot, Key(i)));
            }
        }

        Assert.False(completing.IsCompleted, "the cold batch waits for the disk (2 s per read) while hot reads complete");
        await completing;
        Assert.True(_log.MostReadsInFlight >= Batch / 2, $"the batch's reads were issued together ({_log.MostReadsInFlight} at most in flight)");

        long pendingBefore = _store.GetStatistics().PendingReads;
        for (int i = 0; i < Batch; i++)
        {
            Assert.Equal(Value(i), LockedRead(cold, Key(i)));
        }

        Assert.Equal(pendingBefore, _store.GetStatistics().PendingReads);
        Assert.Equal(Keys, _store.KeyCount(0));
    }

    [Fact]
    public async Task WriteBetweenPrefetchAndRead_IsNeverHidden()
    {
        using IStoreSession reader = _store.OpenSession();
        using IStoreSession writer = _store.OpenSession();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(reader.BeginPrefetch(0, Key(i)));
        }

        await reader.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        LockedWrite(writer, Key(0), "changed");
        LockedWrite(writer, Key(1), null);
        Assert.Equal("changed", LockedRead(reader, Key(0)));
        Assert.Null(LockedRead(reader, Key(1)));
        Assert.Equal(Value(2), LockedRead(reader, Key(2)));

        // A write to another key of the same stripe leaves the prefetched record usable: its own key was not written.
        byte[] neighbour = Enumerable.Range(Keys, 100_000).Select(Key).First(k => KeyLocks.StripeOf(k) == KeyLocks.StripeOf(Key(3)));
        Assert.True(reader.BeginPrefetch(0, Key(3)));
        await reader.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        long pendingBefore = _store.GetStatistics().PendingReads;
        LockedWrite(writer, neighbour, "x");
        Assert.Equal(Value(3), LockedRead(reader, Key(3)));
        Assert.Equal(pendingBefore, _store.GetStatistics().PendingReads);

        // The next batch forgets the previous one's records.
        Assert.True(reader.BeginPrefetch(0, Key(4)));
        await reader.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        LockedWrite(writer, Key(2), "changed too");
        Assert.Equal("changed too", LockedRead(reader, Key(2)));
    }

    [Fact]
    public async Task Warming_ReadsWithoutWaiting_TheCommandUsesWhatItRead_UnlessItsKeyWasWrittenSince()
    {
        using IStoreSession warmer = _store.OpenSession();
        using IStoreSession writer = _store.OpenSession();
        _log.ReadDelay = TimeSpan.FromMilliseconds(300);
        warmer.Warming = true;
        Assert.Null(Read(warmer, Key(0)));
        Assert.Null(Read(warmer, Key(1)));
        warmer.Warming = false;
        Assert.True(warmer.PrefetchesPending, "records on disk are read without waiting: they read as absent for now");
        await warmer.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        Assert.False(warmer.PrefetchesPending);
        Assert.Equal(2, _store.GetStatistics().WarmReads);

        // The next pass finds what the first read, without the disk.
        warmer.Warming = true;
        Assert.Equal(Value(0), Read(warmer, Key(0)));
        warmer.Warming = false;
        Assert.False(warmer.PrefetchesPending);

        LockedWrite(writer, Key(1), "changed");
        long pendingBefore = _store.GetStatistics().PendingReads;
        Assert.Equal(Value(0), LockedRead(warmer, Key(0)));
        Assert.Equal(pendingBefore, _store.GetStatistics().PendingReads);
        Assert.Equal("changed", LockedRead(warmer, Key(1)));

        // Once the command has run, what warming read for it is forgotten.
        warmer.Warming = true;
        Assert.Null(Read(warmer, Key(2)));
        warmer.Warming = false;
        await warmer.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        warmer.CompleteCommand();
        pendingBefore = _store.GetStatistics().PendingReads;
        Assert.Equal(Value(2), LockedRead(warmer, Key(2)));
        Assert.Equal(pendingBefore + 1, _store.GetStatistics().PendingReads);
    }

    [Fact]
    public async Task Warming_KeyWrittenWhileItsReadIsOnItsWay_NeitherItNorTheNextKeyGetsAStaleRecord()
    {
        using IStoreSession warmer = _store.OpenSession();
        using IStoreSession writer = _store.OpenSession();
        warmer.Warming = true;
        Assert.Null(Read(warmer, Key(10)));
        LockedWrite(writer, Key(10), "changed");
        // Read again in the same pass (a tree's root on two paths), then another cold key: no second read may share the
        // first one's entry while it is on its way.
        Assert.Null(Read(warmer, Key(10)));
        Assert.Null(Read(warmer, Key(11)));
        warmer.Warming = false;
        await warmer.CompletePrefetchesAsync(TestContext.Current.CancellationToken);

        Assert.Equal("changed", LockedRead(warmer, Key(10)));
        Assert.Equal(Value(11), LockedRead(warmer, Key(11)));
    }

    [Fact]
    public async Task MoreColdKeysThanKept_TheRestAreReadAsUsual()
    {
        using IStoreSession session = _store.OpenSession();
        int started = 0;
        for (int i = 0; i < PrefetchedRecords.MaxEntries + 10; i++)
        {
            started += session.BeginPrefetch(0, Key(i)) ? 1 : 0;
        }

        Assert.Equal(PrefetchedRecords.MaxEntries, started);
        await session.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        for (int i = 0; i < PrefetchedRecords.MaxEntries + 10; i++)
        {
            Assert.Equal(Value(i), LockedRead(session, Key(i)));
        }
    }

    [Fact]
    public async Task Warming_MoreColdKeysThanKept_TheRestAreLeftToTheCommand()
    {
        using IStoreSession session = _store.OpenSession();
        session.Warming = true;
        for (int i = 0; i < PrefetchedRecords.MaxEntries + 10; i++)
        {
            Assert.Null(Read(session, Key(i)));
        }

        session.Warming = false;
        Assert.Equal(PrefetchedRecords.MaxEntries, _store.GetStatistics().WarmReads);
        await session.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        long pendingBefore = _store.GetStatistics().PendingReads;
        for (int i = 0; i < PrefetchedRecords.MaxEntries + 10; i++)
        {
            Assert.Equal(Value(i), LockedRead(session, Key(i)));
        }

        Assert.Equal(pendingBefore + 10, _store.GetStatistics().PendingReads);
    }

    [Fact]
    public async Task LargeValue_IsReadAgainRatherThanKept()
    {
        using IStoreSession session = _store.OpenSession();
        string large = new('L', PrefetchedRecords.MaxPayloadBytes + 1);
        LockedWrite(session, "large"u8.ToArray(), large);
        for (int i = 0; i < Keys; i++)
        {
            LockedWrite(session, Encoding.ASCII.GetBytes($"push:{i}"), Value(i));
        }

        Assert.True(session.BeginPrefetch(0, "large"u8));
        await session.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        Assert.Equal(large, LockedRead(session, "large"u8.ToArray()));
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
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
