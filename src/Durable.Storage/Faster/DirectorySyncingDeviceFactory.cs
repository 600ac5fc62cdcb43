using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// FASTER's local-file device factory (checkpoint files, the WAL's commit files), with each device it gives wrapped in a
/// <see cref="DirectorySyncingDevice"/>: a checkpoint's or a commit's file, and the folders made for it, are durable by
/// name before FASTER counts the file written, and a failed write is told to <paramref name="writeFailed"/>.
/// <paramref name="root"/>: the highest directory synced (the data directory). A file whose folder cannot be made (a full
/// disk) gets a device that fails every write instead of an exception: thrown inside FASTER's checkpoint, that left its
/// state machine stuck, and every later checkpoint failed with "another checkpoint is in progress" until a restart.
/// </summary>
internal sealed class DirectorySyncingDeviceFactory(string root, Action<string> syncDirectory, Action<string> writeFailed) : INamedDeviceFactory
{
    private readonly LocalStorageNamedDeviceFactory _files = new();
    private string _baseName = "";

    public void Initialize(string baseName)
    {
        _baseName = baseName;
        _files.Initialize(baseName);
    }

    public IDevice Get(FileDescriptor fileInfo)
    {
        try
        {
            return new DirectorySyncingDevice(_files.Get(fileInfo), root, syncDirectory, writeFailed);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            string path = Path.Combine(_baseName, fileInfo.directoryName ?? "", fileInfo.fileName ?? "");
            writeFailed(path);
            return new FailingDevice();
        }
    }

    public void Delete(FileDescriptor fileInfo) => _files.Delete(fileInfo);

    public IEnumerable<FileDescriptor> ListContents(string path) => _files.ListContents(path);

    /// <summary>A device for a file that could not be made: every read and write completes with EIO.</summary>
    private sealed class FailingDevice() : ForwardingDevice(new NullDevice())
    {
        public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
            callback(DirectorySyncingDevice.IOErrorCode, 0, context);

        public override void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
            callback(DirectorySyncingDevice.IOErrorCode, 0, context);

        public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
            callback(DirectorySyncingDevice.IOErrorCode, 0, context);

        public override void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
            callback(DirectorySyncingDevice.IOErrorCode, 0, context);
    }
}
