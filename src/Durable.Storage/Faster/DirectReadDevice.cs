using System.Runtime.InteropServices;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// The store log's device: everything goes to FASTER's own device except reads, which this one serves itself through an
/// <see cref="IoUring"/> from segment files opened read-only with O_DIRECT (no page cache: the disk writes straight into
/// FASTER's buffer, and no thread blocks per read; docs/storage.md, "Cold reads: io_uring"). A read within one 4 KiB
/// block reads the whole block (aligned whatever FASTER asked). A read O_DIRECT cannot do (misaligned across blocks, a
/// segment that cannot be opened so, a full ring, or the kernel saying EINVAL) goes to the inner device. Segment files are reference counted: a segment removed by truncation (compaction) is closed once the
/// reads in flight on it have completed, and reads below the truncation point go to the inner device from then on.
/// </summary>
internal sealed partial class DirectReadDevice : ForwardingDevice
{
    private const int RingEntries = 1024;

    /// <summary>
    /// Reads smaller than this, within one aligned block, read the whole block: FASTER reads a record's first sector
    /// (its size unknown) and reads again when the record is longer, which the block then serves without the disk.
    /// </summary>
    private const uint BlockBytes = 4096;
    private const int OpenReadOnly = 0;
    private const int OpenCloseOnExec = 0x80000;
    private const int EInval = 22;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxDioAlign = 0x2000;

    private readonly IoUring _ring;
    private readonly ILogger _logger;
    private readonly int _openDirect;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, SegmentFile> _files = [];
    private readonly HashSet<int> _removed = [];
    private readonly Stack<nint> _freeBlocks = new();

    [ThreadStatic]
    private static BlockInCallback s_blockInCallback;
    private int _removedBelow;
    private long _directReads;
    private long _innerReads;

    private DirectReadDevice(IDevice inner, IoUring ring, int openDirect, ILogger logger)
        : base(inner)
    {
        _ring = ring;
        _openDirect = openDirect;
        _logger = logger;
    }

    /// <summary>Reads served through the ring since the store opened.</summary>
    public long DirectReads => Interlocked.Read(ref _directReads);

    /// <summary>Reads this device handed to FASTER's device (alignment, unopenable segment, full ring, EINVAL).</summary>
    public long InnerReads => Interlocked.Read(ref _innerReads);

    /// <summary>
    /// Wraps <paramref name="inner"/> when a ring can be created (by <paramref name="createRing"/>, given the entries)
    /// on an architecture whose O_DIRECT flag is known; otherwise says why, once, and returns null: the caller keeps
    /// FASTER's device.
    /// </summary>
    public static DirectReadDevice? TryCreate(IDevice inner, Func<uint, IoUring> createRing, ILogger logger)
    {
        int openDirect = OpenDirectFlag;
        if (!OperatingSystem.IsLinux() || openDirect == 0)
        {
            Log.RingUnavailable(logger, $"not Linux on x64 or arm64 ({RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture})");
            return null;
        }

        try
        {
            DirectReadDevice device = new(inner, createRing(RingEntries), openDirect, logger);
            Log.RingInUse(logger, RingEntries);
            return device;
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or DllNotFoundException or EntryPointNotFoundException)
        {
            Log.RingUnavailable(logger, exception.Message);
            return null;
        }
    }

    public override void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context)
    {
        (int segment, ulong offset) = SplitAddress(alignedSourceAddress);
        ReadAsync(segment, offset, alignedDestinationAddress, aligned_read_length, callback, context);
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
    {
        ulong block = sourceAddress & ~(BlockBytes - 1);
        bool inOneBlock = sourceAddress + readLength <= block + BlockBytes;
        if (inOneBlock && s_blockInCallback.Serves(this, segmentId, block, sourceAddress, destinationAddress, readLength, out uint copied))
        {
            // FASTER read the record's first sector, found the record longer and reads it again from its completion
            // callback: the block read a moment ago holds all of it (flushed before the first read was issued).
            callback(0, copied, context);
            return;
        }

        SegmentFile? file = Acquire(segmentId);
        if (file is not null)
        {
            if (inOneBlock && file.Allows(block, 0, BlockBytes))
            {
                nint buffer = RentBlock();
                if (_ring.TrySubmitRead(file.Fd, block, buffer, BlockBytes, new DirectRead(this, file, segmentId, sourceAddress, destinationAddress, readLength, callback, context, buffer, block)))
                {
                    Interlocked.Increment(ref _directReads);
                    return;
                }

                ReturnBlock(buffer);
            }
            else if (file.Allows(sourceAddress, destinationAddress, readLength)
                && _ring.TrySubmitRead(file.Fd, sourceAddress, destinationAddress, readLength, new DirectRead(this, file, segmentId, sourceAddress, destinationAddress, readLength, callback, context, 0, 0)))
            {
                Interlocked.Increment(ref _directReads);
                return;
            }

            file.Release();
        }

        ReadThroughInner(segmentId, sourceAddress, destinationAddress, readLength, callback, context);
    }

    public override void Reset()
    {
        ReleaseFiles();
        base.Reset();
    }

    public override void Dispose()
    {
        // Waits for the reads in flight (each holds its segment file open until it completes).
        _ring.Dispose();
        ReleaseFiles();
        lock (_gate)
        {
            while (_freeBlocks.TryPop(out nint block))
            {
                FreeBlock(block);
            }
        }

        base.Dispose();
    }

    /// <summary>A 4 KiB-aligned native buffer of <see cref="BlockBytes"/> for a block read (at most one per read in flight).</summary>
    private unsafe nint RentBlock()
    {
        lock (_gate)
        {
            if (_freeBlocks.TryPop(out nint block))
            {
                return block;
            }
        }

        return (nint)NativeMemory.AlignedAlloc(BlockBytes, BlockBytes);
    }

    private void ReturnBlock(nint block)
    {
        lock (_gate)
        {
            _freeBlocks.Push(block);
        }
    }

    private static unsafe void FreeBlock(nint block) => NativeMemory.AlignedFree((void*)block);

    /// <summary>Drops the table's reference to every open segment file (a file closes once its reads in flight are done).</summary>
    private void ReleaseFiles()
    {
        lock (_gate)
        {
            foreach (SegmentFile file in _files.Values)
            {
                file.Release();
            }

            _files.Clear();
        }
    }

    private void ReadThroughInner(int segmentId, ulong sourceAddress, nint destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
    {
        Interlocked.Increment(ref _innerReads);
        Inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);
    }

    /// <summary>The segment's O_DIRECT file with a reference taken for one read, or null when there is none to read through.</summary>
    private SegmentFile? Acquire(int segmentId)
    {
        lock (_gate)
        {
            if (!_files.TryGetValue(segmentId, out SegmentFile? file))
            {
                if (segmentId < _removedBelow || _removed.Contains(segmentId))
                {
                    return null;
                }

                file = Open(segmentId);
                if (file is null)
                {
                    return null;
                }

                _files.Add(segmentId, file);
            }

            if (file.Fd < 0)
            {
                return null;
            }

            file.AddReference();
            return file;
        }
    }

    /// <summary>
    /// Opens a segment read-only with O_DIRECT; a file system without O_DIRECT gives a file with no descriptor (every read
    /// of it goes to the inner device); a missing file gives null (nothing cached: it may be created later).
    /// </summary>
    private SegmentFile? Open(int segmentId)
    {
        string path = SegmentPath(segmentId);
        int fd = OpenFile(path, OpenReadOnly | _openDirect | OpenCloseOnExec);
        if (fd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error != EInval)
            {
                return null;
            }

            Log.NoDirectIo(_logger, path);
            return new SegmentFile(-1, 0, 0);
        }

        // Linux 6.1+ reports what O_DIRECT needs of this file; without it, FASTER's sector size (a misjudged read fails
        // with EINVAL and is read again through the inner device).
        uint memoryAlign = Inner.SectorSize;
        uint offsetAlign = Inner.SectorSize;
        Span<byte> statx = stackalloc byte[256];
        if (Statx(fd, "", AtEmptyPath, StatxDioAlign, ref MemoryMarshal.GetReference(statx)) == 0
            && (BitConverter.ToUInt32(statx) & StatxDioAlign) != 0
            && BitConverter.ToUInt32(statx[152..]) != 0)
        {
            memoryAlign = BitConverter.ToUInt32(statx[152..]);
            offsetAlign = BitConverter.ToUInt32(statx[156..]);
        }

        return new SegmentFile(fd, memoryAlign, offsetAlign);
    }

    protected override void ReleaseSegmentsBelow(int toSegment)
    {
        lock (_gate)
        {
            _removedBelow = Math.Max(_removedBelow, toSegment);
            foreach (int segment in _files.Keys.Where(s => s < toSegment).ToList())
            {
                _files.Remove(segment, out SegmentFile? file);
                file!.Release();
            }
        }
    }

    protected override void ReleaseSegment(int segment)
    {
        lock (_gate)
        {
            _removed.Add(segment);
            if (_files.Remove(segment, out SegmentFile? file))
            {
                file.Release();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenFile(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, ref byte buffer);

    /// <summary>An open segment file: one reference for the table, one per read in flight; the last one closes it.</summary>
    private sealed class SegmentFile(int fd, uint memoryAlign, uint offsetAlign)
    {
        private int _references = 1;

        public int Fd => fd;

        /// <summary>Whether O_DIRECT can read <paramref name="length"/> bytes at <paramref name="offset"/> into <paramref name="destination"/>.</summary>
        public bool Allows(ulong offset, nint destination, uint length) =>
            (offset % offsetAlign) == 0 && (length % offsetAlign) == 0 && ((ulong)destination % memoryAlign) == 0;

        /// <summary>
        /// Called under the device's lock, while the table still holds its reference. Atomic: a read's completion releases
        /// its reference on the reaper thread without the lock (a plain increment racing it lost the release, and the
        /// file of a deleted segment stayed open).
        /// </summary>
        public void AddReference() => Interlocked.Increment(ref _references);

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0 && fd >= 0)
            {
                _ = IoUring.Close(fd);
            }
        }
    }

    /// <summary>
    /// One read in flight on the ring: straight into FASTER's buffer, or (<paramref name="block"/> not 0) of the whole
    /// 4 KiB block around a smaller read into a buffer of this device, of which the requested bytes are copied.
    /// </summary>
    private sealed class DirectRead(DirectReadDevice device, SegmentFile file, int segmentId, ulong offset, nint destination, uint length, DeviceIOCompletionCallback callback, object context, nint block, ulong blockOffset) : IReadCompletion
    {
        public void Complete(int result)
        {
            file.Release();
            try
            {
                if (result == -EInval)
                {
                    // The file system refused this read's alignment after all: the inner device reads it through the page cache.
                    device.ReadThroughInner(segmentId, offset, destination, length, callback, context);
                }
                else if (result < 0)
                {
                    // As FASTER's device reports a failed read: an error code (errno) and no bytes.
                    callback((uint)-result, 0, context);
                }
                else if (block == 0)
                {
                    callback(0, (uint)result, context);
                }
                else
                {
                    s_blockInCallback = new BlockInCallback(device, segmentId, blockOffset, block, (uint)result);
                    s_blockInCallback.Serves(device, segmentId, blockOffset, offset, destination, length, out uint copied);
                    callback(0, copied, context);
                }
            }
            catch (Exception exception)
            {
                Log.ReadCallbackFailed(device._logger, exception);
            }
            finally
            {
                if (block != 0)
                {
                    s_blockInCallback = default;
                    device.ReturnBlock(block);
                }
            }
        }
    }

    /// <summary>The block whose read's completion callback this thread is running (a read from inside it may be served from it).</summary>
    private readonly record struct BlockInCallback(DirectReadDevice? Device, int Segment, ulong Offset, nint Buffer, uint Valid)
    {
        /// <summary>
        /// Copies <paramref name="length"/> bytes at <paramref name="offset"/> of the segment into <paramref name="destination"/>
        /// when this is the block (of <paramref name="device"/>, <paramref name="segment"/>, at <paramref name="block"/>);
        /// <paramref name="copied"/> is fewer when the block ends early (the end of the file).
        /// </summary>
        public unsafe bool Serves(DirectReadDevice device, int segment, ulong block, ulong offset, nint destination, uint length, out uint copied)
        {
            copied = 0;
            if (Device != device || Segment != segment || Offset != block)
            {
                return false;
            }

            uint skip = (uint)(offset - block);
            copied = Valid > skip ? Math.Min(length, Valid - skip) : 0;
            // Both are native buffers: the block is this device's, the destination FASTER's, pinned until its callback.
            System.Buffer.MemoryCopy((void*)(Buffer + (nint)skip), (void*)destination, length, copied);
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 124, Level = LogLevel.Information, Message = "Cold reads: io_uring ({Entries} entries) with O_DIRECT segment files, bypassing the OS page cache")]
        public static partial void RingInUse(ILogger logger, int entries);

        [LoggerMessage(EventId = 125, Level = LogLevel.Warning, Message = "Cold reads: io_uring unavailable ({Reason}); reading through FASTER's device and the OS page cache instead")]
        public static partial void RingUnavailable(ILogger logger, string reason);

        [LoggerMessage(EventId = 126, Level = LogLevel.Warning, Message = "The file system of {Path} refuses O_DIRECT: its reads go through FASTER's device and the OS page cache")]
        public static partial void NoDirectIo(ILogger logger, string path);

        [LoggerMessage(EventId = 127, Level = LogLevel.Error, Message = "A log read's completion callback failed")]
        public static partial void ReadCallbackFailed(ILogger logger, Exception exception);
    }
}
