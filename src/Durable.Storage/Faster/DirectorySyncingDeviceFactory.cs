using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// FASTER's local-file device factory (checkpoint files, the WAL's commit files), with each device it gives wrapped in a
/// <see cref="DirectorySyncingDevice"/>: a checkpoint's or a commit's file, and the folders made for it, are durable by
/// name before FASTER counts the file written. <paramref name="root"/>: the highest directory synced (the data directory).
/// </summary>
internal sealed class DirectorySyncingDeviceFactory(string root, Action<string> syncDirectory) : INamedDeviceFactory
{
    private readonly LocalStorageNamedDeviceFactory _files = new();

    public void Initialize(string baseName) => _files.Initialize(baseName);

    public IDevice Get(FileDescriptor fileInfo) => new DirectorySyncingDevice(_files.Get(fileInfo), root, syncDirectory);

    public void Delete(FileDescriptor fileInfo) => _files.Delete(fileInfo);

    public IEnumerable<FileDescriptor> ListContents(string path) => _files.ListContents(path);
}
