namespace Durable.Storage.Faster;

/// <summary>
/// Background deletion of expired keys, in memory and on disk alike: while any key has a TTL, walks the whole log in
/// slices and deletes each expired record that is still the live version of its key (under the key's exclusive
/// stripe, re-checked there). Reads never see expired keys whether or not this has run yet. In memory a slice is 4096
/// records every 100 ms; on disk it is up to a million records once a second, because every pass of FASTER's scan
/// iterator over disk pages allocates page-sized read buffers (small slices every 100 ms made gigabytes of garbage).
/// </summary>
internal sealed class ExpiryCycle(FasterStore store)
{
    private const int MemoryRecordsPerSlice = 4096;
    private const int DiskRecordsPerSlice = 1 << 20;
    private const int TicksPerDiskSlice = 10;
    private long _cursor;
    private long _ticks;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using FasterStoreSession session = (FasterStoreSession)store.OpenSession();
        using PeriodicTimer timer = new(TimeSpan.FromMilliseconds(100), store.Time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            if (!store.HasExpiringKeys)
            {
                _cursor = 0;
                continue;
            }

            bool onDisk = _cursor < store.Kv.Log.HeadAddress;
            if (onDisk && ++_ticks % TicksPerDiskSlice != 0)
            {
                continue;
            }

            try
            {
                _cursor = session.DeleteExpiredSlice(_cursor, onDisk ? DiskRecordsPerSlice : MemoryRecordsPerSlice, store.Locks);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                store.ReportExpiryFailure(exception);
                _cursor = 0;
            }
        }
    }
}
