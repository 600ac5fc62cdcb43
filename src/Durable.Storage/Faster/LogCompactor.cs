using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// Background space reclamation. Every compaction interval it estimates how much of the log is dead (overwritten,
/// deleted or expired records); past the threshold it compacts the older half of the on-disk part of the log: expired keys there are
/// first deleted as the expiry cycle would (logged, counted), then FASTER copies the records that are still live to the
/// tail and moves the begin address, and a checkpoint follows so that FASTER deletes the segment files below it and the
/// begin segment's space below it is freed (<see cref="LogSpaceFreer"/>).
/// See docs/storage.md (Compaction) for why this keeps recovery, SCAN and the key counts correct.
/// </summary>
internal sealed class LogCompactor(FasterStore store)
{
    /// <summary>Bytes at the log tail sampled for the average record size.</summary>
    private const long SampleBytes = 4L << 20;

    // After a compaction that shortened the log by less than the configured dead share of what it compacted (the estimate
    // was wrong: it counts the padding at page ends, which copies to the tail bring back, as dead, among other errors), no
    // other one until writes have logged that share again: without writes nothing new dies. Without this an idle server
    // under the crash tool's settings (5%) copied its whole data set to the tail every second, and a SCAN chasing the
    // tail never ended. Under writes the share is logged soon, and the log it measures also grew by what they appended.
    private long _quietUntilWal;
    private bool _postponed;

    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using PeriodicTimer timer = new(interval, store.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await CompactIfWorthwhileAsync(force: false, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // Nothing is lost: a failed compaction leaves the log as it was, or with extra copies of live records.
                    store.ReportCompactionFailure(exception);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// Compacts the older half of the on-disk part of the log (all of it with <paramref name="force"/>) when at least the
    /// configured share of the log is estimated dead (or always, with <paramref name="force"/>) and a quarter of the log,
    /// or a segment, is on disk (what compaction can free), and the last compaction shortened the log by that share of what
    /// it compacted or writes have logged that share since; returns whether it compacted.
    /// </summary>
    public async Task<bool> CompactIfWorthwhileAsync(bool force, CancellationToken cancellationToken)
    {
        if (!force && store.WalTailAddress < Volatile.Read(ref _quietUntilWal))
        {
            return false;
        }

        LogAccessor<SpanByte, SpanByte> log = store.Kv.Log;
        long begin = log.BeginAddress;
        long head = log.HeadAddress;
        long logBytes = log.TailAddress - begin;
        long smallest = Math.Min(store.SegmentBytes, logBytes / 4);
        if (head <= begin || (head - begin < smallest && !force))
        {
            return false;
        }

        // The older half of what is on disk (at least the smallest range worth a compaction), at a page start (records
        // never span pages): its records are the likeliest to be dead, and the copies of its live ones, appended before any
        // space is freed, stay a fraction of the log.
        long until = force ? head : Math.Min(head, (begin + Math.Max((head - begin) / 2, smallest)) / store.PageBytes * store.PageBytes);
        if (until <= begin)
        {
            until = head;
        }

        long liveBytes = EstimateLiveBytes();
        int deadPercent = logBytes == 0 ? 0 : (int)Math.Clamp(100 - (liveBytes * 100 / logBytes), 0, 100);
        if (!force && deadPercent < store.CompactionDeadPercent)
        {
            return false;
        }

        // The copies of the range's live records are written before anything is freed: twice the estimate must fit.
        long copies = Math.Min(until - begin, 2 * (until - begin) * (100 - deadPercent) / 100);
        if (!store.DiskSpace.Fits(copies))
        {
            if (!_postponed)
            {
                // Said once, until a compaction fits again.
                store.ReportCompactionPostponed(copies);
                _postponed = true;
            }

            return false;
        }

        _postponed = false;

        if (await store.CompactAsync(until, deadPercent, cancellationToken) is (long compacted, long shortened))
        {
            long share = compacted * store.CompactionDeadPercent / 100;
            Volatile.Write(ref _quietUntilWal, shortened < share ? store.WalTailAddress + share : 0);
        }

        return true;
    }

    /// <summary>
    /// Live bytes, estimated as the number of keys times the average size of the records most recently appended
    /// (a sample of the in-memory tail, read without I/O). Cheap; exact only when records are of similar size.
    /// </summary>
    private long EstimateLiveBytes()
    {
        LogAccessor<SpanByte, SpanByte> log = store.Kv.Log;
        long tail = log.TailAddress;
        long from = Math.Max(log.HeadAddress, tail - SampleBytes);
        // Records never span pages, so a page start is a record boundary.
        from = Math.Max(from / store.PageBytes * store.PageBytes, log.HeadAddress);
        long records = 0;
        long bytes = 0;
        using (IFasterScanIterator<SpanByte, SpanByte> iterator = log.Scan(from, tail))
        {
            while (iterator.GetNext(out RecordInfo info))
            {
                if (!info.Tombstone)
                {
                    records++;
                    bytes += iterator.NextAddress - iterator.CurrentAddress;
                }
            }
        }

        long keys = store.TotalKeyCount() + 1;
        return records == 0 ? 0 : keys * (bytes / records);
    }
}
