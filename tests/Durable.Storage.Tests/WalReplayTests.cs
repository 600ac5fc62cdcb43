using System.Buffers;
using System.Text;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

/// <summary>
/// Replay of WAL writes whose old records are on disk: replay lets many of those writes read the disk at once
/// (<c>FasterStoreSession.ReplayWrite</c>). Two writes to one key must still land in log order, a delete must see the
/// writes before it, and the key counts must come out exact.
/// </summary>
public sealed class WalReplayTests : IDisposable
{
    private const int Keys = 3000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private RecordingLogger _logger = new();

    private Task<FasterStore> OpenAsync()
    {
        _logger = new RecordingLogger();
        // No compaction: its check, a minute after opening, finds the log two-thirds dead and checkpoints after it, which
        // leaves the WAL little to replay when the writes take that long (a loaded machine).
        return FasterStore.OpenAsync(
            new StoreOptions
            {
                DataDirectory = _directory,
                MemoryBytes = 1L << 18,
                IndexBytes = 1L << 16,
                SegmentBytes = 1L << 20,
                FsyncPolicy = FsyncPolicy.Always,
                CompactionIntervalSeconds = 0,
            },
            _logger);
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i}");

    private static byte[] Value(string version, int i) => Encoding.ASCII.GetBytes($"{version}:{i}:" + new string('x', 200));

    [Fact]
    public async Task ColdKeysWrittenTwiceAndDeleted_Crash_ReplayEndsWithTheLastOfEach()
    {
        Random random = new(7);
        string?[] model = new string?[Keys + 500];
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < Keys; i++)
            {
                Write(session, model, "v1", i);
            }

            await store.CheckpointAsync(TestContext.Current.CancellationToken);

            // After the checkpoint, all in the WAL: every old key twice, in two different orders (so a key's two writes
            // are sometimes close together, sometimes far apart), new keys, and deletes in between.
            int[] first = [.. Enumerable.Range(0, Keys).OrderBy(_ => random.Next())];
            int[] second = [.. Enumerable.Range(0, Keys).OrderBy(_ => random.Next())];
            for (int n = 0; n < Keys; n++)
            {
                Write(session, model, "v2", first[n]);
                Write(session, model, "v3", second[n]);
                if (n % 10 == 0)
                {
                    int victim = random.Next(Keys);
                    Assert.Equal(model[victim] is not null, session.Delete(0, Key(victim)));
                    session.CompleteCommand();
                    model[victim] = null;
                }

                if (n % 6 == 0)
                {
                    Write(session, model, "new", Keys + (n / 6));
                }
            }

            Assert.True(store.GetStatistics().LogHeadAddress > store.GetStatistics().LogBeginAddress, "part of the log is on disk");
        }

        // Crash: no checkpoint at dispose, so everything after the checkpoint comes from the WAL.
        await using FasterStore reopened = await OpenAsync();
        Assert.True(reopened.GetStatistics().PendingReads > Keys / 2, "replay read old records from disk\n" + _logger.Text);
        Assert.Equal(model.Count(v => v is not null), reopened.KeyCount(0));
        using IStoreSession reader = reopened.OpenSession();
        ArrayBufferWriter<byte> value = new();
        for (int i = 0; i < model.Length; i++)
        {
            value.ResetWrittenCount();
            bool found = reader.TryRead(0, Key(i), value, out _);
            Assert.True(found == model[i] is not null, $"key:{i}: found {found}, expected {model[i] ?? "absent"}");
            if (found)
            {
                Assert.Equal(model[i], Encoding.ASCII.GetString(value.WrittenSpan));
            }
        }
    }

    private static void Write(IStoreSession session, string?[] model, string version, int i)
    {
        byte[] value = Value(version, i);
        session.Write(0, Key(i), RecordType.String, value, 0);
        session.CompleteCommand();
        model[i] = Encoding.ASCII.GetString(value);
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
