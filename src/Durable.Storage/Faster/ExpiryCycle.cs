namespace Durable.Storage.Faster;

/// <summary>
/// Background deletion of expired keys, in memory and on disk alike: walks the whole log in slices, a slice
/// every 100 ms, and deletes each expired record that is still the live version of its key (under the key's
/// exclusive stripe, re-checked there). Reads never see expired keys whether or not this has run yet.
/// </summary>
internal sealed class ExpiryCycle(FasterStore store)
{
    private const int RecordsPerSlice = 4096;
    private long _cursor;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using FasterStoreSession session = (FasterStoreSession)store.OpenSession();
        using PeriodicTimer timer = new(TimeSpan.FromMilliseconds(100), store.Time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            try
            {
                _cursor = session.DeleteExpiredSlice(_cursor, RecordsPerSlice, store.Locks);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                store.ReportExpiryFailure(exception);
                _cursor = 0;
            }
        }
    }
}
