using System.Buffers.Binary;
using System.Globalization;

namespace Durable.Storage.Faster;

/// <summary>
/// Reads WAL addresses straight from FasterLog's segment files (<c>wal.log.N</c> holds addresses from N segments on), for
/// recovery's look at a damaged tail. Bytes beyond a file's end, or in a missing file, read as zeros. Not thread-safe.
/// </summary>
internal sealed class WalSegmentReader(string directory, int segmentBits) : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Dictionary<long, FileStream?> _files = [];

    public int ReadInt32(long address)
    {
        Span<byte> bytes = stackalloc byte[4];
        Read(address, bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    /// <summary>Whether the segment file holds every byte of [<paramref name="from"/>, <paramref name="to"/>) (none is past its end); the range lies in one segment, as a log entry does.</summary>
    public bool Holds(long from, long to) =>
        File(from >> segmentBits) is { } file && ((to - 1) & ((1L << segmentBits) - 1)) < file.Length;

    /// <summary>The first address in [<paramref name="from"/>, <paramref name="to"/>) that holds a non-zero byte, or -1.</summary>
    public long FirstNonZero(long from, long to)
    {
        for (long address = from; address < to;)
        {
            int count = ReadSome(address, _buffer.AsSpan(0, (int)Math.Min(_buffer.Length, to - address)));
            int at = _buffer.AsSpan(0, count).IndexOfAnyExcept((byte)0);
            if (at >= 0)
            {
                return address + at;
            }

            address += count;
        }

        return -1;
    }

    /// <summary>Whether a whole 512-byte sector of zeros lies in [<paramref name="from"/> rounded down to a sector, <paramref name="to"/>): a sector a torn write never put on disk.</summary>
    public bool HasZeroSector(long from, long to)
    {
        Span<byte> sector = stackalloc byte[512];
        for (long address = from & ~511L; address + 512 <= to; address += 512)
        {
            Read(address, sector);
            if (sector.IndexOfAnyExcept((byte)0) < 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The address just past the last byte of the last segment file that holds any (the highest the log's data can
    /// reach); 0 when there is none. An empty file (one <see cref="CutFrom"/> emptied) does not count.
    /// </summary>
    public long DataEnd()
    {
        long end = 0;
        foreach ((long segment, string path) in Segments())
        {
            long length = new FileInfo(path).Length;
            if (length > 0)
            {
                end = Math.Max(end, (segment << segmentBits) + length);
            }
        }

        return end;
    }

    private IEnumerable<(long Segment, string Path)> Segments()
    {
        foreach (string path in Directory.EnumerateFiles(directory, "wal.log.*"))
        {
            if (long.TryParse(Path.GetExtension(path).AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long segment))
            {
                yield return (segment, path);
            }
        }
    }

    /// <summary>Fills <paramref name="into"/> from <paramref name="address"/> on (zeros past a file's end), across segment files.</summary>
    public void Read(long address, Span<byte> into)
    {
        while (!into.IsEmpty)
        {
            int count = ReadSome(address, into);
            address += count;
            into = into[count..];
        }
    }

    /// <summary>
    /// Drops everything from <paramref name="from"/> on: the segment files after the one holding it are emptied, highest
    /// first, then that one is cut at <paramref name="from"/>, each synced; returns how many non-zero bytes were dropped.
    /// Each step is a single truncation, so a process killed in the middle leaves the log as it was with a shorter end,
    /// never zeros with the old bytes still after them: the next start would take those for damage pages before the
    /// end, and refuse the directory. Zeroing in place did that: a server killed while it zeroed a long uncommitted
    /// tail (appendfsync no leaves up to five seconds of writes) did not start again (session 35). Files stay (FasterLog's
    /// device may hold them open); reads past a file's end return zeros, as the zeroed bytes did.
    /// </summary>
    public long CutFrom(long from)
    {
        long nonZero = 0;
        for (long address = from, end = DataEnd(); address < end;)
        {
            int count = ReadSome(address, _buffer.AsSpan(0, (int)Math.Min(_buffer.Length, end - address)));
            nonZero += count - _buffer.AsSpan(0, count).Count((byte)0);
            address += count;
        }

        long first = from >> segmentBits;
        foreach ((long segment, string path) in Segments().Where(file => file.Segment >= first).OrderByDescending(file => file.Segment))
        {
            long keep = segment == first ? from & ((1L << segmentBits) - 1) : 0;
            if (new FileInfo(path).Length > keep)
            {
                using FileStream file = new(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                file.SetLength(keep);
                file.Flush(flushToDisk: true);
            }
        }

        // Cached lengths and reads of the files are stale now.
        foreach (FileStream? file in _files.Values)
        {
            file?.Dispose();
        }

        _files.Clear();
        return nonZero;
    }

    /// <summary>Fills the start of <paramref name="into"/> from one segment file (zeros past its end); returns how many bytes.</summary>
    private int ReadSome(long address, Span<byte> into)
    {
        long segment = address >> segmentBits;
        long offset = address & ((1L << segmentBits) - 1);
        into = into[..(int)Math.Min(into.Length, (1L << segmentBits) - offset)];
        into.Clear();
        if (File(segment) is { } file && offset < file.Length)
        {
            file.Position = offset;
            file.ReadAtLeast(into, into.Length, throwOnEndOfStream: false);
        }

        return into.Length;
    }

    private FileStream? File(long segment)
    {
        if (!_files.TryGetValue(segment, out FileStream? file))
        {
            string path = Path.Combine(directory, "wal.log." + segment.ToString(CultureInfo.InvariantCulture));
            file = System.IO.File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite) : null;
            _files[segment] = file;
        }

        return file;
    }

    public void Dispose()
    {
        foreach (FileStream? file in _files.Values)
        {
            file?.Dispose();
        }
    }
}
