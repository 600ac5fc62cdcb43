using System.Diagnostics;
using Durable.Storage;

namespace Durable.Commands.Server;

/// <summary>
/// The server's memory as INFO memory, MEMORY STATS and MEMORY DOCTOR read it. used: the managed heap, which holds
/// everything sizeable (FASTER allocates the log's pages, the WAL's and the hash index as pinned arrays in it, and the
/// read cache's table of cold reads is an array too); dataset: the log's pages in memory; rss: the process's resident
/// set; peak: the largest used seen so far; the GC's own numbers (committed: what it holds from the OS, Redis's
/// allocator "active").
/// </summary>
internal sealed record MemoryOverview(
    long Used, long Peak, long Rss, long Dataset, GCMemoryInfo Gc, StoreStatistics Store,
    long LuaVm, long CachedScripts, long FunctionsVm, long FunctionsCode)
{
    public static MemoryOverview Read(ServerState server)
    {
        StoreStatistics store = server.Store.GetStatistics();
        long used = GC.GetTotalMemory(forceFullCollection: false);
        long peak = InterlockedMax(ref server.Stats.UsedMemoryPeak, used);
        using Process process = Process.GetCurrentProcess();
        Scripting.FunctionLibraries? functions = server.FunctionsIfCreated;
        return new MemoryOverview(
            used, peak, process.WorkingSet64, store.LogMemoryBytes, GC.GetGCMemoryInfo(), store,
            server.ScriptsIfCreated?.MemoryBytes ?? 0, server.ScriptsIfCreated?.CachedBytes ?? 0,
            functions?.EngineIfCreated?.MemoryBytes ?? 0, functions?.CodeBytes ?? 0);
    }

    /// <summary>What the GC has committed (MEMORY STATS's allocator.active and resident).</summary>
    public long Committed => Gc.TotalCommittedBytes;

    /// <summary>Redis used_memory_overhead: all but the dataset.</summary>
    public long Overhead => Used - Dataset;

    private static long InterlockedMax(ref long location, long value)
    {
        long seen = Volatile.Read(ref location);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref location, value, seen);
            if (previous == seen)
            {
                return value;
            }

            seen = previous;
        }

        return seen;
    }
}
