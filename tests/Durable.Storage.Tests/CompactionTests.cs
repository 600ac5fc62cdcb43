using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

public sealed class CompactionTests : IDisposable
{
    private const int Keys = 5000;
    private const int ValueBytes = 1024;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync(TimeProvider? time = null, long segmentBytes = 1L << 20, ILogger? logger = null, int deadPercent = 40, Func<long, bool>? refuseCopy = null) => FasterStore.OpenAsync(
        new StoreOptions
        {
            RefuseCompactionCopy = refuseCopy,
            DataDirectory = _directory,
            MemoryBytes = 1L << 20,
            IndexBytes = 1L << 16,
            SegmentBytes = segmentBytes,
            CompactionIntervalSeconds = 0,
            CompactionDeadPercent = deadPercent,
            CheckpointIntervalSeconds = 0,
            Time = time ?? TimeProvider.System,
        },
        logger ?? NullLogger.Instance);

    [Fact]
    public async Task Compact_OverwriteLoop_DiskUnderTwiceLiveDataAndReopenReadsLatestValues()
    {
        long liveBytes = (long)Keys * ValueBytes;
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            WriteRounds(session, 3);
            Assert.True(store.GetStatistics().LogDiskBytes > 2 * liveBytes, "three rounds of overwrites leave mostly dead records on disk");

            Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: false, TestContext.Current.CancellationToken));

            StoreStatistics statistics = store.GetStatistics();
            Assert.Equal(1, statistics.Compactions);
            Assert.True(statistics.CompactedBytes > liveBytes, $"reclaimed {statistics.CompactedBytes} bytes");
            // The older half of the log on disk (rounds 1 and 2, all dead), not all of it: what a compaction copies before
            // it frees anything stays a fraction of the log.
            Assert.True(statistics.CompactedBytes < 2 * liveBytes, $"reclaimed {statistics.CompactedBytes} bytes, more than the older half");
            // FASTER deletes the segment files below the begin address in the background after the checkpoint.
            Assert.True(await Waiting.UntilAsync(() => store.GetStatistics().LogDiskBytes < 2 * liveBytes), $"timed out waiting for the log on disk to be under {2 * liveBytes} bytes");
            Assert.Equal(Keys, store.KeyCount(0));
            AssertLatestValues(session, "after compaction");
        }

        Assert.True(SegmentFileBytes() < 2 * liveBytes);
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(Keys, reopened.KeyCount(0));
        AssertLatestValues(again, "after compaction and reopen");
    }

    [Fact]
    public async Task Compact_StoppedAtACopy_LeavesTheBeginAddressAndLosesNothingThenRunsAgain()
    {
        // A compaction stopped in the middle (as the guard stops one before FASTER can lose or retry a copy for ever):
        // the copies made so far stay at the tail, the originals below, and nothing moves the begin address.
        int copies = 0;
        long begin;
        await using (FasterStore store = await OpenAsync(refuseCopy: _ => Interlocked.Increment(ref copies) == 100))
        {
            using IStoreSession session = store.OpenSession();
            WriteRounds(session, 3);
            begin = store.Kv.Log.BeginAddress;

            Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
            StoreStatistics stopped = store.GetStatistics();
            Assert.Equal(1, stopped.CompactionsAbandoned);
            Assert.Equal(0, stopped.Compactions);
            Assert.Equal(begin, store.Kv.Log.BeginAddress);
            Assert.Equal(Keys, store.KeyCount(0));
            WriteFiller(session, 2000);
            AssertLatestValues(session, "after the stopped compaction");
        }

        // The log with the stopped compaction's extra copies reopens as it was, and the next compaction runs.
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(Keys, reopened.KeyCount(0));
        AssertLatestValues(again, "after reopening");
        Assert.True(await reopened.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
        Assert.Equal(1, reopened.GetStatistics().Compactions);
        Assert.True(reopened.Kv.Log.BeginAddress > begin);
        WriteFiller(again, 2000);
        AssertLatestValues(again, "after the next compaction");
    }

    [Fact]
    public void CompactionCopyGuard_TheSameKeyTwiceInARowOrACopyBelowTheSafeReadOnlyAddress_StopsTheCompactionOnce()
    {
        CompactionCopyGuard guard = new(refuseForTest: null);
        Assert.Null(guard.Check(keyHash: 1, address: 1000, safeReadOnlyAddress: 500));
        Assert.Null(guard.Check(keyHash: 2, address: 1100, safeReadOnlyAddress: 500));
        // FASTER calls the callback for the same copy again: its CAS failed and it retries.
        Assert.Contains("retries it", guard.Check(keyHash: 2, address: 1100, safeReadOnlyAddress: 500), StringComparison.Ordinal);
        // Once per compaction: the copies FASTER completes while it winds the compaction down go on.
        Assert.Null(guard.Check(keyHash: 2, address: 1100, safeReadOnlyAddress: 500));
        Assert.Null(guard.Check(keyHash: 3, address: 100, safeReadOnlyAddress: 500));

        guard.Reset();
        Assert.Contains("already been flushed", guard.Check(keyHash: 3, address: 100, safeReadOnlyAddress: 500), StringComparison.Ordinal);
        guard.Reset();
        Assert.Null(guard.Check(keyHash: 3, address: 600, safeReadOnlyAddress: 500));
    }

    [Fact]
    public async Task Compact_LogWithinOneSegment_FreesTheSegmentBelowTheBeginAddress()
    {
        // Segments of 64 MiB, a log of about 15 MB: FASTER deletes no segment file, so only the freed blocks below the
        // begin address bring the disk under twice the live data.
        long liveBytes = (long)Keys * ValueBytes;
        RecordingLogger compacting = new();
        await using (FasterStore store = await OpenAsync(segmentBytes: 64L << 20, logger: compacting))
        {
            using IStoreSession session = store.OpenSession();
            WriteRounds(session, 3);
            Assert.True(AllocatedLogBytes() > 2 * liveBytes, "three rounds of overwrites leave mostly dead records on disk");

            Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: false, TestContext.Current.CancellationToken));

            Assert.Single(new DirectoryInfo(Path.Combine(_directory, "log")).EnumerateFiles());
            // (Some of the last round is still in memory only.)
            Assert.InRange(store.GetStatistics().LogDiskBytes, liveBytes / 2, 2 * liveBytes);
            Assert.InRange(AllocatedLogBytes(), liveBytes / 2, 2 * liveBytes);
            AssertLatestValues(session, "after compaction");
        }

        Assert.True(compacting.Has(FreedBelowBeginEvent), compacting.Text);
        RecordingLogger reopening = new();
        await using FasterStore reopened = await OpenAsync(segmentBytes: 64L << 20, logger: reopening);
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(Keys, reopened.KeyCount(0));
        AssertLatestValues(again, "after compaction and reopen");
        // A restart knows the space below the begin address is free too, and does not report freeing it again.
        Assert.InRange(reopened.GetStatistics().LogDiskBytes, liveBytes / 2, 2 * liveBytes);
        Assert.False(reopening.Has(FreedBelowBeginEvent), reopening.Text);
    }

    /// <summary>LogSpaceFreer's "Freed N bytes of log segment S below the log's begin address".</summary>
    private const int FreedBelowBeginEvent = 133;

    // Records of another database, so that what the compaction copied to the tail leaves memory before it is read.
    private static void WriteFiller(IStoreSession session, int count)
    {
        byte[] value = new byte[ValueBytes];
        for (int i = 0; i < count; i++)
        {
            session.Write(1, Key(i), RecordType.String, value, 0);
            session.CompleteCommand();
        }
    }

    /// <summary>Writes every key <paramref name="rounds"/> times, round r's values ending in the byte r.</summary>
    private static void WriteRounds(IStoreSession session, int rounds)
    {
        byte[] value = new byte[ValueBytes];
        for (int round = 1; round <= rounds; round++)
        {
            for (int i = 0; i < Keys; i++)
            {
                FillValue(value, i, round);
                session.Write(0, Key(i), RecordType.String, value, 0);
                session.CompleteCommand();
            }
        }
    }

    /// <summary>Every key holds its round-3 value (the last byte of a value is its round).</summary>
    private static void AssertLatestValues(IStoreSession session, string when)
    {
        ArrayBufferWriter<byte> read = new();
        byte[] expected = new byte[ValueBytes];
        for (int i = 0; i < Keys; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Key(i), read, out _), $"key {i} exists {when}");
            FillValue(expected, i, 3);
            Assert.True(read.WrittenSpan.SequenceEqual(expected), $"key {i} has its latest value {when} (round {read.WrittenSpan[^1]})");
        }
    }

    [Fact]
    public async Task Compact_DeletedExpiredAndOverwrittenKeys_NothingResurrectedAndCountsExact()
    {
        ManualClock clock = new();
        long expiresAtMs = clock.NowMs + 60_000;
        await using (FasterStore store = await OpenAsync(clock))
        {
            using IStoreSession session = store.OpenSession();
            byte[] value = new byte[ValueBytes];
            for (int i = 0; i < 2000; i++)
            {
                FillValue(value, i, 1);
                session.Write(0, Key(i), RecordType.String, value, i is >= 500 and < 1000 ? expiresAtMs : 0);
                session.CompleteCommand();
            }

            for (int i = 0; i < 500; i++)
            {
                Assert.True(session.Delete(0, Key(i)));
                session.CompleteCommand();
            }

            for (int round = 2; round <= 3; round++)
            {
                for (int i = 1000; i < 2000; i++)
                {
                    FillValue(value, i, round);
                    session.Write(0, Key(i), RecordType.String, value, 0);
                    session.CompleteCommand();
                }
            }

            Assert.Equal(1500, store.KeyCount(0));
            Assert.Equal(500, store.ExpiringKeyCount(0));
            clock.Advance(TimeSpan.FromMinutes(2));

            Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));

            Assert.Equal(1000, store.KeyCount(0));
            Assert.Equal(0, store.ExpiringKeyCount(0));
            AssertOnlyLatest(session);
        }

        await using FasterStore reopened = await OpenAsync(clock);
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(1000, reopened.KeyCount(0));
        Assert.Equal(0, reopened.ExpiringKeyCount(0));
        AssertOnlyLatest(again);
    }

    [Fact]
    public async Task Compact_DuringScan_EveryKeyStillReturned()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        byte[] value = new byte[ValueBytes];
        for (int round = 1; round <= 2; round++)
        {
            for (int i = 0; i < 3000; i++)
            {
                FillValue(value, i, round);
                session.Write(0, Key(i), RecordType.String, value, 0);
                session.CompleteCommand();
            }
        }

        KeyCollector seen = new();
        ulong cursor = session.Scan(0, 0, 500, seen, reclaimExpired: false);
        Assert.NotEqual(0UL, cursor);
        Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
        while (cursor != 0)
        {
            cursor = session.Scan(0, cursor, 500, seen, reclaimExpired: false);
        }

        for (int i = 0; i < 3000; i++)
        {
            Assert.Contains(Encoding.ASCII.GetString(Key(i)), seen.Keys);
        }
    }

    [Fact]
    public async Task Compact_LiveLogTheEstimateCallsDead_NotCompactedAgainUntilWritesAreLogged()
    {
        // At 5% (the crash tool's setting) the estimate's error alone, on a log where every record is live, calls for a compaction.
        RecordingLogger logger = new();
        await using FasterStore store = await OpenAsync(logger: logger, deadPercent: 5);
        using IStoreSession session = store.OpenSession();
        byte[] payload = new byte[2048];
        session.Write(0, Key(0), RecordType.String, payload, 0);
        session.CompleteCommand();
        for (uint part = 0; part < 3000; part++)
        {
            session.WritePart(7, part, payload);
            session.CompleteCommand();
        }

        // Every record is live: the first compaction copies what it compacts back to the tail and frees nothing.
        Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: false, TestContext.Current.CancellationToken));
        long compactions = store.GetStatistics().Compactions;
        for (int tick = 0; tick < 3; tick++)
        {
            Assert.False(await store.Compactor.CompactIfWorthwhileAsync(force: false, TestContext.Current.CancellationToken), $"tick {tick}: " + string.Join("; ", logger.Lines.Where(l => l.EventId == 110).Select(l => l.Message)));
        }

        Assert.Equal(compactions, store.GetStatistics().Compactions);

        // Writes logged since (overwritten parts): worth another try.
        for (uint part = 0; part < 1500; part++)
        {
            session.WritePart(7, part, payload);
            session.CompleteCommand();
        }

        Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: false, TestContext.Current.CancellationToken));
        for (uint part = 0; part < 3000; part++)
        {
            ArrayBufferWriter<byte> read = new();
            Assert.True(session.TryReadPart(7, part, read), $"part {part}");
        }
    }

    [Fact]
    public async Task Compact_RangeWithARecordFasterAbandoned_KeepsTheRecordsAfterIt()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        for (int i = 0; i < 3000; i++)
        {
            session.Write(0, Key(i), RecordType.String, Encoding.ASCII.GetBytes($"value {i}"), 0);
            session.CompleteCommand();
        }

        // Key 100 written again once on disk: its first record, in the middle of the log's first page, is dead.
        store.Kv.Log.FlushAndEvict(wait: true);
        session.Write(0, Key(100), RecordType.String, "value 100"u8, 0);
        session.CompleteCommand();
        store.Kv.Log.FlushAndEvict(wait: true);
        // That record made what FASTER 2.6.5 leaves of an allocation it abandoned: invalid, its size in the key's length.
        AbandonOnDisk(Key(100));

        Assert.True(await store.Compactor.CompactIfWorthwhileAsync(force: true, TestContext.Current.CancellationToken));
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < 3000; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Key(i), read, out _), $"key {i}");
            Assert.Equal($"value {i}", Encoding.ASCII.GetString(read.WrittenSpan));
        }
    }

    [Fact]
    public void RepairPage_InvalidRecordWithAKeyOfItsOwn_IsLeftAsItIs()
    {
        // An invalid record whose key (24 bytes) and value are its own (one a recovery undid), then a valid record.
        byte[] page = new byte[256];
        int first = WriteRecord(page, 0, valid: false, new byte[24], new byte[40]);
        int second = WriteRecord(page, first, valid: true, "\0crash:18:k343"u8.ToArray(), "value"u8.ToArray());
        Assert.Empty(AbandonedRecords.RepairPage(page, 0, first + second));

        // The same record abandoned: its size in the key's length. Repaired, and the walk goes on to the next record.
        BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(8), first);
        Assert.Equal([0], AbandonedRecords.RepairPage(page, 0, first + second));
        Assert.Empty(AbandonedRecords.RepairPage(page, 0, first + second));
    }

    // Writes a record as FASTER lays it out (header, key length and bytes padded to 8, value length and bytes padded to 8); returns its size.
    private static int WriteRecord(byte[] page, int at, bool valid, byte[] key, byte[] value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(page.AsSpan(at), (valid ? 1L << 56 : 0) | 0x1234);
        BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(at + 8), key.Length);
        key.CopyTo(page.AsSpan(at + 12));
        int valueAt = at + 8 + ((4 + key.Length + 7) & ~7);
        BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(valueAt), value.Length);
        value.CopyTo(page.AsSpan(valueAt + 4));
        return (valueAt - at + 4 + value.Length + 7) & ~7;
    }

    // Turns the first record of key (database 0) in the first segment file into an abandoned allocation.
    private void AbandonOnDisk(byte[] key)
    {
        string path = Path.Combine(_directory, "log", "hlog.0");
        byte[] data = File.ReadAllBytes(path);
        byte[] stored = [0, .. key];
        int keyAt = data.AsSpan().IndexOf(stored);
        Assert.True(keyAt > 12 && BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(keyAt - 4)) == stored.Length, "the record is found");
        int record = keyAt - 12;
        int valueAt = record + 8 + ((4 + stored.Length + 7) & ~7);
        int size = (valueAt - record + 4 + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(valueAt)) + 7) & ~7;
        long info = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(record)) & ~(1L << 56);
        using FileStream file = new(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        file.Position = record;
        byte[] patch = new byte[12];
        BinaryPrimitives.WriteInt64LittleEndian(patch, info);
        BinaryPrimitives.WriteInt32LittleEndian(patch.AsSpan(8), size);
        file.Write(patch);
    }

    private static void AssertOnlyLatest(IStoreSession session)
    {
        ArrayBufferWriter<byte> read = new();
        byte[] expected = new byte[ValueBytes];
        for (int i = 0; i < 2000; i++)
        {
            read.ResetWrittenCount();
            bool found = session.TryRead(0, Key(i), read, out _);
            Assert.True(found == i >= 1000, $"key {i}: found {found}");
            if (found)
            {
                FillValue(expected, i, 3);
                Assert.True(read.WrittenSpan.SequenceEqual(expected), $"key {i} has its latest value");
            }
        }
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i}");

    private static void FillValue(byte[] value, int key, int round)
    {
        value.AsSpan().Fill((byte)round);
        BitConverter.TryWriteBytes(value, key);
    }

    private long SegmentFileBytes() => new DirectoryInfo(Path.Combine(_directory, "log")).EnumerateFiles().Sum(f => f.Length);

    /// <summary>The disk blocks the log's segment files take (du), which a freed range no longer counts in.</summary>
    private long AllocatedLogBytes()
    {
        using System.Diagnostics.Process du = System.Diagnostics.Process.Start(
            new System.Diagnostics.ProcessStartInfo("du", ["-s", "-B1", Path.Combine(_directory, "log")]) { RedirectStandardOutput = true })!;
        string output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
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

    private sealed class KeyCollector : IKeyVisitor
    {
        public HashSet<string> Keys { get; } = [];

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record) => Keys.Add(Encoding.ASCII.GetString(key));
    }
}
