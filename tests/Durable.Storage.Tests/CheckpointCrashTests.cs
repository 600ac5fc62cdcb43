using System.Buffers.Binary;
using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using FASTER.core;
using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

/// <summary>
/// A crash in the middle of a checkpoint leaves a partial checkpoint folder. Recovery must use the previous complete
/// checkpoint plus the WAL, or refuse with a clear message: never start empty or without acknowledged writes.
/// </summary>
public sealed class CheckpointCrashTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly RecordingLogger _logger = new();

    private string CprDirectory => Path.Combine(_directory, "checkpoints", "cpr-checkpoints");

    /// <summary>Where a test keeps the WAL as it was at some moment, to put it back as a crash would have left it.</summary>
    private string SavedWalDirectory => _directory + "-wal";

    /// <summary>Where a test keeps a copy of the whole data directory taken at some moment (a crash image).</summary>
    private string ImageDirectory => _directory + "-image";

    private string IndexDirectory => Path.Combine(_directory, "checkpoints", "index-checkpoints");

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 },
        _logger);

    private static async Task WriteAsync(IStoreSession session, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            session.Write(0, Encoding.ASCII.GetBytes($"key-{i:D5}"), RecordType.String, Encoding.ASCII.GetBytes($"value-{i:D4}"), 0);
            session.CompleteCommand();
            await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        }
    }

    private async Task AssertAllThereAsync(int count)
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < count; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Encoding.ASCII.GetBytes($"key-{i:D5}"), read, out _), $"key-{i:D5} was acknowledged\n{_logger.Text}");
            Assert.Equal($"value-{i:D4}", Encoding.ASCII.GetString(read.WrittenSpan));
        }

        Assert.Equal(count, store.KeyCount(0));
    }

    /// <summary>Writes 0..100, checkpoints, writes 100..200 and crashes (no checkpoint at dispose).</summary>
    private async Task CheckpointThenCrashAsync()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        await WriteAsync(session, 0, 100);
        await store.CheckpointAsync(TestContext.Current.CancellationToken);
        await WriteAsync(session, 100, 200);
    }

    private static string Newest(string directory) =>
        Directory.GetDirectories(directory).OrderBy(Directory.GetLastWriteTimeUtc).Last();

    /// <summary>Copies a directory with its subdirectories (the WAL's files and its commit files).</summary>
    private static void CopyTree(string from, string to)
    {
        CopyDirectory(from, to);
        foreach (string directory in Directory.GetDirectories(from))
        {
            CopyTree(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    /// <summary>
    /// Copies a directory's files. Of a live store, a file listed can be gone before its copy (the WAL removes its older
    /// commit files as it writes newer ones; seen once): the copy then starts over from a new listing.
    /// </summary>
    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                foreach (string file in Directory.GetFiles(from))
                {
                    File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
                }

                return;
            }
            catch (FileNotFoundException) when (attempt < 10)
            {
                foreach (string copied in Directory.GetFiles(to))
                {
                    File.Delete(copied);
                }
            }
        }
    }

    [Fact]
    public async Task Reopen_EmptyNewerCheckpointFolders_UsesCompleteCheckpointPlusWal()
    {
        await CheckpointThenCrashAsync();
        // A checkpoint that crashed as soon as it started: its folders exist, nothing is in them.
        string token = Guid.NewGuid().ToString();
        Directory.CreateDirectory(Path.Combine(IndexDirectory, token));
        Directory.CreateDirectory(Path.Combine(CprDirectory, token));

        await AssertAllThereAsync(200);
    }

    [Fact]
    public async Task Reopen_NewerCheckpointWithoutMetadata_UsesCompleteCheckpointPlusWal()
    {
        await CheckpointThenCrashAsync();
        // A checkpoint that crashed after writing its data but before its metadata (info.dat).
        string token = Guid.NewGuid().ToString();
        CopyDirectory(Newest(IndexDirectory), Path.Combine(IndexDirectory, token));
        CopyDirectory(Newest(CprDirectory), Path.Combine(CprDirectory, token));
        File.Delete(Path.Combine(CprDirectory, token, "info.dat.0"));

        await AssertAllThereAsync(200);
    }

    [Fact]
    public async Task Reopen_FirstCheckpointCrashedAtStart_ReplaysWholeWal()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, 200);
        }

        string token = Guid.NewGuid().ToString();
        Directory.CreateDirectory(Path.Combine(IndexDirectory, token));
        Directory.CreateDirectory(Path.Combine(CprDirectory, token));

        await AssertAllThereAsync(200);
        Assert.True(_logger.Has(109), "the store says it found no complete checkpoint\n" + _logger.Text);
    }

    [Fact]
    public async Task Reopen_OnlyCheckpointLostItsMetadataWalTruncated_RefusesWithClearMessage()
    {
        await CheckpointThenCrashAsync();
        File.Delete(Path.Combine(Newest(CprDirectory), "info.dat.0"));

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => OpenAsync());
        Assert.Contains("no checkpoint in", error.Message, StringComparison.Ordinal);
        Assert.Contains("refusing to start", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Reopen_OnlyCheckpointLostItsSnapshot_RefusesWithClearMessage()
    {
        await CheckpointThenCrashAsync();
        File.Delete(Path.Combine(Newest(CprDirectory), "snapshot.dat.0"));

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => OpenAsync());
        Assert.Contains("snapshot holds 0 of", error.Message, StringComparison.Ordinal);
        Assert.Contains("checkpoint", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("refusing to start", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("snapshot.dat.0")]
    [InlineData("durable-key-counts.dat")]
    public async Task Reopen_CrashWhileTheOlderCheckpointWasBeingDeleted_LoadsTheNewest(string deletedFirst)
    {
        string saved = Path.Combine(_directory, "saved");
        string older;
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, 100);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            older = Path.GetFileName(Newest(CprDirectory));
            CopyDirectory(Path.Combine(IndexDirectory, older), Path.Combine(saved, "index"));
            CopyDirectory(Path.Combine(CprDirectory, older), Path.Combine(saved, "cpr"));
            await WriteAsync(session, 100, 200);
            // The second checkpoint deletes the first one's folders and truncates the WAL below its replay position.
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            await WriteAsync(session, 200, 300);
        }

        // A SIGKILL while FASTER deleted the older checkpoint's folder, file by file: what is left of it is now the most
        // recently written checkpoint folder, which FASTER lists first.
        CopyDirectory(Path.Combine(saved, "index"), Path.Combine(IndexDirectory, older));
        CopyDirectory(Path.Combine(saved, "cpr"), Path.Combine(CprDirectory, older));
        File.Delete(Path.Combine(CprDirectory, older, deletedFirst));
        Assert.Equal(older, Path.GetFileName(Newest(CprDirectory)));

        await AssertAllThereAsync(300);
    }

    [Fact]
    public async Task Checkpoint_RemovesEveryOtherCheckpoint_ANewerIndexWithoutLogCannotTakeTheNewestOnesIndex()
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, 100);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            // An index part whose checkpoint never wrote its log part (it failed, or the process died between the two):
            // FASTER's own removal counted it among the two index parts it keeps.
            CopyDirectory(Newest(IndexDirectory), Path.Combine(IndexDirectory, Guid.NewGuid().ToString()));
            await WriteAsync(session, 100, 200);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            string newest = Path.GetFileName(Newest(CprDirectory));
            Assert.Equal([newest], Directory.GetDirectories(CprDirectory).Select(Path.GetFileName));
            Assert.Equal([newest], Directory.GetDirectories(IndexDirectory).Select(Path.GetFileName));
            await WriteAsync(session, 200, 300);
        }

        await AssertAllThereAsync(300);
    }

    [Fact]
    public async Task Reopen_NewestCheckpointDamagedOlderOneKept_WalAlreadyTruncated_RefusesWithClearMessage()
    {
        string saved = Path.Combine(_directory, "saved");
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, 100);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            CopyDirectory(Newest(IndexDirectory), Path.Combine(saved, "index"));
            CopyDirectory(Newest(CprDirectory), Path.Combine(saved, "cpr"));
            string older = Path.GetFileName(Newest(CprDirectory));
            await WriteAsync(session, 100, 200);
            // The second checkpoint truncates the WAL below its replay position: records 100..200 live only in it.
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            await WriteAsync(session, 200, 300);
            File.WriteAllText(Path.Combine(saved, "token"), older);
        }

        string token = File.ReadAllText(Path.Combine(saved, "token"));
        string newest = Newest(CprDirectory);
        CopyDirectory(Path.Combine(saved, "index"), Path.Combine(IndexDirectory, token));
        CopyDirectory(Path.Combine(saved, "cpr"), Path.Combine(CprDirectory, token));
        Directory.SetLastWriteTimeUtc(Path.Combine(CprDirectory, token), DateTime.UtcNow.AddHours(-1));
        Directory.SetLastWriteTimeUtc(Path.Combine(IndexDirectory, token), DateTime.UtcNow.AddHours(-1));
        File.Delete(Path.Combine(newest, "snapshot.dat.0"));
        File.Delete(Path.Combine(newest, "info.dat.0"));

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => OpenAsync());
        Assert.Contains("but the log begins at", error.Message, StringComparison.Ordinal);
        Assert.Contains("refusing to start", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Reopen_CrashAfterCheckpointWithItsRecordsChangedInPlaceAndFlushed_ReadsAndScansTheCheckpointsState()
    {
        // A checkpoint, then (never committed to the WAL, as under everysec) deletes and same-size updates of the keys it
        // holds in the log's mutable region, pushed to the log's files by filler; then a crash. Recovery must give back
        // the checkpoint's state, in memory and once evicted to disk again, to reads and to SCAN alike.
        const int Keys = 3000;
        string savedWal = SavedWalDirectory;
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteValuesAsync(session, "key", 0, Keys, "v");
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            CopyTree(Path.Combine(_directory, "wal"), savedWal);
            for (int i = 0; i < Keys; i++)
            {
                byte[] key = Encoding.ASCII.GetBytes($"key-{i:D5}");
                if (i % 2 == 0)
                {
                    session.Delete(0, key);
                }
                else
                {
                    session.Write(0, key, RecordType.String, Encoding.ASCII.GetBytes($"w-{i:D5}-{new string('x', 60)}"), 0);
                }

                session.CompleteCommand();
            }

            await WriteValuesAsync(session, "filler", 0, 8 * Keys, "f");
        }

        Directory.Delete(Path.Combine(_directory, "wal"), recursive: true);
        CopyTree(savedWal, Path.Combine(_directory, "wal"));
        Directory.Delete(savedWal, recursive: true);

        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        AssertValues(again, Keys, "just recovered");
        await WriteValuesAsync(again, "filler", 0, 8 * Keys, "g");
        AssertValues(again, Keys, "evicted to disk again");
        KeyNames scanned = new();
        ulong cursor = 0;
        do
        {
            cursor = again.Scan(0, cursor, 1000, scanned, reclaimExpired: false);
        }
        while (cursor != 0);

        Assert.Equal(Keys, scanned.Names.Count(n => n.StartsWith("key-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Reopen_CrashRightAfterACheckpointTakenUnderRewrites_EveryKeyReadIsScanned()
    {
        // Keys rewritten all along (as INCR rewrites a counter, the value growing and shrinking), before, during and after
        // a checkpoint, with filler that pushes log pages to disk, and the WAL committed once a second (everysec). The
        // crash leaves the files as they were the moment the checkpoint became loadable. A record the checkpoint holds
        // that an operation of the next version copied from is sealed; unless that operation's WAL record is committed
        // by then (and replayed, which writes the key anew), the sealed record is its key's live one: a read from disk
        // finds it, SCAN skips it.
        const int Counters = 64;
        string image = ImageDirectory;
        int copies = 0;
        FasterStore? opened = null;
        long committedAtMetadata = -1;
        StoreOptions options = new()
        {
            DataDirectory = _directory,
            MemoryBytes = 1L << 20,
            IndexBytes = 1L << 16,
            SegmentBytes = 1L << 22,
            FsyncPolicy = FsyncPolicy.EverySecond,
            CheckpointMetadataWritten = () =>
            {
                if (Interlocked.Increment(ref copies) == 1)
                {
                    committedAtMetadata = opened!.WalDurableAddress;
                    CopyTree(_directory, image);
                }
            },
        };
        await using (FasterStore store = await FasterStore.OpenAsync(options, _logger))
        {
            opened = store;
            using CancellationTokenSource stop = new();
            Task rewriting = Task.Run(() => Rewrite(store, Counters, stop.Token), TestContext.Current.CancellationToken);
            await Task.Delay(300, TestContext.Current.CancellationToken);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            await stop.CancelAsync();
            await rewriting;
            // Loadable only once the WAL is committed past where its replay starts (and past every operation before it).
            long replayFrom = CheckpointCookie.Decode(store.Kv.CommitCookie);
            Assert.True(committedAtMetadata >= replayFrom, $"WAL committed to {committedAtMetadata} when the checkpoint (replay from {replayFrom}) became loadable");
        }

        Directory.Delete(_directory, recursive: true);
        CopyTree(image, _directory);
        Directory.Delete(image, recursive: true);
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        KeyNames scanned = new();
        ulong cursor = 0;
        do
        {
            cursor = again.Scan(0, cursor, 1000, scanned, reclaimExpired: false);
        }
        while (cursor != 0);

        ArrayBufferWriter<byte> read = new();
        List<string> notScanned = [];
        for (int i = 0; i < Counters; i++)
        {
            string key = $"counter-{i:D2}";
            if (again.TryRead(0, Encoding.ASCII.GetBytes(key), read, out _) && !scanned.Names.Contains(key))
            {
                notScanned.Add(key);
            }
        }

        Assert.True(notScanned.Count == 0, $"read but not scanned: {string.Join(' ', notScanned)}\n{_logger.Text}");
        Assert.Equal(reopened.KeyCount(0), scanned.Names.Count);
    }

    [Fact]
    public async Task Reopen_CheckpointWhoseMetadataSaysFlushedPastItsEnd_Loads()
    {
        // FASTER 2.6.5 records the log's flushed address at the end of a snapshot checkpoint; under a small budget the log
        // can be flushed past the checkpoint's final address by then, and FASTER's recovery of such a checkpoint fails
        // ("initialCount ('-20') must be a non-negative value"). Made here by flushing everything before the checkpoint
        // and moving the recorded flushed address three pages on, with its checksum.
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, 200);
            store.Kv.Log.FlushAndEvict(wait: true);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        string folder = Newest(CprDirectory);
        HybridLogRecoveryInfo written = ReadLogMetadata(folder);
        WriteLogMetadataLine(folder, 6, written.flushedLogicalAddress, written.finalLogicalAddress + (3L << 16));

        await AssertAllThereAsync(200);
        Assert.True(_logger.Has(136), "the adjustment is reported\n" + _logger.Text);
    }

    /// <summary>
    /// A record on disk can also carry a checkpoint's seal (its page flushed and evicted between the start of the
    /// checkpoint's next version and of its snapshot). The operation that sealed it is in the WAL and its replay writes the
    /// key anew, but a count of the whole log (the checkpoint's saved counts missing) skips a sealed record: run before the
    /// replay, it missed the key, and the replay, finding the key, did not count it either. The count runs after the
    /// replay. Made by hand: the seal set on a key's record in the log's file, below the head, the key rewritten since.
    /// </summary>
    /// <summary>
    /// A record FASTER 2.6.5 abandoned (invalid, its allocation's size in the key's length) in the part of the log a
    /// recovery walks to rebuild the index, here the snapshot: repaired in the file before FASTER reads it, so that its
    /// walk does not skip the rest of the page. Made by hand on a real checkpoint's first snapshot record.
    /// </summary>
    [Fact]
    public async Task Reopen_SnapshotHoldingARecordFasterAbandoned_RepairsItBeforeFasterReadsIt()
    {
        const int Keys = 3000;
        string folder;
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, Keys);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            folder = Newest(CprDirectory);
        }

        string snapshot = Path.Combine(folder, "snapshot.dat.0");
        byte[] data = File.ReadAllBytes(snapshot);
        int record = data.AsSpan().IndexOf("\0key-"u8) - 12;
        Assert.True(record >= 0 && BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(record + 8)) == 10, "a record in the snapshot");
        string abandoned = Encoding.ASCII.GetString(data, record + 13, 9);
        int valueAt = record + 8 + 16;
        int size = (8 + 16 + 4 + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(valueAt)) + 7) & ~7;
        using (FileStream file = new(snapshot, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            byte[] patch = new byte[12];
            BinaryPrimitives.WriteInt64LittleEndian(patch, BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(record)) & ~(1L << 56));
            BinaryPrimitives.WriteInt32LittleEndian(patch.AsSpan(8), size);
            file.Position = record;
            file.Write(patch);
        }

        await using (FasterStore reopened = await OpenAsync())
        {
            Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(File.ReadAllBytes(snapshot).AsSpan(record + 8)));
            using IStoreSession session = reopened.OpenSession();
            ArrayBufferWriter<byte> read = new();
            for (int i = 0; i < Keys; i++)
            {
                string key = $"key-{i:D5}";
                if (key == abandoned)
                {
                    // Its only record is the one made abandoned by hand.
                    continue;
                }

                read.ResetWrittenCount();
                Assert.True(session.TryRead(0, Encoding.ASCII.GetBytes(key), read, out _), key);
                Assert.Equal($"value-{i:D4}", Encoding.ASCII.GetString(read.WrittenSpan));
            }
        }
    }

    [Fact]
    public async Task Reopen_RecordSealedOnDiskAndRewrittenByTheReplay_IsCountedOnce()
    {
        const int Keys = 30000;
        string sealedKey;
        long address;
        long segmentBytes;
        string folder;
        await using (FasterStore store = await OpenAsync())
        {
            segmentBytes = store.SegmentBytes;
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, Keys);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            folder = Newest(CprDirectory);
            using (IFasterScanIterator<SpanByte, SpanByte> records = store.Kv.Log.Scan(store.Kv.Log.BeginAddress, store.Kv.Log.TailAddress))
            {
                Assert.True(records.GetNext(out _));
                address = records.CurrentAddress;
                sealedKey = Encoding.ASCII.GetString(records.GetKey().AsReadOnlySpan()[1..]);
            }

            Assert.True(address < store.Kv.Log.HeadAddress, $"{sealedKey} at {address} is on disk (head {store.Kv.Log.HeadAddress})");
            // Rewritten after the checkpoint: in the WAL only (the store is dropped without a checkpoint, as by a crash).
            session.Write(0, Encoding.ASCII.GetBytes(sealedKey), RecordType.String, Encoding.ASCII.GetBytes("rewritten"), 0);
            session.CompleteCommand();
            await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        }

        Seal(Path.Combine(_directory, "log", $"hlog.{address / segmentBytes}"), address % segmentBytes);
        File.Delete(Path.Combine(folder, KeyCountsFile.FileName));
        await AssertReadScannedAndCountedAsync(sealedKey, "rewritten", Keys);
    }

    /// <summary>
    /// The crash tool's recovery that never finished (seed 1807): a checkpoint whose metadata recorded the log flushed past
    /// its final address, a record of the snapshot's last page sealed. Reading the log's files up to the final address
    /// and the snapshot from there (session 19's adjustment) left the record sealed in memory, and the WAL's replay retried
    /// on it for ever; recovery reads the whole snapshot instead (LogCheckpointMetadata.ReadWholeSnapshot). Made by hand on
    /// a real checkpoint: the log flushed, the seal set in the snapshot's and the log's file, the flushed address moved past
    /// the end, the counts removed.
    /// </summary>
    [Fact]
    public async Task Reopen_FlushedPastTheEndAndARecordOfTheLastPageSealed_IsReadScannedAndCounted()
    {
        const int Keys = 2500;
        string sealedKey;
        long address;
        long segmentBytes;
        int pageBits;
        string folder;
        await using (FasterStore store = await OpenAsync())
        {
            pageBits = store.Budget.PageBits;
            using IStoreSession session = store.OpenSession();
            await WriteAsync(session, 0, Keys);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
            folder = Newest(CprDirectory);
            HybridLogRecoveryInfo info = ReadLogMetadata(folder);
            long lastPage = info.finalLogicalAddress >> pageBits << pageBits;
            Assert.True(lastPage > info.snapshotStartFlushedLogicalAddress, "the snapshot has pages before its last");
            using IFasterScanIterator<SpanByte, SpanByte> records = store.Kv.Log.Scan(lastPage, info.finalLogicalAddress);
            Assert.True(records.GetNext(out _), "the snapshot's last page holds a record");
            address = records.CurrentAddress;
            sealedKey = Encoding.ASCII.GetString(records.GetKey().AsReadOnlySpan()[1..]);
            // The log flushed past the checkpoint's end, as the metadata will say.
            segmentBytes = store.SegmentBytes;
            store.Kv.Log.Flush(wait: true);
        }

        HybridLogRecoveryInfo written = ReadLogMetadata(folder);
        Seal(Path.Combine(folder, "snapshot.dat.0"), address - (written.snapshotStartFlushedLogicalAddress >> pageBits << pageBits));
        Seal(Path.Combine(_directory, "log", $"hlog.{address / segmentBytes}"), address % segmentBytes);
        WriteLogMetadataLine(folder, 6, written.flushedLogicalAddress, written.finalLogicalAddress + (3L << pageBits));
        File.Delete(Path.Combine(folder, KeyCountsFile.FileName));
        await AssertReadScannedAndCountedAsync(sealedKey, "value-" + sealedKey[^4..], Keys);
    }

    /// <summary>A checkpoint folder's log metadata (info.dat.0: its length, then FASTER's text), parsed and checked by FASTER.</summary>
    private static HybridLogRecoveryInfo ReadLogMetadata(string folder)
    {
        HybridLogRecoveryInfo info = default;
        using StreamReader reader = new(new MemoryStream(LogMetadataText(folder)));
        info.Initialize(reader);
        return info;
    }

    private static byte[] LogMetadataText(string folder)
    {
        byte[] file = File.ReadAllBytes(Path.Combine(folder, "info.dat.0"));
        return file[4..(4 + BitConverter.ToInt32(file))];
    }

    /// <summary>Rewrites line <paramref name="line"/> of a checkpoint's log metadata (6: its flushed address) from <paramref name="old"/> to <paramref name="value"/>, the checksum adjusted.</summary>
    private static void WriteLogMetadataLine(string folder, int line, long old, long value)
    {
        string[] lines = Encoding.UTF8.GetString(LogMetadataText(folder)).Split('\n');
        Assert.Equal(old, long.Parse(lines[line], System.Globalization.CultureInfo.InvariantCulture));
        lines[line] = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        lines[1] = (long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) ^ old ^ value).ToString(System.Globalization.CultureInfo.InvariantCulture);
        byte[] text = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        using FileStream file = new(Path.Combine(folder, "info.dat.0"), FileMode.Open, FileAccess.Write);
        file.Write(BitConverter.GetBytes(text.Length));
        file.Write(text);
    }

    /// <summary>Sets FASTER 2.6.5's sealed bit in the header of the record at <paramref name="offset"/> of a log or snapshot file: a valid record, not sealed yet.</summary>
    private static void Seal(string path, long offset)
    {
        const long ValidBit = 1L << 56;
        const long SealedBit = 1L << 57;
        using FileStream file = new(path, FileMode.Open, FileAccess.ReadWrite);
        byte[] header = new byte[8];
        file.Position = offset;
        file.ReadExactly(header);
        long info = BitConverter.ToInt64(header);
        Assert.True((info & (ValidBit | SealedBit)) == ValidBit, $"a valid record, not sealed: {info:x}");
        file.Position = offset;
        file.Write(BitConverter.GetBytes(info | SealedBit));
    }

    /// <summary>
    /// Reopens the store (its checkpoint's saved key counts removed, so the whole log is counted): every key counted,
    /// <paramref name="key"/> scanned and read back as <paramref name="value"/>. A read that never returns (an operation on
    /// a record sealed in memory retries for ever) fails after 30 s and leaves the store undisposed, since disposing
    /// would wait for its thread.
    /// </summary>
    private async Task AssertReadScannedAndCountedAsync(string key, string value, int keys)
    {
        FasterStore reopened = await OpenAsync();
        Assert.True(_logger.Has(115), "the keys were counted over the whole log");
        Assert.Equal(keys, reopened.KeyCount(0));
        using IStoreSession session = reopened.OpenSession();
        KeyNames scanned = new();
        ulong cursor = 0;
        do
        {
            cursor = session.Scan(0, cursor, 1000, scanned, reclaimExpired: false);
        }
        while (cursor != 0);

        Assert.Contains(key, scanned.Names);
        ArrayBufferWriter<byte> read = new();
        Task<bool> reading = Task.Run(() => session.TryRead(0, Encoding.ASCII.GetBytes(key), read, out _), TestContext.Current.CancellationToken);
        Assert.True(await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)) == reading, $"the read of {key} did not return in 30 s");
        Assert.True(await reading, key);
        Assert.Equal(value, Encoding.ASCII.GetString(read.WrittenSpan));
        await reopened.DisposeAsync();
    }

    [Fact]
    public async Task Reopen_FasterFailsWithAnotherException_RefusesWithClearMessage()
    {
        // FASTER 2.6.5 does not only fail with FasterException or IOException (it threw an ArgumentOutOfRangeException on a
        // checkpoint it could not follow); whatever it throws, the operator gets the same clear refusal.
        await using (FasterStore store = await OpenAsync())
        {
            // Three times the memory budget, and the log flushed while its last pages stay in memory: the snapshot starts
            // at the flushed address, and recovery reads the pages between the log's head and it from the log's files.
            using IStoreSession session = store.OpenSession();
            await WriteValuesAsync(session, "big", 0, 3000, new string('b', 1000));
            store.Kv.Log.ShiftReadOnlyAddress(store.Kv.Log.TailAddress, wait: true);
            await store.CheckpointAsync(TestContext.Current.CancellationToken);
        }

        StoreOptions options = new() { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 };
        InvalidDataException refused = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await using FasterStore store = await FasterStore.OpenAsync(options, _logger, wrapWalDevice: null, wrapLogDevice: inner => new ReadsRefusedDevice(inner));
        });
        Assert.Contains("can be loaded (the disk refused the read)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Restore the data directory from a backup", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>A log device whose reads throw something other than an I/O error.</summary>
    private sealed class ReadsRefusedDevice(IDevice inner) : ForwardingDevice(inner)
    {
        public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
            throw new InvalidOperationException("the disk refused the read");

        public override void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
            throw new InvalidOperationException("the disk refused the read");
    }

    /// <summary>Rewrites <paramref name="counters"/> keys with values of 8 and 200 bytes in turn, round after round, with filler between rounds, until stopped.</summary>
    private static void Rewrite(FasterStore store, int counters, CancellationToken stop)
    {
        using IStoreSession session = store.OpenSession();
        for (long round = 0; !stop.IsCancellationRequested; round++)
        {
            for (int i = 0; i < counters; i++)
            {
                byte[] key = Encoding.ASCII.GetBytes($"counter-{i:D2}");
                store.Locks.EnterExclusive(KeyLocks.StripeOf(key));
                try
                {
                    // Growing values are copied to a new record; shrinking ones are written in place.
                    session.Write(0, key, RecordType.String, new byte[round % 2 == 0 ? 8 : 200], 0);
                    session.CompleteCommand();
                }
                finally
                {
                    store.Locks.ExitExclusive(KeyLocks.StripeOf(key));
                }
            }

            byte[] filler = Encoding.ASCII.GetBytes($"filler-{round % 20000:D5}");
            store.Locks.EnterExclusive(KeyLocks.StripeOf(filler));
            try
            {
                session.Write(0, filler, RecordType.String, new byte[200], 0);
                session.CompleteCommand();
            }
            finally
            {
                store.Locks.ExitExclusive(KeyLocks.StripeOf(filler));
            }
        }
    }

    private static async Task WriteValuesAsync(IStoreSession session, string prefix, int from, int to, string tag)
    {
        for (int i = from; i < to; i++)
        {
            session.Write(0, Encoding.ASCII.GetBytes($"{prefix}-{i:D5}"), RecordType.String, Encoding.ASCII.GetBytes($"{tag}-{i:D5}-{new string('x', 60)}"), 0);
            session.CompleteCommand();
        }

        await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
    }

    private void AssertValues(IStoreSession session, int keys, string when)
    {
        ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < keys; i++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Encoding.ASCII.GetBytes($"key-{i:D5}"), read, out _), $"key-{i:D5} is in the checkpoint ({when})\n{_logger.Text}");
            Assert.Equal($"v-{i:D5}-{new string('x', 60)}", Encoding.ASCII.GetString(read.WrittenSpan));
        }
    }

    /// <summary>The distinct key names a SCAN visits.</summary>
    private sealed class KeyNames : IKeyVisitor
    {
        public HashSet<string> Names { get; } = [];

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record) => Names.Add(Encoding.ASCII.GetString(key));
    }

    public void Dispose()
    {
        foreach (string directory in new[] { _directory, SavedWalDirectory, ImageDirectory }.Where(Directory.Exists))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Leftover temp files are harmless.
            }
        }
    }
}
