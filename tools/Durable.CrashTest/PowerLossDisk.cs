using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Durable.CrashTest;

/// <summary>
/// A file system of its own for the server's data, whose power can be cut: an ext4 (or XFS) image file, loop-mounted. A
/// cut is the shutdown ioctl with "do not flush the journal" (ext4 took XFS's: the same number and flag; what xfstests'
/// crash tests use): from that moment every write
/// fails, and what the file system had not made durable (dirty pages, metadata not yet committed in the journal) is gone
/// once it is unmounted and mounted again, as after a power failure; what an fsync, O_SYNC or O_DIRECT write made
/// durable before the cut stays. Needs root (mount, loop devices) and e2fsprogs (or xfsprogs).
/// </summary>
internal sealed partial class PowerLossDisk : IDisposable
{
    // EXT4_IOC_SHUTDOWN = XFS_IOC_GOINGDOWN = _IOR('X', 125, __u32); flag 2 (NOLOGFLUSH): neither data nor journal is flushed.
    private const ulong ShutdownRequest = 0x8004587D;
    private const uint NoLogFlush = 2;
    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY

    private readonly string _image;
    private bool _mounted;

    private PowerLossDisk(string image, string mountPoint)
    {
        _image = image;
        MountPoint = mountPoint;
    }

    /// <summary>Where the file system is mounted.</summary>
    public string MountPoint { get; }

    /// <summary>The server's data directory: a directory on the file system (its root also holds lost+found).</summary>
    public string DataDirectory => Path.Combine(MountPoint, "data");

    // The file systems whose power can be cut: both take the same shutdown ioctl.
    private static readonly string[] s_fileSystems = ["ext4", "xfs"];

    /// <summary>Why power cuts cannot be made on this machine (not root, no loop devices, no mkfs for <paramref name="fileSystem"/>), or null when they can.</summary>
    public static string? Unavailable(string fileSystem = "ext4")
    {
        if (!s_fileSystems.Contains(fileSystem))
        {
            return $"power cuts take {string.Join(" or ", s_fileSystems)}, not {fileSystem}";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "power cuts need root (to mount a loop device)";
        }

        if (!File.Exists("/dev/loop-control"))
        {
            return "power cuts need loop devices (/dev/loop-control is missing)";
        }

        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Concat(["/sbin", "/usr/sbin"]).ToArray();
        if (!path.Any(directory => File.Exists(Path.Combine(directory, "mkfs." + fileSystem))))
        {
            return $"power cuts need mkfs.{fileSystem} (e2fsprogs for ext4, xfsprogs for xfs)";
        }

        try
        {
            // A container may have the control device but no free loop device to hand out.
            Run("losetup", "--find");
            return null;
        }
        catch (Exception exception) when (exception is InvalidOperationException or Win32Exception)
        {
            return "power cuts need a free loop device: " + exception.Message;
        }
    }

    /// <summary>Makes a sparse image of <paramref name="bytes"/> with a fresh <paramref name="fileSystem"/> (ext4 or xfs) and mounts it at <paramref name="mountPoint"/>.</summary>
    public static PowerLossDisk Create(string image, string mountPoint, long bytes, string fileSystem)
    {
        using (FileStream file = new(image, FileMode.Create, FileAccess.Write))
        {
            file.SetLength(bytes);
        }

        Run("mkfs." + fileSystem, fileSystem == "xfs" ? ["-q", "-f", image] : ["-q", "-F", image]);
        Directory.CreateDirectory(mountPoint);
        PowerLossDisk disk = new(image, mountPoint);
        disk.Mount();
        Directory.CreateDirectory(disk.DataDirectory);
        return disk;
    }

    /// <summary>Cuts the power: nothing written from now on, nor anything not yet durable, survives the next <see cref="Remount"/>.</summary>
    public void CutPower()
    {
        int fd = Open(MountPoint, ReadOnlyDirectory);
        if (fd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"cannot open {MountPoint}");
        }

        try
        {
            uint flags = NoLogFlush;
            if (Ioctl(fd, ShutdownRequest, ref flags) != 0)
            {
                throw new Win32Exception(Marshal.GetLastPInvokeError(), $"the shutdown ioctl on {MountPoint} failed (an ext4 or XFS file system, and root, are needed)");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Unmounts (dropping what the cut left in memory) and mounts again, which replays the journal as a boot would.</summary>
    public void Remount()
    {
        Unmount();
        Mount();
    }

    /// <summary>Set when the run failed: the image is kept (unmounted) for a look at what the server left.</summary>
    public bool KeepImage { get; set; }

    public void Dispose()
    {
        if (_mounted)
        {
            Unmount();
        }

        if (!KeepImage)
        {
            File.Delete(_image);
        }
    }

    private void Mount()
    {
        Run("mount", "-o", "loop", _image, MountPoint);
        _mounted = true;
    }

    private void Unmount()
    {
        // The server has exited; a moment of "target is busy" (its descriptors closing) is waited out.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                Run("umount", MountPoint);
                _mounted = false;
                return;
            }
            catch (InvalidOperationException) when (attempt < 50)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        // These programs print a line or two at most: reading one stream to its end, then the other, cannot block.
        ProcessStartInfo start = new(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"cannot run {program}");
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed with code {process.ExitCode}: {output}{errors}".TrimEnd());
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, ulong request, ref uint argument);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
