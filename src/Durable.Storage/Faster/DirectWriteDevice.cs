using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FASTER.core;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Durable.Storage.Faster;

/// <summary>
/// The write-ahead log's device: forwards everything to FASTER's device but writes with O_DIRECT (and O_SYNC, as
/// FASTER's own files are opened), so that a WAL page goes from FASTER's buffer to the disk without being copied into
/// the OS page cache first and written back later. The WAL is written once and read only by recovery, so the page
/// cache holds nothing worth keeping for it; the copy cost about 1 us of CPU per KiB written (a ZADD logs about 3 KiB).
/// A write O_DIRECT cannot do (an address, length or buffer off the device's sector size) goes through FASTER's
/// device; a file system that refuses O_DIRECT (tmpfs) turns it off for the device, logged once. Reads, segment
/// removal and everything else are FASTER's; a removed segment's handle is closed first.
/// </summary>
internal sealed partial class DirectWriteDevice : ForwardingDevice
{
    /// <summary>What Linux reports for an I/O error (EIO); FASTER only checks that the code is non-zero.</summary>
    private const uint IOErrorCode = 5;
    private const int InvalidArgument = 22;
    private const int GetStatusFlags = 3;
    private const int SetStatusFlags = 4;

    private readonly ILogger _logger;
    private readonly int _directFlag;
    private readonly ConcurrentDictionary<int, SafeFileHandle> _segments = new();
    private readonly WalZeroFill _zeroFill;
    private volatile bool _direct;
    private long _directWrites;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="zeroFill"/> is for tests (small fills), production takes the default.</summary>
    public DirectWriteDevice(IDevice inner, ILogger logger, WalZeroFill? zeroFill = null)
        : base(inner)
    {
        _logger = logger;
        _zeroFill = zeroFill ?? new WalZeroFill();
        _directFlag = OpenDirectFlag;
        _direct = _directFlag != 0;
    }

    /// <summary>Whether writes still bypass the page cache (false once the file system refused O_DIRECT).</summary>
    public bool Direct => _direct;

    /// <summary>Writes done with O_DIRECT so far (the others went through FASTER's device).</summary>
    public long DirectWrites => Interlocked.Read(ref _directWrites);

    /// <summary>Bytes of zeros written ahead of the log's writes so far (<see cref="WalZeroFill"/>).</summary>
    public long ZeroFilledBytes => _zeroFill.FilledBytes;

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        if (!_direct || !Aligned((ulong)sourceAddress | destinationAddress | numBytesToWrite))
        {
            WriteThroughFaster(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(new DirectWrite(this, sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context), preferLocal: false);
    }

    public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        (int segment, ulong offset) = SplitAddress(alignedDestinationAddress);
        WriteAsync(alignedSourceAddress, segment, offset, numBytesToWrite, callback, context);
    }

    public override void Reset()
    {
        ReleaseSegmentsBelow(int.MaxValue);
        base.Reset();
    }

    public override void Dispose()
    {
        ReleaseSegmentsBelow(int.MaxValue);
        base.Dispose();
    }

    /// <summary>A write through FASTER's device (through the page cache), after any zero fill in flight over its range.</summary>
    private void WriteThroughFaster(IntPtr source, int segment, ulong offset, uint length, DeviceIOCompletionCallback callback, object context)
    {
        _zeroFill.BeforeWrite(segment, null, (long)offset, (long)(offset + length), SegmentSize);
        Inner.WriteAsync(source, segment, offset, length, callback, context);
    }

    private bool Aligned(ulong bits) => (bits & (SectorSize - 1)) == 0;

    protected override void ReleaseSegment(int segment)
    {
        if (_segments.TryRemove(segment, out SafeFileHandle? handle))
        {
            handle.Dispose();
        }
    }

    protected override void ReleaseSegmentsBelow(int segment)
    {
        foreach (int open in _segments.Keys)
        {
            if (open < segment)
            {
                ReleaseSegment(open);
            }
        }
    }

    /// <summary>The segment's O_SYNC | O_DIRECT handle, opened on first use; null when the file system refuses O_DIRECT.</summary>
    private SafeFileHandle? HandleOf(int segment)
    {
        if (_segments.TryGetValue(segment, out SafeFileHandle? handle))
        {
            return handle;
        }

        handle = File.OpenHandle(SegmentPath(segment), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, FileOptions.WriteThrough);
        int fd = (int)handle.DangerousGetHandle();
        int flags = Fcntl(fd, GetStatusFlags, 0);
        if (flags < 0 || Fcntl(fd, SetStatusFlags, flags | _directFlag) < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            handle.Dispose();
            TurnOff(error);
            return null;
        }

        SafeFileHandle kept = _segments.GetOrAdd(segment, handle);
        if (kept != handle)
        {
            handle.Dispose();
        }

        return kept;
    }

    private void TurnOff(int errno)
    {
        if (_direct)
        {
            _direct = false;
            Log.DirectWritesOff(_logger, FileName, errno);
        }
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command, int argument);

    /// <summary>One write, run on a pool thread (a blocking pwrite, as FASTER's device does it), then FASTER's callback.</summary>
    private sealed class DirectWrite(DirectWriteDevice device, IntPtr source, int segment, ulong offset, uint length, DeviceIOCompletionCallback callback, object context) : IThreadPoolWorkItem
    {
        public unsafe void Execute()
        {
            uint error = 0;
            try
            {
                SafeFileHandle? handle = device.HandleOf(segment);
                if (handle is null)
                {
                    device.WriteThroughFaster(source, segment, offset, length, callback, context);
                    return;
                }

                device._zeroFill.BeforeWrite(segment, handle, (long)offset, (long)(offset + length), device.SegmentSize);
                RandomAccess.Write(handle, new ReadOnlySpan<byte>((void*)source, (int)length), (long)offset);
                Interlocked.Increment(ref device._directWrites);
            }
            catch (IOException exception) when (exception.HResult == InvalidArgument)
            {
                // The file system takes O_DIRECT opens but not this write: FASTER's device writes it, and every later one.
                device.TurnOff(exception.HResult);
                device.WriteThroughFaster(source, segment, offset, length, callback, context);
                return;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                error = IOErrorCode;
            }

            callback(error, error == 0 ? length : 0, context);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "The write-ahead log's file system refused O_DIRECT (errno {Errno}) for {File}: its writes go through the OS page cache, which costs CPU per byte logged.")]
        public static partial void DirectWritesOff(ILogger logger, string file, int errno);
    }
}
