using System.Buffers;
using System.Text;
using Durable.Storage.Faster;

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

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 },
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

    /// <summary>Cuts the last WAL segment three bytes into record <paramref name="torn"/>'s value, or zeroes it from there on.</summary>
    private void TearAt(int torn, bool zero, bool garbage = false)
    {
        string segment = Directory.GetFiles(Path.Combine(_directory, "wal"), "wal.log.*")
            .OrderBy(f => long.Parse(Path.GetExtension(f).AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)).Last();
        int at = File.ReadAllBytes(segment).AsSpan().IndexOf(Encoding.ASCII.GetBytes(Value(torn)));
        Assert.True(at > 0, "the record is in the last WAL segment");
        using FileStream file = new(segment, FileMode.Open, FileAccess.Write);
        if (zero || garbage)
        {
            long length = file.Length;
            file.Position = at + 3;
            byte[] bytes = new byte[length - at - 3];
            if (garbage)
            {
                new Random(42).NextBytes(bytes);
            }

            file.Write(bytes);
        }
        else
        {
            file.SetLength(at + 3);
        }
    }

    /// <param name="records">Records written, each committed (acknowledged) on its own.</param>
    /// <param name="torn">The record torn. FasterLog writes a commit file only every 1000 commits: a tear after the
    /// last one is found by FasterLog itself (event 202); a tear before it lies inside what the commit file calls
    /// committed, and replay must tell it from damage in the middle (event 108).</param>
    /// <param name="zero">Zero the bytes instead of cutting the file.</param>
    /// <param name="reported">The log line that reports the cut.</param>
    [Theory]
    [InlineData(200, 199, false, 202)]
    [InlineData(200, 199, true, 202)]
    [InlineData(1100, 500, false, 108)]
    [InlineData(1100, 500, true, 108)]
    public async Task Reopen_TornLastSegment_RecoversEverythingBeforeAndGoesOn(int records, int torn, bool zero, int reported)
    {
        await WriteRecordsAsync(records);
        TearAt(torn, zero);
        await AssertRecoveredAndGoesOnAsync(torn, reported);
    }

    [Fact]
    public async Task Reopen_GarbageAfterLastCommitFile_RecoversEverythingBeforeAndGoesOn()
    {
        await WriteRecordsAsync(200);
        TearAt(199, zero: false, garbage: true);
        await AssertRecoveredAndGoesOnAsync(199, 202);
    }

    /// <summary>
    /// Garbage (not zeros) inside what the commit file calls committed: FasterLog cannot follow the entry lengths, so
    /// nothing says whether intact records lie behind it. Startup stops with a message saying where.
    /// </summary>
    [Fact]
    public async Task Reopen_GarbageBeforeLastCommitFile_RefusesWithClearMessage()
    {
        await WriteRecordsAsync(1100);
        TearAt(500, zero: false, garbage: true);
        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(() => OpenAsync());
        Assert.Contains("the write-ahead log cannot be read after address", error.Message, StringComparison.Ordinal);
        Assert.Contains("Refusing to start", error.Message, StringComparison.Ordinal);
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
        int reports = _logger.Lines.Count(l => l.EventId is 108 or 202);
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(torn + 100, reopened.KeyCount(0));
        Assert.True(again.TryRead(0, "after-99"u8, null, out _));
        Assert.True(again.TryRead(0, Key(torn - 1), null, out _));
        Assert.Equal(reports, _logger.Lines.Count(l => l.EventId is 108 or 202));
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
