using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Durable.Storage.Faster;

/// <summary>
/// Frees the disk space of the log below its begin address inside the segment file that holds the begin address.
/// FASTER deletes only segment files wholly below it, so with 1 GiB segments a compaction of a smaller log freed
/// nothing: overwriting 2M keys of 100 bytes three times left 1 GiB of segment files for 283 MB of live records. After a
/// compaction's checkpoint has made the new begin address the one recovery starts from, the segment's bytes below it
/// are punched out (fallocate PUNCH_HOLE | KEEP_SIZE: the file keeps its length, its blocks go back to the file system).
/// Nothing reads there any more: FASTER answers a read below the begin address "not found" (a read that was on its way
/// when the begin address moved reads zeros, which it also answers so; FasterStoreSession then reads again).
/// </summary>
internal sealed partial class LogSpaceFreer(string segmentPathPrefix, int segmentBits, ILogger logger)
{
    private const int KeepSize = 1;
    private const int PunchHole = 2;
    private const long Block = 4096;
    private const int SeekData = 3;
    private const int NoDataAfterOffset = 6; // ENXIO

    private long _segment = -1;
    private long _freedBytes;
    private bool _unsupported;

    /// <summary>The segment whose start was freed last, and how many of its bytes: the log's size on disk leaves them out.</summary>
    public (long Segment, long Bytes) Freed => (Volatile.Read(ref _segment), Volatile.Read(ref _freedBytes));

    /// <summary>Frees the blocks of the begin address's segment file below <paramref name="beginAddress"/>.</summary>
    public void FreeBelow(long beginAddress)
    {
        long segment = beginAddress >> segmentBits;
        long length = (beginAddress & ((1L << segmentBits) - 1)) / Block * Block;
        if (_unsupported || length == 0 || (segment == _segment && length <= _freedBytes))
        {
            return;
        }

        string path = segmentPathPrefix + "." + segment.ToString(CultureInfo.InvariantCulture);
        try
        {
            using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            if (FreedAlready((int)handle.DangerousGetHandle(), length))
            {
                // Freed before a restart: nothing to punch again, nor to report again at every start.
                Volatile.Write(ref _freedBytes, length);
                Volatile.Write(ref _segment, segment);
                return;
            }

            if (Fallocate((int)handle.DangerousGetHandle(), PunchHole | KeepSize, 0, length) != 0)
            {
                // EOPNOTSUPP and the like: this file system frees log space only with whole segments, as before.
                _unsupported = true;
                Log.HolesUnsupported(logger, path, Marshal.GetLastPInvokeError());
                return;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The segment is gone (FASTER deleted it) or unreadable: nothing to free now; the next compaction tries again.
            return;
        }

        Volatile.Write(ref _freedBytes, length);
        Volatile.Write(ref _segment, segment);
        Log.Freed(logger, length, segment);
    }

    /// <summary>Whether the file holds no data below <paramref name="length"/> (its first data, SEEK_DATA, is at or past it; -1 with ENXIO: none at all).</summary>
    private static bool FreedAlready(int fd, long length)
    {
        long firstData = Lseek(fd, 0, SeekData);
        return firstData >= length || (firstData < 0 && Marshal.GetLastPInvokeError() == NoDataAfterOffset);
    }

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long Lseek(int fd, long offset, int whence);

    [DllImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static extern int Fallocate(int fd, int mode, long offset, long length);

    private static partial class Log
    {
        [LoggerMessage(EventId = 133, Level = LogLevel.Information, Message = "Freed {Bytes} bytes of log segment {Segment} below the log's begin address")]
        public static partial void Freed(ILogger logger, long bytes, long segment);

        [LoggerMessage(EventId = 134, Level = LogLevel.Warning, Message = "The file system cannot punch holes in {File} (errno {Errno}): log space is freed only when a whole segment lies below the log's begin address (a smaller --segment-size frees it sooner)")]
        public static partial void HolesUnsupported(ILogger logger, string file, int errno);
    }
}
