using Durable.Storage;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Benchmarks;

/// <summary>A real <see cref="FasterStore"/> in a fresh temp directory that is deleted on dispose.</summary>
internal sealed class TempStore : IAsyncDisposable
{
    private TempStore(string directory, FasterStore store)
    {
        Directory = directory;
        Store = store;
    }

    public string Directory { get; }

    public FasterStore Store { get; }

    /// <param name="memoryBytes">Log bytes kept in memory; records beyond it are read back from the log file.</param>
    public static async Task<TempStore> OpenAsync(long memoryBytes)
    {
        string directory = Path.Combine(Path.GetTempPath(), "durable-benchmarks", Guid.NewGuid().ToString("N"));
        FasterStore store = await FasterStore.OpenAsync(
            new StoreOptions { DataDirectory = directory, MemoryBytes = memoryBytes, IndexBytes = 8L << 20, SegmentBytes = 64L << 20 },
            NullLogger.Instance);
        return new TempStore(directory, store);
    }

    /// <summary>Key number <paramref name="i"/> as redis-benchmark spells it with <c>-r</c>: <c>key:</c> plus 12 digits.</summary>
    public static byte[] Key(int i) => System.Text.Encoding.ASCII.GetBytes($"key:{i:D12}");

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
