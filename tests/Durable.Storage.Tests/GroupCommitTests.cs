using System.Text;
using Durable.Storage.Faster;

namespace Durable.Storage.Tests;

/// <summary>
/// With appendfsync always, commits run one at a time and the completion of one issues the next (ChainedCommitPolicy): a
/// commit asked for while another is in flight must never be lost (every writer's wait completes), the writes of many
/// sessions share commits, and every acknowledged write survives a crash.
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 22, IndexBytes = 1L << 16 },
        new RecordingLogger());

    [Fact]
    public async Task WaitForDurability_ManyConcurrentWriters_AllCompleteInSharedCommitsAndSurviveACrash()
    {
        const int Writers = 16;
        const int WritesEach = 300;
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using (FasterStore store = await OpenAsync())
        {
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(
                async () =>
                {
                    using IStoreSession session = store.OpenSession();
                    for (int i = 0; i < WritesEach; i++)
                    {
                        session.Write(0, Encoding.ASCII.GetBytes($"w{w}-{i}"), RecordType.String, "v"u8, 0);
                        session.CompleteCommand();
                        // A lost commit request would leave this wait pending forever: fail instead.
                        await session.WaitForDurabilityAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                    }
                },
                cancellationToken)));
            long commits = store.GetStatistics().WalCommits;
            Assert.InRange(commits, 1, Writers * WritesEach - 1);
        }

        // The store closes without a checkpoint: everything acknowledged comes back from the WAL.
        await using FasterStore reopened = await OpenAsync();
        Assert.Equal(Writers * WritesEach, reopened.KeyCount(0));
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
