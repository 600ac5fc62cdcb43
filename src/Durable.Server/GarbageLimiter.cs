using Durable.Commands.Server;
using Microsoft.Extensions.Hosting;

namespace Durable.Server;

/// <summary>
/// Bounds the garbage the process holds between collections. The workstation GC sizes its generation-0 budget from
/// the CPU's L3 cache, and this kind of VM reports hundreds of MB of it: dead objects (the copies of keys and values
/// that operations on cold records allocate) then pile up to that much before a collection, and each of those bytes
/// is resident. The runtime takes the budget only from the environment (<c>DOTNET_GCgen0size</c>; the runtimeconfig
/// names are ignored), so instead, every <see cref="IntervalMilliseconds"/> ms, this forces a generation-1 collection once
/// <see cref="LimitFor"/> bytes were allocated since the last collection of any kind. A young-generation collection
/// of mostly dead objects takes well under a millisecond.
/// <para>
/// What is alive at a young collection (writes and reads in flight) moves to generation 2, which the GC collects only
/// when its own budget, sized from the whole heap (the log's pages and the index: hundreds of MB), runs out: at the end
/// of a 20M-key load under 256 MB, 112 MB of the heap was such garbage, and once collected its space stayed committed
/// (103 MB fragmented). So once the old generations (2, large and pinned objects) have grown by the limit since the
/// last full collection, this forces a compacting one (28 during that load, which took 150-220 s).
/// </para>
/// </summary>
internal sealed class GarbageLimiter(ServerConfig config, TimeProvider time) : BackgroundService
{
    private const int IntervalMilliseconds = 20;

    /// <summary>
    /// Bytes allocated, or grown in the old generations, between forced collections: a 64th of the memory budget, between
    /// 4 and 64 MiB (a 32nd before the GC's regions went from 256 to 512 KiB, which took 20 MB more at 20M keys under 256mb).
    /// </summary>
    internal static long LimitFor(long memoryBytes) => Math.Clamp(memoryBytes / 64, 4L << 20, 64L << 20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long limit = LimitFor(config.MemoryBytes);
        using PeriodicTimer timer = new(TimeSpan.FromMilliseconds(IntervalMilliseconds), time);
        int collections = GC.CollectionCount(0);
        int fullCollections = GC.CollectionCount(2);
        long allocatedAtCollection = GC.GetTotalAllocatedBytes();
        long oldAtFullCollection = OldGenerationsBytes();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                long allocated = GC.GetTotalAllocatedBytes();
                int now = GC.CollectionCount(0);
                if (now == collections && allocated - allocatedAtCollection >= limit)
                {
                    GC.Collect(1, GCCollectionMode.Forced, blocking: true);
                    now = GC.CollectionCount(0);
                }

                if (now == collections)
                {
                    continue;
                }

                // A collection since the last tick, ours or the GC's own: count from here.
                collections = now;
                allocatedAtCollection = allocated;
                long old = OldGenerationsBytes();
                if (GC.CollectionCount(2) == fullCollections && old - oldAtFullCollection >= limit)
                {
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    collections = GC.CollectionCount(0);
                    old = OldGenerationsBytes();
                }

                if (GC.CollectionCount(2) != fullCollections)
                {
                    fullCollections = GC.CollectionCount(2);
                    oldAtFullCollection = old;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>Generation 2 and the large and pinned object heaps after the last collection, garbage not yet collected included.</summary>
    private static long OldGenerationsBytes()
    {
        ReadOnlySpan<GCGenerationInfo> generations = GC.GetGCMemoryInfo().GenerationInfo;
        return generations[2].SizeAfterBytes + generations[3].SizeAfterBytes + generations[4].SizeAfterBytes;
    }
}
