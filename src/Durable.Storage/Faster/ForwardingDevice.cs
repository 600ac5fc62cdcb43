using System.Runtime.InteropServices;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// A FASTER device that forwards every call to <see cref="Inner"/>; the devices that change some of FASTER's I/O
/// (<see cref="DirectWriteDevice"/> for the WAL, <see cref="DirectReadDevice"/> for the store log, the tests'
/// <see cref="FaultInjectingDevice"/>) override only what they change, and close handles of their own on a segment
/// before FASTER deletes it (<see cref="ReleaseSegmentsBelow"/>, <see cref="ReleaseSegment"/>).
/// </summary>
internal abstract class ForwardingDevice(IDevice inner) : IDevice
{
    private bool _omitSegmentId;

    protected IDevice Inner => inner;

    /// <summary>Linux's O_DIRECT open flag on this architecture (it differs between them); 0 where it is not known.</summary>
    protected static int OpenDirectFlag => !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x4000,
        Architecture.Arm64 => 0x10000,
        _ => 0,
    };

    public uint SectorSize => inner.SectorSize;

    public string FileName => inner.FileName;

    public long Capacity => inner.Capacity;

    public long SegmentSize => inner.SegmentSize;

    public int StartSegment => inner.StartSegment;

    public int EndSegment => inner.EndSegment;

    public int ThrottleLimit
    {
        get => inner.ThrottleLimit;
        set => inner.ThrottleLimit = value;
    }

    public void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false)
    {
        _omitSegmentId = omitSegmentIdFromFilename;
        inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);
    }

    public bool Throttle() => inner.Throttle();

    public bool TryComplete() => inner.TryComplete();

    public long GetFileSize(int segment) => inner.GetFileSize(segment);

    public virtual void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);

    public virtual void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context);

    public virtual void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

    public virtual void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result)
    {
        ReleaseSegmentsBelow(SplitAddress((ulong)toAddress).Segment);
        inner.TruncateUntilAddressAsync(toAddress, callback, result);
    }

    public void TruncateUntilAddress(long toAddress)
    {
        ReleaseSegmentsBelow(SplitAddress((ulong)toAddress).Segment);
        inner.TruncateUntilAddress(toAddress);
    }

    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result)
    {
        ReleaseSegmentsBelow(toSegment);
        inner.TruncateUntilSegmentAsync(toSegment, callback, result);
    }

    public void TruncateUntilSegment(int toSegment)
    {
        ReleaseSegmentsBelow(toSegment);
        inner.TruncateUntilSegment(toSegment);
    }

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        ReleaseSegment(segment);
        inner.RemoveSegmentAsync(segment, callback, result);
    }

    public void RemoveSegment(int segment)
    {
        ReleaseSegment(segment);
        inner.RemoveSegment(segment);
    }

    public virtual void Reset() => inner.Reset();

    public virtual void Dispose() => inner.Dispose();

    /// <summary>
    /// Called before FASTER's device deletes the segments below <paramref name="segment"/> (truncation): a device with
    /// handles of its own on them closes them first, so that the files' space is freed.
    /// </summary>
    protected virtual void ReleaseSegmentsBelow(int segment)
    {
    }

    /// <summary>Called before FASTER's device deletes <paramref name="segment"/>.</summary>
    protected virtual void ReleaseSegment(int segment)
    {
    }

    /// <summary>The file FASTER's device keeps <paramref name="segment"/> in (<c>name.segment</c>, or the name alone when the device was told to omit it).</summary>
    protected string SegmentPath(int segment) => _omitSegmentId ? inner.FileName : $"{inner.FileName}.{segment}";

    /// <summary>A log address as segment and offset in it, as FASTER's StorageDeviceBase splits it (segments are a power of two).</summary>
    protected (int Segment, ulong Offset) SplitAddress(ulong address)
    {
        long segmentSize = inner.SegmentSize;
        if (segmentSize <= 0)
        {
            return (0, address);
        }

        int bits = System.Numerics.BitOperations.Log2((ulong)segmentSize);
        return ((int)(address >> bits), address & ((ulong)segmentSize - 1));
    }
}
