using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// The store log's device as FASTER sees it: a read or write that fails stops the server. FASTER 2.6.5 logs a failed read
/// and then treats the record as absent (a GET answers nil, a DEL 0, an INCR would start again from 0 and write that);
/// after a failed page write the log cannot make room in memory again (in a probe, the writes that followed stalled).
/// Neither can be undone in place, so the process stops before FASTER sees the error: every acknowledged write is in the
/// write-ahead log, and a restart recovers from the last checkpoint and the WAL (and stops again, saying why, while
/// the disk cannot be read). Found by the crash tool's power cuts, after which reads of records on disk answered nil.
/// </summary>
internal sealed partial class FailStopDevice(IDevice inner, ILogger logger, Action<string>? stop = null) : ForwardingDevice(inner)
{
    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        Inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, Watch(callback, "read", segmentId, sourceAddress), context);

    public override void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
        Inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, Watch(callback, "read", segment: -1, alignedSourceAddress), context);

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, Watch(callback, "write", segmentId, destinationAddress), context);

    public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, Watch(callback, "write", segment: -1, alignedDestinationAddress), context);

    // segment -1: address is the log's own (the aligned overloads), not an offset in a segment file.
    private DeviceIOCompletionCallback Watch(DeviceIOCompletionCallback callback, string operation, int segment, ulong address) => (error, bytes, context) =>
    {
        if (error != 0)
        {
            string where = segment < 0 ? $"log address {address}" : $"segment {segment}, offset {address}";
            // FASTER's managed device reports any exception as uint.MaxValue, not an errno.
            string code = error == uint.MaxValue ? "an I/O error without an errno" : $"errno {error}";
            string what = $"a {operation} of the store's log failed ({code}, {where}): stopping rather than go on from a record FASTER could not {operation}; check the disk (is it full?), then restart";
            Log.Stopping(logger, what);
            (stop ?? (message => Environment.FailFast(message)))(what);
        }

        callback(error, bytes, context);
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 204, Level = LogLevel.Critical, Message = "{What}")]
        public static partial void Stopping(ILogger logger, string what);
    }
}
