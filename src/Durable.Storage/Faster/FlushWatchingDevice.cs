using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// The outermost device of the WAL: forwards every write and, once FASTER's callback for it has run (the log's flushed
/// address is up to date), calls <paramref name="completed"/> with the write's error code on the thread that completed it
/// (the pool thread that wrote it). Outermost so that it sees every write's outcome, including those
/// a test's fault injection fails.
/// </summary>
internal sealed class FlushWatchingDevice(IDevice inner, Action<uint> completed) : ForwardingDevice(inner)
{
    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, Completed, new Watched(callback, context));

    public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, Completed, new Watched(callback, context));

    private void Completed(uint error, uint bytes, object context)
    {
        Watched watched = (Watched)context;
        watched.Callback(error, bytes, watched.Context);
        completed(error);
    }

    private sealed record Watched(DeviceIOCompletionCallback Callback, object Context);
}
