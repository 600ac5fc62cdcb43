using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// A FASTER device that forwards every call to <see cref="Inner"/>; the devices that change some of FASTER's I/O
/// (<see cref="DirectWriteDevice"/>, the tests' <see cref="FaultInjectingDevice"/>) override only what they change.
/// </summary>
internal abstract class ForwardingDevice(IDevice inner) : IDevice
{
    protected IDevice Inner => inner;

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

    public virtual void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false) =>
        inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

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

    public virtual void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilAddressAsync(toAddress, callback, result);

    public virtual void TruncateUntilAddress(long toAddress) => inner.TruncateUntilAddress(toAddress);

    public virtual void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilSegmentAsync(toSegment, callback, result);

    public virtual void TruncateUntilSegment(int toSegment) => inner.TruncateUntilSegment(toSegment);

    public virtual void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);

    public virtual void RemoveSegment(int segment) => inner.RemoveSegment(segment);

    public virtual void Reset() => inner.Reset();

    public virtual void Dispose() => inner.Dispose();
}
