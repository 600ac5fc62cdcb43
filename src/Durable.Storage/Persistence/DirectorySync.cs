using System.Runtime.InteropServices;

namespace Durable.Storage.Persistence;

/// <summary>
/// Makes a directory's entries durable: fsync on the directory itself, which a new file's, a rename's or a new
/// subdirectory's entry needs before a power cut cannot take it away (POSIX; FASTER never does it, and a file opened
/// with O_SYNC makes only its own data and inode durable). As Redis's <c>fsyncFileDir</c>, a file system that cannot
/// sync a directory (EINVAL, EBADF) is taken to need none; any other failure throws.
/// </summary>
public static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int BadDescriptor = 9;
    private const int InvalidArgument = 22;

    /// <summary>
    /// Replaces the file at <paramref name="path"/> with <paramref name="contents"/> so that a crash or a power cut leaves
    /// the old file or the new one, never half of one: a temporary file beside it, synced, renamed over it, then the
    /// directory synced (as Redis 7 writes its config file). Throws <see cref="IOException"/> on failure.
    /// </summary>
    public static void ReplaceFile(string path, ReadOnlySpan<byte> contents)
    {
        string temporary = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (FileStream stream = new(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        Sync(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
    }

    /// <summary>Syncs <paramref name="directory"/>; throws <see cref="IOException"/> when it cannot be opened or synced.</summary>
    public static void Sync(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            // Windows cannot open a directory as a file; NTFS journals its entries.
            return;
        }

        int fd = Open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0 && Marshal.GetLastPInvokeError() is int errno && errno != InvalidArgument && errno != BadDescriptor)
            {
                throw new IOException($"cannot sync directory '{directory}' (errno {errno})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Syncs <paramref name="directory"/> and each directory above it up to <paramref name="root"/> (included), so that a
    /// file and the folders created for it are all reachable after a power cut; only <paramref name="directory"/> when it
    /// is not below <paramref name="root"/>.
    /// </summary>
    public static void SyncUpTo(string directory, string root, Action<string> sync)
    {
        string top = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        string? current = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        sync(current);
        while (!string.Equals(current, top, StringComparison.Ordinal) && current.StartsWith(top + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            current = Path.GetDirectoryName(current);
            if (current is null)
            {
                return;
            }

            sync(current);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
