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
/// </summary>
internal sealed class GarbageLimiter(ServerConfig config, TimeProvider time) : BackgroundService
{
    private const int IntervalMilliseconds = 20;

    /// <summary>Bytes allocated between forced collections: a 16th of the memory budget, between 4 and 64 MiB.</summary>
    internal static long LimitFor(long memoryBytes) => Math.Clamp(memoryBytes / 16, 4L << 20, 64L << 20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long limit = LimitFor(config.MemoryBytes);
        using PeriodicTimer timer = new(TimeSpan.FromMilliseconds(IntervalMilliseconds), time);
        int collections = GC.CollectionCount(0);
        long allocatedAtCollection = GC.GetTotalAllocatedBytes();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                long allocated = GC.GetTotalAllocatedBytes();
                int now = GC.CollectionCount(0);
                if (now != collections)
                {
                    // The GC collected on its own since the last tick: count from here.
                    collections = now;
                    allocatedAtCollection = allocated;
                }
                else if (allocated - allocatedAtCollection >= limit)
                {
                    GC.Collect(1, GCCollectionMode.Forced, blocking: true);
                    collections = GC.CollectionCount(0);
                    allocatedAtCollection = allocated;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
