using Durable.Storage;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Commands.Tests;

/// <summary>A real FasterStore in a fresh temp directory, for tests that dispatch commands without sockets.</summary>
public abstract class TempStore : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    protected FasterStore Store { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Store = await FasterStore.OpenAsync(new StoreOptions { DataDirectory = _directory, MemoryBytes = 16L << 20, IndexBytes = 1L << 16 }, NullLogger.Instance);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }

        GC.SuppressFinalize(this);
    }
}
