using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

/// <summary>
/// A crash (or power loss) leaves the WAL's last segment cut off, or its last bytes zeroed, in the middle of a record:
/// the store must start, keep everything up to the last intact record, say that it cut a torn tail, and go on
/// working (new writes survive the next crash, and the cut does not come back as damage in the middle of the log).
/// </summary>
public sealed class WalTornTailTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly RecordingLogger _logger = new();

    private Task<FasterStore> OpenAsync(FsyncPolicy policy = FsyncPolicy.Always) => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22, FsyncPolicy = policy },
        _logger);

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key-{i:D4}");

    private static string Value(int i) => $"value-{i:D4}";

    private async Task WriteRecordsAsync(int count)
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        for (int i = 0; i < count; i++)
        {
            session.Write(0, Key(i), RecordType.String, Encoding.ASCII.GetBytes(Value(i)), 0);
            session.CompleteCommand();
            await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>WAL pages of the 1 MiB budget: a 32nd of it.</summary>
    private const int WalPageBytes = 1 << 15;

    private string LastSegment() => Directory.GetFiles(Path.Combine(_directory, "wal"), "wal.log.*")
        .OrderBy(f => long.Parse(Path.GetExtension(f).AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)).Last();

    /// <summary>
    /// Cuts the last WAL segment three bytes into record <paramref name="torn"/>'s value, or zeroes it from there on; with
    /// <paramref name="atEntryStart"/>, from the start of the FasterLog entry that holds the record instead. Returns where.
    /// </summary>
    private long TearAt(int torn, bool zero, bool garbage = false, bool atEntryStart = false)
    {
        string segment = LastSegment();
        byte[] content = File.ReadAllBytes(segment);
        int value = content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Value(torn)));
        Assert.True(value > 0, "the record is in the last WAL segment");
        long tear = atEntryStart ? EntryStart(content, value) : value + 3;
        using FileStream file = new(segment, FileMode.Open, FileAccess.Write);
        if (zero || garbage)
        {
            file.Position = tear;
            byte[] bytes = new byte[file.Length - tear];
            if (garbage)
            {
                new Random(42).NextBytes(bytes);
            }

            file.Write(bytes);
        }
        else
        {
            file.SetLength(tear);
        }

        return tear;
    }

    /// <summary>
    /// Where the FasterLog entry that holds <paramref name="inside"/> begins: walks the entries from the log's first address
    /// (a 4-byte length, negative for commit records, then the body padded to 4 bytes; zeros end a page).
    /// </summary>
    private static int EntryStart(byte[] segment, int inside)
    {
        int position = (int)FasterWriteAheadLog.FreshBeginAddress;
        while (true)
        {
            int length = BitConverter.ToInt32(segment, position);
            int next = length == 0 ? (position / WalPageBytes + 1) * WalPageBytes : position + 4 + ((Math.Abs(length) + 3) & ~3);
            if (length > 0 && next > inside)
            {
                return position;
            }

            position = next;
        }
    }

    /// <summary>Writes 64 random bytes into the last WAL segment at <paramref name="position"/>.</summary>
    private void WriteGarbageAt(long position)
    {
        using FileStream file = new(LastSegment(), FileMode.Open, FileAccess.Write);
        file.Position = position;
        byte[] garbage = new byte[64];
        new Random(7).NextBytes(garbage);
        file.Write(garbage);
    }

    /// <param name="records">Records written, each committed (acknowledged) on its own.</param>
    /// <param name="torn">The record torn. FasterLog writes a commit file only every 1000 commits: a tear after the
    /// last one is cut before FasterLog recovers (event 207); a tear before it lies inside what the commit file calls
    /// committed, and replay must tell it from damage in the middle (event 108).</param>
    /// <param name="zero">Zero the bytes instead of cutting the file.</param>
    /// <param name="reported">The log line that reports the cut.</param>
    [Theory]
    [InlineData(200, 199, false, 207)]
    [InlineData(200, 199, true, 207)]
    [InlineData(1100, 500, false, 108)]
    [InlineData(1100, 500, true, 108)]
    public async Task Reopen_TornLastSegment_RecoversEverythingBeforeAndGoesOn(int records, int torn, bool zero, int reported)
    {
        await WriteRecordsAsync(records);
        TearAt(torn, zero);
        await AssertRecoveredAndGoesOnAsync(torn, reported);
    }

    /// <summary>
    /// A tear with many WAL pages of committed log after it (3,000 records, torn at 500: about 200 KB, six 32 KiB pages):
    /// FasterLog's scan stops at the first page of zeros (or past the file's end); the files show nothing but zeros up to
    /// the committed end, so the tail is cut. Also from the very start of an entry, where the scan sees no damaged record
    /// at all, only an entry length of zero (with two records torn before the commit file at the 1000th commit, less
    /// than a page follows, and the scan ends without an error).
    /// </summary>
    [Theory]
    [InlineData(3000, 500, false, false)]
    [InlineData(3000, 500, true, false)]
    [InlineData(3000, 500, true, true)]
    [InlineData(3000, 500, false, true)]
    [InlineData(1100, 998, true, true)]
    public async Task Reopen_TornTailManyPagesLong_CutsIt(int records, int torn, bool zero, bool atEntryStart)
    {
        await WriteRecordsAsync(records);
        TearAt(torn, zero, atEntryStart: atEntryStart);
        await AssertRecoveredAndGoesOnAsync(torn, 108);
    }

    /// <summary>
    /// Zeros after a torn record, then bytes that are neither zeros nor records (a page written in part): in the same page
    /// (which FasterLog's scan skips after a zero length) or pages later (where it stops at the first page of zeros).
    /// Nothing says what was lost, so startup stops.
    /// </summary>
    [Theory]
    [InlineData(300)]
    [InlineData(100_000)]
    public async Task Reopen_ZerosThenGarbage_RefusesWithClearMessage(int garbageAfter)
    {
        await WriteRecordsAsync(3000);
        WriteGarbageAt(TearAt(500, zero: true) + garbageAfter);
        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(() => OpenAsync());
        Assert.Contains("is damaged", error.Message, StringComparison.Ordinal);
        Assert.Contains("Refusing to start", error.Message, StringComparison.Ordinal);
        Assert.False(_logger.Has(108), _logger.Text);
    }

    /// <summary>A record torn in the middle of the log, with intact records pages after it: startup stops.</summary>
    [Fact]
    public async Task Reopen_DamageFollowedByIntactRecordsPagesLater_RefusesWithClearMessage()
    {
        await WriteRecordsAsync(3000);
        string segment = LastSegment();
        byte[] content = File.ReadAllBytes(segment);
        int at = content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Value(500)));
        // Below the commit file written at the 2000th commit: committed for sure.
        int intact = content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Value(1500)));
        using (FileStream file = new(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = at + 3;
            file.Write(new byte[intact - 200 - at]);
        }

        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(() => OpenAsync());
        Assert.Contains("is damaged", error.Message, StringComparison.Ordinal);
        Assert.Contains("Refusing to start", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopen_GarbageAfterLastCommitFile_RecoversEverythingBeforeAndGoesOn()
    {
        await WriteRecordsAsync(200);
        TearAt(199, zero: false, garbage: true);
        await AssertRecoveredAndGoesOnAsync(199, 207);
    }

    /// <summary>
    /// Garbage (not zeros) inside what the commit file calls committed, more than the log's in-memory window (four 32 KiB
    /// pages here) before its end, where every write had completed: FasterLog cannot follow the entry lengths, so nothing
    /// says whether intact records lie behind it. Startup stops with a message saying where.
    /// </summary>
    [Fact]
    public async Task Reopen_GarbageBeforeLastCommitFile_RefusesWithClearMessage()
    {
        await WriteRecordsAsync(3000);
        TearAt(500, zero: false, garbage: true);
        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(() => OpenAsync());
        Assert.Contains("is damaged", error.Message, StringComparison.Ordinal);
        Assert.Contains("not all zeros", error.Message, StringComparison.Ordinal);
        Assert.Contains("Refusing to start", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A write torn in flight: a 512-byte sector of zeros (never reached the disk) among the last commits, with intact
    /// records and commit records after it (as power cuts left it on ext4 with 1 KiB blocks). After the last commit file
    /// (<paramref name="records"/> 1100: the file is at the 1000th commit), FasterLog 2.6.5's own recovery threw on it,
    /// dropped the commit file and recovered to the log's beginning, and the whole WAL was then zeroed as uncommitted
    /// (the store started empty; where the sector falls decides whether it trips); now the tear is cut before FasterLog
    /// recovers (event 207). Before the commit file
    /// (1010 records, the tear at 995), FasterLog takes the commit file's word and replay meets the damage: within the
    /// log's last four pages it is cut as a torn write (event 140). Either way everything before the tear is there.
    /// </summary>
    [Theory]
    [InlineData(1100, 1092, 207)]
    [InlineData(1100, 1097, 207)]
    [InlineData(1010, 995, 140)]
    public async Task Reopen_TornWriteWithinTheLastPages_IsCut(int records, int torn, int reported)
    {
        await WriteRecordsAsync(records);
        string segment = LastSegment();
        byte[] content = File.ReadAllBytes(segment);
        int at = content.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Value(torn)));
        int sector = at - (at % 512);
        using (FileStream file = new(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = sector;
            file.Write(new byte[512]);
        }

        await using (FasterStore store = await OpenAsync())
        {
            Assert.True(_logger.Has(reported), "the store says it cut a torn write\n" + _logger.Text);
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < torn - 10; i++)
            {
                Assert.True(session.TryRead(0, Key(i), null, out _), $"key-{i:D4} is before the torn write\n{_logger.Text}");
            }

            Assert.False(session.TryRead(0, Key(records - 1), null, out _), "what followed the torn sector is dropped with it");
            await WriteAfterAsync(session);
        }

        await AssertAfterAndKeyAfterCrashAsync(torn - 11);
    }

    /// <summary>
    /// The last commit record cut by the file's end, 28 bytes in (as a power cut left it on ext4 with 1 KiB blocks: the
    /// record's first sector on disk, the file's new size not). FasterLog 2.6.5 takes that record's end for the committed
    /// end; its commit never completed, so it is cut before FasterLog recovers (event 207), with the record it covered;
    /// everything before is there. Before the fix startup refused the data directory as damaged.
    /// </summary>
    [Fact]
    public async Task Reopen_LastCommitRecordCutByTheFilesEnd_IsATornTail()
    {
        await WriteRecordsAsync(300);
        string segment = LastSegment();
        int lastCommit = LastCommitRecord(File.ReadAllBytes(segment)).Start;
        Assert.True(lastCommit > 0, "the log ends with a commit record");
        using (FileStream file = new(segment, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(lastCommit + 28);
        }

        await using (FasterStore store = await OpenAsync())
        {
            Assert.True(_logger.Has(207), "the store says it cut a torn write\n" + _logger.Text);
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < 299; i++)
            {
                Assert.True(session.TryRead(0, Key(i), null, out _), $"key-{i:D4} was committed before the torn commit\n{_logger.Text}");
            }

            await WriteAfterAsync(session);
        }

        await AssertAfterAndKeyAfterCrashAsync(298);
    }

    /// <summary>
    /// appendfsync no commits every five seconds, and FasterLog writes every page it fills meanwhile: a crash leaves
    /// many pages of records never committed after the last commit. The restart cuts them off (files cut short, not
    /// zeroed: a kill while it zeroed left zeros with the old records still after them, which the start after took for
    /// damage pages back and refused, as the crash test once did in session 34); with <paramref name="zerosLeft"/>, the
    /// start finds such zeros, left by an earlier build, and cuts them too, since no commit follows them.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reopen_ManyPagesNeverCommittedAfterTheLastCommit_CutsThemOff(bool zerosLeft)
    {
        string killed = _directory + "-killed";
        await WriteRecordsAsync(200);
        await using (FasterStore store = await OpenAsync(FsyncPolicy.No))
        {
            using IStoreSession session = store.OpenSession();
            for (int i = 200; i < 20_000; i++)
            {
                session.Write(0, Key(i), RecordType.String, Encoding.ASCII.GetBytes(Value(i)), 0);
                session.CompleteCommand();
            }

            // FasterLog writes every page that leaves its buffer (four pages), commit or not: copying the files now is
            // what a SIGKILL before the next commit leaves.
            long committedEnd = LastCommitRecordEnd(File.ReadAllBytes(LastSegment()));
            System.Diagnostics.Stopwatch waited = System.Diagnostics.Stopwatch.StartNew();
            while (new FileInfo(LastSegment()).Length < committedEnd + (8 * WalPageBytes) && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }

            CopyDirectory(_directory, killed);
        }

        Directory.Delete(_directory, recursive: true);
        Directory.Move(killed, _directory);
        byte[] content = File.ReadAllBytes(LastSegment());
        long tail = LastCommitRecordEnd(content);
        Assert.True(content.Length > tail + (8 * WalPageBytes), $"pages never committed follow the last commit ({content.Length} bytes, last commit ends at {tail})");
        if (zerosLeft)
        {
            using FileStream file = new(LastSegment(), FileMode.Open, FileAccess.Write);
            file.Position = tail;
            file.Write(new byte[64 * 1024]);
        }

        await using (FasterStore store = await OpenAsync())
        {
            Assert.True(_logger.Has(zerosLeft ? 207 : 202), "the store says it cut the tail\n" + _logger.Text);
            Assert.True(new FileInfo(LastSegment()).Length < tail + WalPageBytes, "the files are cut at the last commit");
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < 200; i++)
            {
                Assert.True(session.TryRead(0, Key(i), null, out _), $"key-{i:D4} was committed\n{_logger.Text}");
            }

            Assert.False(session.TryRead(0, Key(19_999), null, out _), "what was never committed is dropped");
            await WriteAfterAsync(session);
        }

        await AssertAfterAndKeyAfterCrashAsync(199);
    }

    /// <summary>Where the last commit record in a WAL segment ends (its entries walked as FasterLog lays them out).</summary>
    private static int LastCommitRecordEnd(byte[] content)
    {
        (int start, int end) = LastCommitRecord(content);
        Assert.True(start > 0, "the log holds a commit record");
        return end;
    }

    /// <summary>The last commit record in a WAL segment (start and end), or (-1, -1).</summary>
    private static (int Start, int End) LastCommitRecord(byte[] content)
    {
        int position = (int)FasterWriteAheadLog.FreshBeginAddress;
        (int Start, int End) last = (-1, -1);
        while (position + 4 <= content.Length)
        {
            int length = BitConverter.ToInt32(content, position);
            if (length == 0)
            {
                if (content.AsSpan(position).IndexOfAnyExcept((byte)0) < 0)
                {
                    break;
                }

                position = (position / WalPageBytes + 1) * WalPageBytes;
                continue;
            }

            int next = position + 4 + ((Math.Abs(length) + 3) & ~3);
            last = length < 0 ? (position, next) : last;
            position = next;
        }

        return last;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }

    /// <summary>A write acknowledged after the cut (with appendfsync always), before the crash of the dispose.</summary>
    private static async Task WriteAfterAsync(IStoreSession session)
    {
        session.Write(0, "after"u8, RecordType.String, "x"u8, 0);
        session.CompleteCommand();
        await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Recovers again: the write after the cut and key <paramref name="kept"/> are there.</summary>
    private async Task AssertAfterAndKeyAfterCrashAsync(int kept)
    {
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.True(again.TryRead(0, "after"u8, null, out _));
        Assert.True(again.TryRead(0, Key(kept), null, out _));
    }

    private async Task AssertRecoveredAndGoesOnAsync(int torn, int reported)
    {

        await using (FasterStore store = await OpenAsync())
        {
            Assert.True(_logger.Has(reported), "the store says it cut a torn tail\n" + _logger.Text);
            using IStoreSession session = store.OpenSession();
            ArrayBufferWriter<byte> read = new();
            for (int i = 0; i < torn; i++)
            {
                read.ResetWrittenCount();
                Assert.True(session.TryRead(0, Key(i), read, out _), $"key-{i:D4} is before the torn record\n{_logger.Text}");
                Assert.Equal(Value(i), Encoding.ASCII.GetString(read.WrittenSpan));
            }

            Assert.False(session.TryRead(0, Key(torn), null, out _), "the torn record is dropped");
            Assert.Equal(torn, store.KeyCount(0));
            for (int i = 0; i < 100; i++)
            {
                session.Write(0, Encoding.ASCII.GetBytes($"after-{i}"), RecordType.String, "x"u8, 0);
                session.CompleteCommand();
                await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
            }
        }

        // Crash (no checkpoint at dispose), then recover again: the new writes are there and nothing is reported twice.
        int reports = _logger.Lines.Count(l => l.EventId is 108 or 202 or 207);
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(torn + 100, reopened.KeyCount(0));
        Assert.True(again.TryRead(0, "after-99"u8, null, out _));
        Assert.True(again.TryRead(0, Key(torn - 1), null, out _));
        Assert.Equal(reports, _logger.Lines.Count(l => l.EventId is 108 or 202 or 207));
    }

    public void Dispose()
    {
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
