using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// Writes that lose the race for their hash entry make FASTER 2.6.5 abandon their new record in a layout its scans cannot
/// step over (the allocation's size in the key's length): SCAN would skip the rest of that page while it is in memory.
/// The session repairs each such allocation once its operation has ended.
/// </summary>
public sealed class AbandonedAllocationTests : IDisposable
{
    private const int Writers = 4;
    private const int Keys = 500;
    private const int Rounds = 100;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Scan_WritersRacingOnTheSameKeys_EveryKeyScannedAndTheLostRacesRepaired()
    {
        // Four writers write the same keys without the server's key locks, each round a longer value (a new record, not an
        // update in place): their writes keep losing the race for the keys' hash entries. All of the log stays in memory,
        // where FASTER's scan meets the abandoned records.
        await using FasterStore store = await FasterStore.OpenAsync(
            new StoreOptions
            {
                DataDirectory = _directory,
                MemoryBytes = 64L << 20,
                CompactionIntervalSeconds = 0,
                CheckpointIntervalSeconds = 0,
            },
            NullLogger.Instance);

        using Barrier start = new(Writers);
        Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(
            () =>
            {
                using IStoreSession session = store.OpenSession();
                byte[] value = new byte[Rounds];
                start.SignalAndWait();
                for (int round = 1; round <= Rounds; round++)
                {
                    for (int i = 0; i < Keys; i++)
                    {
                        session.Write(0, Key(i), RecordType.String, value.AsSpan(0, round), 0);
                        session.CompleteCommand();
                    }
                }
            },
            TestContext.Current.CancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default))];
        await Task.WhenAll(writers);

        Assert.Equal(store.Kv.Log.HeadAddress, store.Kv.Log.BeginAddress);
        Assert.True(store.GetStatistics().AbandonedAllocationsRepaired > 0, "no write lost a race: the test did not make what it tests");
        using IStoreSession scanner = store.OpenSession();
        HashSet<string> seen = [];
        KeySet visitor = new(seen);
        ulong cursor = 0;
        do
        {
            cursor = scanner.Scan(0, cursor, 1000, visitor);
        }
        while (cursor != 0);

        Assert.Equal(Keys, store.KeyCount(0));
        Assert.Equal(Keys, seen.Count);
    }

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key:{i}");

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

    private sealed class KeySet(HashSet<string> keys) : IKeyVisitor
    {
        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record) => keys.Add(Encoding.ASCII.GetString(key));
    }
}
