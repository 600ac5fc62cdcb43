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

    /// <summary>The address just past the last byte of the last segment file (the highest the log's data can reach); 0 when there is none.</summary>
    public long DataEnd()
    {
        long end = 0;
        foreach (string path in Directory.EnumerateFiles(directory, "wal.log.*"))
        {
            if (long.TryParse(Path.GetExtension(path).AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long segment))
            {
                end = Math.Max(end, (segment << segmentBits) + new FileInfo(path).Length);
            }
        }

        return end;
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
    /// Zeroes [<paramref name="from"/>, <paramref name="to"/>) in the segment files that hold it, writing only the stretches
    /// that are not zero already and syncing each file written once; returns how many non-zero bytes there were.
    /// </summary>
    public long ZeroFrom(long from, long to)
    {
        long nonZero = 0;
        byte[] zeros = new byte[_buffer.Length];
        Dictionary<long, FileStream> written = [];
        try
        {
            for (long address = from; address < to;)
            {
                int count = ReadSome(address, _buffer.AsSpan(0, (int)Math.Min(_buffer.Length, to - address)));
                int chunkNonZero = count - _buffer.AsSpan(0, count).Count((byte)0);
                long segment = address >> segmentBits;
                if (chunkNonZero > 0 && File(segment) is { } existing)
                {
                    nonZero += chunkNonZero;
                    if (!written.TryGetValue(segment, out FileStream? file))
                    {
                        file = new FileStream(existing.Name, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                        written[segment] = file;
                    }

                    // Non-zero bytes were read, so the file reaches past the offset.
                    long offset = address & ((1L << segmentBits) - 1);
                    file.Position = offset;
                    file.Write(zeros, 0, (int)Math.Min(count, file.Length - offset));
                }

                address += count;
            }

            foreach (FileStream file in written.Values)
            {
                file.Flush(flushToDisk: true);
            }
        }
        finally
        {
            foreach (FileStream file in written.Values)
            {
                file.Dispose();
            }
        }

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
