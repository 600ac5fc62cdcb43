using System.Buffers;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using Durable.Storage.Faster;
using FASTER.core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// Cold reads through io_uring with O_DIRECT (<see cref="DirectReadDevice"/>): every record of a log mostly on disk reads
/// back exactly, reads racing segment removal and compaction stay right and leave no deleted segment open, writes racing
/// compaction never take their key for a new one, a read O_DIRECT
/// cannot do is read as its whole block or by FASTER's device, a read again from the completion callback is served from the block, and a store whose ring cannot be created reads through FASTER's device and says so.
/// </summary>
public sealed class ColdReadIoTests : IDisposable
{
    private const int Keys = 5000;
    private const int ValueBytes = 1000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<nint, nint> _allocations = [];

    private Task<FasterStore> OpenAsync(Microsoft.Extensions.Logging.ILogger? logger = null, Func<uint, IoUring>? createRing = null) => FasterStore.OpenAsync(
        SmallStore.Options(_directory) with { CreateRing = createRing },
        logger ?? NullLogger.Instance);

    /// <summary>A store whose keys were written in rounds 1 and 2: most of the log on disk, half of it dead.</summary>
    private async Task<FasterStore> OpenWrittenTwiceAsync()
    {
        FasterStore store = await OpenAsync();
        using IStoreSession writer = store.OpenSession();
        WriteAll(writer, 1);
        WriteAll(writer, 2);
        return store;
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i:D5}");

    /// <summary>A value that names its key and round, so a read of another key's or an old record's bytes shows.</summary>
    private static byte[] Value(int i, int round)
    {
        byte[] value = new byte[ValueBytes];
        value.AsSpan().Fill((byte)('a' + ((i + round) % 26)));
        Encoding.ASCII.GetBytes($"{i}:{round}:").CopyTo(value, 0);
        return value;
    }

    /// <summary>
    /// Writes every key's value of <paramref name="round"/>; with <paramref name="locks"/>, each under its key's stripe held
    /// exclusively, as the server writes while others read (a read copies a hot record read from disk to the tail under
    /// the shared stripe: without it, the copy could land after a newer write of the key).
    /// </summary>
    private static void WriteAll(IStoreSession session, int round, KeyLocks? locks = null)
    {
        for (int i = 0; i < Keys; i++)
        {
            int stripe = KeyLocks.StripeOf(Key(i));
            locks?.EnterExclusive(stripe);
            session.Write(0, Key(i), RecordType.String, Value(i, round), 0);
            session.CompleteCommand();
            locks?.ExitExclusive(stripe);
        }
    }

    private static void AssertAll(IStoreSession session, int round, string when)
    {
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < Keys; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Key(i), read, out _), $"key {i} exists {when}");
            Assert.True(read.WrittenSpan.SequenceEqual(Value(i, round)), $"key {i} reads back {when}: {Encoding.ASCII.GetString(read.WrittenSpan[..12])}");
        }
    }

    [Fact]
    public async Task ColdReads_LogMostlyOnDisk_EveryRecordReadsBackThroughTheRing()
    {
        RequireRing();
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            WriteAll(session, 1);
            Assert.True(store.GetStatistics().LogHeadAddress > (long)Keys * ValueBytes * 3 / 4, "most of the log is on disk");

            AssertAll(session, 1, "one at a time");

            // Prefetched in batches: many reads in flight on the ring at once.
            ArrayBufferWriter<byte> read = new();
            for (int first = 0; first < Keys; first += 64)
            {
                for (int i = first; i < Math.Min(Keys, first + 64); i++)
                {
                    session.BeginPrefetch(0, Key(i));
                }

                await session.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
                for (int i = first; i < Math.Min(Keys, first + 64); i++)
                {
                    read.ResetWrittenCount();
                    Assert.True(session.TryRead(0, Key(i), read, out _));
                    Assert.True(read.WrittenSpan.SequenceEqual(Value(i, 1)), $"prefetched key {i} reads back");
                }
            }

            StoreStatistics statistics = store.GetStatistics();
            Assert.Equal("io_uring", statistics.ColdReadIo);
            Assert.True(statistics.DirectReads >= statistics.PendingReads, $"{statistics.DirectReads} ring reads for {statistics.PendingReads} pending reads");
            Assert.Equal(0, statistics.DirectReadFallbacks);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        // Recovery reads the log's pages through the ring too.
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        AssertAll(again, 1, "after reopening");
        Assert.Equal(0, reopened.GetStatistics().DirectReadFallbacks);
    }

    [Fact]
    public async Task ColdReads_RacingCompaction_AlwaysSomeRoundOfTheirKeyAndNoRemovedSegmentKeptOpen()
    {
        RequireRing();
        await using FasterStore store = await OpenWrittenTwiceAsync();

        using CancellationTokenSource stop = new();
        long reads = 0;
        Task[] readers = [.. Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            using IStoreSession session = store.OpenSession();
            ArrayBufferWriter<byte> read = new();
            Random random = new(r);
            while (!stop.IsCancellationRequested)
            {
                int i = random.Next(Keys);
                read.ResetWrittenCount();
                // Under the key's stripe, as the server reads (see WriteAll).
                int stripe = KeyLocks.StripeOf(Key(i));
                store.Locks.EnterShared(stripe);
                bool found = session.TryRead(0, Key(i), read, out _);
                store.Locks.ExitShared(stripe);
                Assert.True(found, $"key {i} exists");
                string prefix = Encoding.ASCII.GetString(read.WrittenSpan[..12]);
                int round = int.Parse(prefix.Split(':')[1]);
                Assert.True(read.WrittenSpan.SequenceEqual(Value(i, round)), $"key {i} reads a whole record of its own: {prefix}");
                Interlocked.Increment(ref reads);
            }
        }))];

        long compactedBefore = 0;
        for (int round = 3; round <= 5; round++)
        {
            using (IStoreSession writer = store.OpenSession())
            {
                WriteAll(writer, round, store.Locks);
            }

            Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
            Assert.True(store.GetStatistics().CompactedBytes > compactedBefore, "compaction moved the begin address");
            compactedBefore = store.GetStatistics().CompactedBytes;
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(Interlocked.Read(ref reads) > 100, $"{reads} reads raced the compactions");
        using (IStoreSession session = store.OpenSession())
        {
            AssertAll(session, 5, "after the compactions");
        }

        Assert.True(store.GetStatistics().DirectReads > 0);
        // FASTER deletes the segments below the begin address after the checkpoint; none may stay open (disk space kept).
        await Waiting.UntilAsync(() => DeletedFilesOpen().Count == 0);
        List<string> open = DeletedFilesOpen();
        Assert.True(open.Count == 0, $"deleted files still open: {string.Join(", ", open)}");
    }

    /// <summary>
    /// A write or expiry change whose old record is on disk goes pending (an RMW that reads it). One that completes after
    /// a compaction copied that record to the tail and moved the begin address past it must still see the key as
    /// existing: FASTER 2.6.5's ContinuePendingRMW redoes the RMW when the key's hash chain moved meanwhile. Were it to
    /// complete as for a new key, the key would be counted twice and the expiry change would find nothing.
    /// </summary>
    [Fact]
    public async Task ColdWrites_RacingCompaction_NeverCreateTheKeyAgain()
    {
        RequireRing();
        await using FasterStore store = await OpenWrittenTwiceAsync();

        const long Far = 4_000_000_000_000;
        using CancellationTokenSource stop = new();
        // Per writer, the keys i with i % Writers == w; per key: the round last written, and whether an expiry was set after it.
        int[] lastRound = Enumerable.Repeat(2, Keys).ToArray();
        bool[] expiring = new bool[Keys];
        long writes = 0;
        const int Writers = 4;
        Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            using IStoreSession session = store.OpenSession();
            Random random = new(w);
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                int i = (random.Next(Keys / Writers) * Writers) + w;
                if (n % 3 == 2)
                {
                    Assert.True(session.TrySetExpiry(0, Key(i), Far), $"expiry of key {i}: it exists");
                    expiring[i] = true;
                }
                else
                {
                    lastRound[i] = 10 + (n % 10);
                    Assert.False(session.Write(0, Key(i), RecordType.String, Value(i, lastRound[i]), 0), $"write of key {i}: it existed");
                    expiring[i] = false;
                }

                session.CompleteCommand();
                Interlocked.Increment(ref writes);
            }
        }))];

        for (int round = 0; round < 3; round++)
        {
            using (IStoreSession filler = store.OpenSession())
            {
                // Keys the writers do not touch move the log on, so that the compaction has a range to compact.
                for (int i = 0; i < Keys; i += 2)
                {
                    filler.Write(1, Key(i), RecordType.String, Value(i, round), 0);
                    filler.CompleteCommand();
                }
            }

            Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
        }

        await stop.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(Interlocked.Read(ref writes) > 100, $"{writes} writes raced the compactions");
        Assert.Equal(Keys, store.KeyCount(0));
        Assert.Equal(expiring.Count(e => e), store.ExpiringKeyCount(0));
        using IStoreSession reader = store.OpenSession();
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < Keys; i++)
        {
            read.ResetWrittenCount();
            Assert.True(reader.TryRead(0, Key(i), read, out StoredRecord record), $"key {i} exists");
            Assert.True(read.WrittenSpan.SequenceEqual(Value(i, lastRound[i])), $"key {i} reads its last write");
            Assert.Equal(expiring[i] ? Far : 0, record.ExpiresAtMs);
        }
    }

    [Fact]
    public async Task Device_ReadsO_DirectCannotDo_ServedThroughABlockOrFasterDeviceWithTheSameBytes()
    {
        RequireRing();
        using DirectReadDevice device = await WrittenDeviceAsync();
        nint buffer = Aligned(8192);
        try
        {
            Assert.Equal(0u, await ReadAsync(device, 512, buffer, 1024));
            Assert.Equal(1, device.DirectReads);
            AssertPattern(buffer, 512, 1024);

            // Offset, length and buffer all off the 512-byte alignment O_DIRECT needs here, within one 4 KiB block:
            // the ring reads the block, and the bytes asked for are copied.
            Assert.Equal(0u, await ReadAsync(device, 100, buffer + 1, 50));
            Assert.Equal(2, device.DirectReads);
            AssertPattern(buffer + 1, 100, 50);

            // Across two blocks and misaligned: FASTER's device reads it.
            Assert.Equal(0u, await ReadAsync(device, 4050, buffer + 1, 100));
            Assert.Equal(1, device.InnerReads);
            AssertPattern(buffer + 1, 4050, 100);
        }
        finally
        {
            Free(buffer);
        }
    }

    [Fact]
    public async Task Device_ReadAgainFromTheCompletionCallback_ServedFromTheBlockJustRead()
    {
        RequireRing();
        using DirectReadDevice device = await WrittenDeviceAsync();
        nint buffer = Aligned(8192);
        try
        {
            // As FASTER does when a record is longer than the sector it read first: a longer read, from the callback.
            TaskCompletionSource<uint> second = new(TaskCreationOptions.RunContinuationsAsynchronously);
            device.ReadAsync(0, 4096 + 512, buffer, 512, (_, _, _) => device.ReadAsync(0, 4096 + 512, buffer + 4096, 1536, (error, bytes, _) => second.SetResult(error == 0 && bytes == 1536 ? 0 : uint.MaxValue), null!), null!);
            Assert.Equal(0u, await second.Task);
            Assert.Equal(1, device.DirectReads);
            Assert.Equal(0, device.InnerReads);
            AssertPattern(buffer, 4096 + 512, 512);
            AssertPattern(buffer + 4096, 4096 + 512, 1536);
        }
        finally
        {
            Free(buffer);
        }
    }

    [Fact]
    public async Task Device_SegmentRemovedWithReadsInFlight_ReadsCompleteRightAndTheFileIsClosed()
    {
        RequireRing();
        using DirectReadDevice device = await WrittenDeviceAsync();
        const int Reads = 256;
        nint buffer = Aligned(Reads * 512);
        try
        {
            Task<uint>[] reads = [.. Enumerable.Range(0, Reads).Select(r => ReadAsync(device, (ulong)(r % 8) * 512, buffer + (r * 512), 512))];
            device.RemoveSegment(0);
            Assert.All(await Task.WhenAll(reads), error => Assert.Equal(0u, error));
            for (int r = 0; r < Reads; r++)
            {
                AssertPattern(buffer + (r * 512), (r % 8) * 512, 512);
            }

            Assert.Equal(Reads, device.DirectReads + device.InnerReads);
            Assert.False(File.Exists(Path.Combine(_directory, "hlog.0")));
            Assert.Empty(DeletedFilesOpen());
        }
        finally
        {
            Free(buffer);
        }
    }

    [Fact]
    public async Task OpenStore_RingCannotBeCreated_ReadsThroughFasterDeviceAndSaysSoOnce()
    {
        RecordingLogger logger = new();
        await using FasterStore store = await OpenAsync(logger, _ => throw new Win32Exception(1, "io_uring_setup failed"));
        using IStoreSession session = store.OpenSession();
        WriteAll(session, 1);
        AssertAll(session, 1, "through FASTER's device");
        StoreStatistics statistics = store.GetStatistics();
        Assert.Equal("faster", statistics.ColdReadIo);
        Assert.True(statistics.PendingReads > 0);
        Assert.Equal(0, statistics.DirectReads);
        Assert.Single(logger.Lines, l => l.EventId == 125);
        Assert.DoesNotContain(logger.Lines, l => l.EventId == 124);
    }

    /// <summary>
    /// The tests of the ring itself need io_uring; where the kernel refuses it (a container's seccomp profile) they are
    /// skipped, and the fallback test stands for that machine.
    /// </summary>
    private static void RequireRing()
    {
        try
        {
            new IoUring(2).Dispose();
        }
        catch (Win32Exception exception)
        {
            Assert.Skip($"io_uring is unavailable here ({exception.Message})");
        }
    }

    /// <summary>A device over <c>hlog.0</c> in the test directory holding 8 KiB of <see cref="PatternByte"/>.</summary>
    private async Task<DirectReadDevice> WrittenDeviceAsync()
    {
        IDevice inner = Devices.CreateLogDevice(Path.Combine(_directory, "hlog"), preallocateFile: false, deleteOnClose: false, recoverDevice: false);
        DirectReadDevice device = DirectReadDevice.TryCreate(inner, entries => new IoUring(entries), NullLogger.Instance)!;
        device.Initialize(1L << 20);
        nint source = Aligned(8192);
        try
        {
            for (int i = 0; i < 8192; i++)
            {
                Marshal.WriteByte(source, i, PatternByte(i));
            }

            TaskCompletionSource<uint> written = new(TaskCreationOptions.RunContinuationsAsynchronously);
            device.WriteAsync(source, 0, 0, 8192, (error, _, _) => written.SetResult(error), null!);
            Assert.Equal(0u, await written.Task);
        }
        finally
        {
            Free(source);
        }

        return device;
    }

    private static byte PatternByte(int offset) => (byte)((offset * 7) + (offset >> 8));

    private static void AssertPattern(nint buffer, int fileOffset, int length)
    {
        for (int i = 0; i < length; i++)
        {
            Assert.Equal(PatternByte(fileOffset + i), Marshal.ReadByte(buffer, i));
        }
    }

    private static Task<uint> ReadAsync(DirectReadDevice device, ulong offset, nint destination, uint length)
    {
        TaskCompletionSource<uint> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        device.ReadAsync(0, offset, destination, length, (error, bytes, _) => done.SetResult(error == 0 && bytes != length ? uint.MaxValue : error), null!);
        return done.Task;
    }

    /// <summary>Native memory at a 4 KiB boundary (what O_DIRECT may need); <see cref="Free"/> takes the same address.</summary>
    private nint Aligned(int bytes)
    {
        nint raw = Marshal.AllocHGlobal(bytes + 4096);
        nint aligned = (raw + 4095) & ~(nint)4095;
        _allocations[aligned] = raw;
        return aligned;
    }

    private void Free(nint aligned)
    {
        _allocations.Remove(aligned, out nint raw);
        Marshal.FreeHGlobal(raw);
    }

    /// <summary>Files of this test's directory that the process holds open although they were deleted.</summary>
    private List<string> DeletedFilesOpen() =>
        [.. new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(fd => { try { return fd.LinkTarget; } catch (IOException) { return null; } })
            .OfType<string>()
            .Where(target => target.StartsWith(_directory, StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal))];

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
