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

    /// <summary>The first address in [<paramref name="from"/>, <paramref name="to"/>) that holds a non-zero byte, or -1.</summary>
    public long FirstNonZero(long from, long to)
    {
        for (long address = from; address < to;)
        {
            int count = Read(address, _buffer.AsSpan(0, (int)Math.Min(_buffer.Length, to - address)));
            int at = _buffer.AsSpan(0, count).IndexOfAnyExcept((byte)0);
            if (at >= 0)
            {
                return address + at;
            }

            address += count;
        }

        return -1;
    }

    /// <summary>Fills the start of <paramref name="into"/> from one segment file (zeros past its end); returns how many bytes.</summary>
    private int Read(long address, Span<byte> into)
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
