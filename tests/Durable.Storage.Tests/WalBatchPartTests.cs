using System.Text;
using Durable.Storage.Faster;

namespace Durable.Storage.Tests;

/// <summary>
/// A command whose records do not fit one WAL entry (a large collection rewritten, a huge MSET) is logged in parts
/// and stays all-or-nothing: recovered whole when its last part is in the log, dropped whole (and reported) when a
/// crash cut the log before it.
/// </summary>
public sealed class WalBatchPartTests : IDisposable
{
    // With 1 MiB of memory a WAL entry holds 256 KiB: 600 values of 1,000 bytes need three parts.
    private const int Records = 600;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly RecordingLogger _logger = new();

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 },
        _logger);

    private static byte[] Value(int i, byte fill)
    {
        byte[] value = new byte[1000];
        Array.Fill(value, fill);
        Encoding.ASCII.GetBytes($"value-{i:D4}").CopyTo(value, 0);
        return value;
    }

    private async Task WriteAsync(bool tearLastPart)
    {
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "before"u8, RecordType.String, "1"u8, 0);
            session.CompleteCommand();
            await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
            for (int i = 0; i < Records; i++)
            {
                session.Write(0, Encoding.ASCII.GetBytes($"big-{i:D4}"), RecordType.String, Value(i, (byte)'x'), 0);
            }

            session.CompleteCommand();
            await session.WaitForDurabilityAsync(TestContext.Current.CancellationToken);
        }

        if (tearLastPart)
        {
            // Cut the log inside the last record of the command, which is in its last part.
            string segment = Directory.GetFiles(Path.Combine(_directory, "wal"), "wal.log.*").Order().Last();
            byte[] bytes = File.ReadAllBytes(segment);
            int at = bytes.AsSpan().LastIndexOf(Encoding.ASCII.GetBytes($"value-{Records - 1:D4}"));
            Assert.True(at > 0, "the last record is in the last WAL segment");
            using FileStream file = new(segment, FileMode.Open, FileAccess.Write);
            file.SetLength(at + 3);
        }
    }

    [Fact]
    public async Task LargeCommand_LoggedInParts_RecoversWhole()
    {
        await WriteAsync(tearLastPart: false);
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession session = reopened.OpenSession();
        Assert.Equal(Records + 1, reopened.KeyCount(0));
        System.Buffers.ArrayBufferWriter<byte> read = new();
        for (int i = 0; i < Records; i += 37)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryRead(0, Encoding.ASCII.GetBytes($"big-{i:D4}"), read, out _));
            Assert.Equal(Value(i, (byte)'x'), read.WrittenSpan.ToArray());
        }

        Assert.False(_logger.Has(121), _logger.Text);
    }

    [Fact]
    public async Task LargeCommand_CrashBeforeItsLastPart_IsDroppedWholeAndReported()
    {
        await WriteAsync(tearLastPart: true);
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession session = reopened.OpenSession();
        Assert.True(session.TryRead(0, "before"u8, null, out _));
        Assert.False(session.TryRead(0, "big-0000"u8, null, out _), "a part before the cut was applied alone");
        Assert.Equal(1, reopened.KeyCount(0));
        // Reported as dropped parts (121) when a commit file covers the parts before the cut, otherwise as a tail cut
        // after the last intact commit (202, 207): since every new WAL's first commit file comes from an empty batch
        // (session 29), the newest commit file here is that one.
        Assert.True(_logger.Has(121) || _logger.Has(202) || _logger.Has(207), _logger.Text);
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
