using System.Buffers.Binary;
using System.IO.Hashing;

namespace Durable.Storage.Persistence;

/// <summary>The page sizes a data directory's logs were written with (bits of the store log's page and of the WAL's).</summary>
internal readonly record struct LogLayout(int PageBits, int WalPageBits);

/// <summary>
/// The page sizes of a data directory's logs (file <see cref="FileName"/> in the data directory), written when the
/// directory is first opened: FASTER lays records out so that none crosses a page, and reading a log with other pages
/// crashed the process, so a later start keeps these whatever <c>--memory</c> says. Version 1: byte 0 = 1; byte 1 = bits
/// of a log page; byte 2 = bits of a WAL page; then a CRC-32 (little endian) of the three bytes. Pinned by
/// LogLayoutFileTests.
/// </summary>
internal static class LogLayoutFile
{
    public const string FileName = "durable-log-layout.dat";
    public const byte CurrentVersion = 1;
    private const int ContentSize = 3;
    private const int ChecksumSize = 4;

    public static byte[] Encode(LogLayout layout)
    {
        byte[] bytes = new byte[ContentSize + ChecksumSize];
        bytes[0] = CurrentVersion;
        bytes[1] = (byte)layout.PageBits;
        bytes[2] = (byte)layout.WalPageBits;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(ContentSize), Crc32.HashToUInt32(bytes.AsSpan(0, ContentSize)));
        return bytes;
    }

    /// <summary>Decodes a saved file; false with the reason when it is damaged, truncated or of another format version.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out LogLayout layout, out string? problem)
    {
        layout = default;
        if (bytes.Length != ContentSize + ChecksumSize)
        {
            problem = $"{bytes.Length} bytes where {ContentSize + ChecksumSize} were expected";
            return false;
        }

        if (bytes[0] != CurrentVersion)
        {
            problem = $"format version {bytes[0]}, this build understands {CurrentVersion}";
            return false;
        }

        if (Crc32.HashToUInt32(bytes[..ContentSize]) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[ContentSize..]))
        {
            problem = "checksum mismatch";
            return false;
        }

        layout = new LogLayout(bytes[1], bytes[2]);
        problem = null;
        return true;
    }
}
