using System.Collections.Concurrent;
using Durable.Storage.Persistence;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// A device whose first completed write to each segment file is reported to FASTER only after the file's directory, and
/// each one above it up to <paramref name="root"/>, is synced (<see cref="DirectorySync"/>). FASTER's devices create a
/// segment file on its first write and open it O_SYNC, which makes the file's data durable but not its name: a power
/// cut could leave a WAL commit, a checkpoint's metadata or a log segment that a checkpoint relies on written but
/// unreachable. With this, nothing FASTER counts as written (a commit, a checkpoint) can be in a file whose entry is
/// not durable. A directory that cannot be synced fails the write (EIO), as a failed write of the file itself would.
/// With <paramref name="writeFailed"/>, every failed write is also told to it (with the file's path): FASTER 2.6.5
/// ignores a failed write of a checkpoint's or a commit's metadata file, so the store must learn of it itself.
/// Otherwise later writes to a segment pass straight through.
/// </summary>
internal sealed class DirectorySyncingDevice(IDevice inner, string root, Action<string> syncDirectory, Action<string>? writeFailed = null) : ForwardingDevice(inner)
{
    /// <summary>What Linux reports for an I/O error (EIO); FASTER only checks that the code is non-zero.</summary>
    public const uint IOErrorCode = 5;

    private readonly ConcurrentDictionary<int, bool> _synced = new();

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, Watch(segmentId, callback), context);

    public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, Watch(SplitAddress(alignedDestinationAddress).Segment, callback), context);

    private DeviceIOCompletionCallback Watch(int segment, DeviceIOCompletionCallback callback)
    {
        if (writeFailed is null && _synced.ContainsKey(segment))
        {
            return callback;
        }

        return (error, bytes, context) =>
        {
            // Every write that completes before the sync is done syncs too: none may be reported before the entry is durable.
            if (error == 0 && !_synced.ContainsKey(segment))
            {
                try
                {
                    DirectorySync.SyncUpTo(Path.GetDirectoryName(Path.GetFullPath(SegmentPath(segment)))!, root, syncDirectory);
                    _synced.TryAdd(segment, true);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    error = IOErrorCode;
                    bytes = 0;
                }
            }

            if (error != 0)
            {
                writeFailed?.Invoke(SegmentPath(segment));
            }

            callback(error, bytes, context);
        };
    }

    protected override void ReleaseSegment(int segment) => _synced.TryRemove(segment, out _);

    protected override void ReleaseSegmentsBelow(int segment)
    {
        foreach (int synced in _synced.Keys)
        {
            if (synced < segment)
            {
                _synced.TryRemove(synced, out _);
            }
        }
    }
}
