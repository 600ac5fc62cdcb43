using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// Test seam: a device that forwards to another one but fails every write while <see cref="FailWrites"/> is set,
/// the way a full or broken disk reports it (an error code in the completion callback, nothing written), and holds
/// every read back by <see cref="ReadDelay"/>, the way a slow disk does, counting how many were in flight at once. Only tests
/// create it, through <see cref="OpenStoreAsync"/> or the internal <c>FasterStore.OpenAsync</c> overload;
/// production code never wraps its devices, so it pays nothing for this. The write-ahead log opens a new device when it
/// replaces a failed log; a device made with <c>controlledBy</c> follows that one's <see cref="FailWrites"/>, so a test
/// keeps one switch for every device the store opens.
/// </summary>
internal sealed class FaultInjectingDevice(IDevice inner, FaultInjectingDevice? controlledBy = null) : ForwardingDevice(inner)
{
    /// <summary>What Linux reports for an I/O error (EIO); FASTER only checks that the code is non-zero.</summary>
    private const uint IOErrorCode = 5;
    private volatile bool _failWrites;
    private volatile bool _failReads;
    private long _failedWrites;
    private long _readDelayTicks;
    private int _readsInFlight;
    private int _mostReadsInFlight;

    /// <summary>While true, writes complete with an error and write nothing (on this device and those it controls). Thread-safe.</summary>
    public bool FailWrites
    {
        get => controlledBy?.FailWrites ?? _failWrites;
        set => _failWrites = value;
    }

    /// <summary>While true, reads complete with an error and read nothing, as from a disk that has failed. Thread-safe.</summary>
    public bool FailReads
    {
        get => _failReads;
        set => _failReads = value;
    }

    /// <summary>
    /// Opens a store whose write-ahead log writes through fault-injecting devices; the one returned switches them all (the
    /// first, and those opened when the log is replaced after a failure).
    /// </summary>
    public static async Task<(FasterStore Store, FaultInjectingDevice Device)> OpenStoreAsync(StoreOptions options, ILogger logger)
    {
        FaultInjectingDevice? first = null;
        FasterStore store = await FasterStore.OpenAsync(options, logger, inner => first is null ? first = new FaultInjectingDevice(inner) : new FaultInjectingDevice(inner, first), wrapLogDevice: null);
        return (store, first!);
    }

    /// <summary>How long each read waits before it is issued; zero (the default) forwards reads at once. Thread-safe.</summary>
    public TimeSpan ReadDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _readDelayTicks));
        set => Interlocked.Exchange(ref _readDelayTicks, value.Ticks);
    }

    /// <summary>The most delayed reads that were waiting or running at the same time.</summary>
    public int MostReadsInFlight => Volatile.Read(ref _mostReadsInFlight);

    /// <summary>Writes failed so far.</summary>
    public long FailedWrites => Interlocked.Read(ref _failedWrites);

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        if (!Fail(callback, context))
        {
            Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
        }
    }

    public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        if (!Fail(callback, context))
        {
            Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context);
        }
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        Read(callback, context, done => Inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, done, context));

    public override void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
        Read(callback, context, done => Inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, done, context));

    /// <summary>Issues a read through <paramref name="issue"/>, at once or after <see cref="ReadDelay"/>; FASTER keeps its buffer pinned until the callback.</summary>
    private void Read(DeviceIOCompletionCallback callback, object context, Action<DeviceIOCompletionCallback> issue)
    {
        if (FailReads)
        {
            // Nothing read into FASTER's buffer; the completion arrives on the pool, as with the real device.
            ThreadPool.UnsafeQueueUserWorkItem(_ => callback(IOErrorCode, 0, context), null);
            return;
        }

        TimeSpan delay = ReadDelay;
        if (delay <= TimeSpan.Zero)
        {
            issue(callback);
            return;
        }

        int inFlight = Interlocked.Increment(ref _readsInFlight);
        for (int most = MostReadsInFlight; inFlight > most; most = MostReadsInFlight)
        {
            Interlocked.CompareExchange(ref _mostReadsInFlight, inFlight, most);
        }

        _ = Task.Delay(delay).ContinueWith(
            _ => issue((error, bytes, state) =>
            {
                Interlocked.Decrement(ref _readsInFlight);
                callback(error, bytes, state);
            }),
            TaskScheduler.Default);
    }

    private bool Fail(DeviceIOCompletionCallback callback, object context)
    {
        if (!FailWrites)
        {
            return false;
        }

        Interlocked.Increment(ref (controlledBy ?? this)._failedWrites);
        // Completions arrive on the pool, never inside the caller's WriteAsync, as with the real device.
        ThreadPool.UnsafeQueueUserWorkItem(_ => callback(IOErrorCode, 0, context), null);
        return true;
    }
}
