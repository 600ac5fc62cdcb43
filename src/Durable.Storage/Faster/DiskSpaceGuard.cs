using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// Refuses writes before the data directory's file system fills up. A full disk fails the store log's page writes, which
/// stop the process (<see cref="FailStopDevice"/>: FASTER cannot go on from a failed one), so a server that simply wrote
/// on would die at the first full disk, and again after each restart. Instead, once the free space (what an unprivileged
/// process may use, from statvfs) falls below <paramref name="reserveBytes"/>, writes are refused (-MISCONF, as Redis
/// does when it cannot write its AOF) while reads go on, and accepted again once there is a sixteenth of the reserve more
/// than that. The reserve leaves room for what the store still writes meanwhile: the log pages already in memory, a
/// checkpoint (whose WAL truncation frees space), and the writes of the moment between two checks. Checked every 100 ms
/// (<see cref="Check"/>) and before each compaction (<see cref="Fits"/>). A reserve of 0 turns it off.
/// </summary>
internal sealed partial class DiskSpaceGuard(string directory, long reserveBytes, Func<string, long> freeBytes, ILogger logger)
{
    // Check runs on the space loop's timer and from Fits (the compactor): one at a time, so that a refusal starts once.
    private readonly Lock _checking = new();
    private volatile string? _refusal;
    private long _free = -1;
    private long _refusals;

    /// <summary>Why writes are refused now (the disk is nearly full); null while there is room.</summary>
    public string? Refusal => _refusal;

    public long ReserveBytes => reserveBytes;

    /// <summary>Free bytes at the last check; -1 before the first one, or when the guard is off.</summary>
    public long FreeBytes => Interlocked.Read(ref _free);

    /// <summary>Times writes began to be refused for want of space.</summary>
    public long Refusals => Interlocked.Read(ref _refusals);

    /// <summary>The reserve options ask for: <paramref name="configured"/>, or when negative <see cref="StoreOptions.DefaultDiskReserveBytes"/>.</summary>
    public static long ReserveFor(long configured, long memoryBytes) => configured >= 0 ? configured : StoreOptions.DefaultDiskReserveBytes(memoryBytes);

    /// <summary>The free space of the file system holding <paramref name="path"/>, as statvfs gives it to an unprivileged process.</summary>
    public static long AvailableBytes(string path) => new DriveInfo(path).AvailableFreeSpace;

    /// <summary>Reads the free space and refuses or accepts writes again accordingly; a free space that cannot be read changes nothing.</summary>
    public void Check()
    {
        if (reserveBytes <= 0)
        {
            return;
        }

        long free;
        try
        {
            free = freeBytes(directory);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return;
        }

        using Lock.Scope scope = _checking.EnterScope();
        Interlocked.Exchange(ref _free, free);
        if (_refusal is null && free < reserveBytes)
        {
            _refusal = string.Create(
                CultureInfo.InvariantCulture,
                $"no space left for writes: the data directory's file system has {Megabytes(free)} MB free, under the {Megabytes(reserveBytes)} MB kept free (disk-reserve); writes resume once there is more room");
            Interlocked.Increment(ref _refusals);
            Log.Refusing(logger, directory, free, reserveBytes);
        }
        else if (_refusal is not null && free >= reserveBytes + (reserveBytes / 16))
        {
            _refusal = null;
            Log.Accepting(logger, free);
        }
    }

    /// <summary>
    /// Whether <paramref name="bytes"/> more can be written now without going below half the reserve (checked afresh):
    /// a compaction copies live records before it frees anything, and a page write that fails stops the server.
    /// </summary>
    public bool Fits(long bytes)
    {
        if (reserveBytes <= 0)
        {
            return true;
        }

        Check();
        long free = FreeBytes;
        return free < 0 || free - bytes >= reserveBytes / 2;
    }

    private static long Megabytes(long bytes) => bytes >> 20;

    private static partial class Log
    {
        [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "The file system of {Directory} has {Free} bytes free, under the {Reserve} bytes kept free (disk-reserve): refusing writes (-MISCONF) until there is more room; reads go on. Free some space, or restart with a smaller --disk-reserve.")]
        public static partial void Refusing(ILogger logger, string directory, long free, long reserve);

        [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "The data directory's file system has {Free} bytes free again: writes accepted.")]
        public static partial void Accepting(ILogger logger, long free);
    }
}
