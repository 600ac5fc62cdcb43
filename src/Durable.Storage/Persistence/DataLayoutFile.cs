using System.Buffers.Binary;
using System.IO.Hashing;

namespace Durable.Storage.Persistence;

/// <summary>
/// The geometry a data directory's files are laid out in, fixed when the directory is created: FASTER reads a log only
/// with the page and segment sizes it was written with (records never cross a page), so a later <c>--memory</c> or
/// <c>--segment-size</c> must not change them.
/// </summary>
internal readonly record struct DataLayout(int LogPageBits, int LogSegmentBits, int WalPageBits);

/// <summary>
/// The data directory's layout (file <see cref="FileName"/> at its top). Version 1, 8 bytes: byte 0 = 1; byte 1 the log
/// page size as a power of two; byte 2 the log segment size, as a power of two; byte 3 the WAL page size, as a power of
/// two; bytes 4..7 a CRC-32 (little endian) of bytes 0..3. Pinned by DataLayoutFileTests.
/// </summary>
internal static class DataLayoutFile
{
    public const string FileName = "durable-layout.dat";
    public const byte CurrentVersion = 1;
    private const int ContentSize = 4;
    private const int Size = ContentSize + 4;

    public static byte[] Encode(DataLayout layout)
    {
        byte[] bytes = new byte[Size];
        bytes[0] = CurrentVersion;
        bytes[1] = checked((byte)layout.LogPageBits);
        bytes[2] = checked((byte)layout.LogSegmentBits);
        bytes[3] = checked((byte)layout.WalPageBits);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(ContentSize), Crc32.HashToUInt32(bytes.AsSpan(0, ContentSize)));
        return bytes;
    }

    /// <summary>Decodes a layout; false with the reason when it is damaged, truncated or of another format version.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out DataLayout layout, out string? problem)
    {
        layout = default;
        if (bytes.Length != Size)
        {
            problem = $"{bytes.Length} bytes where {Size} are expected";
            return false;
        }

        if (Crc32.HashToUInt32(bytes[..ContentSize]) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[ContentSize..]))
        {
            problem = "checksum mismatch";
            return false;
        }

        if (bytes[0] != CurrentVersion)
        {
            problem = $"format version {bytes[0]}, this build understands {CurrentVersion}" + (bytes[0] > CurrentVersion ? ": the data directory was written by a newer Durable" : "");
            return false;
        }

        layout = new DataLayout(bytes[1], bytes[2], bytes[3]);
        problem = null;
        return true;
    }

    /// <summary>
    /// The layout of the data directory <paramref name="directory"/>: the one saved in it, or, for a directory without one,
    /// <paramref name="proposed"/> (what the options give), which is then saved. <paramref name="saved"/> tells which.
    /// An unreadable layout file throws: the sizes it holds cannot be guessed, and a wrong guess misreads the log. A new
    /// file's name, and the directory's own, are made durable with <paramref name="syncDirectory"/>.
    /// </summary>
    public static DataLayout LoadOrCreate(string directory, DataLayout proposed, Action<string> syncDirectory, out bool saved)
    {
        string path = Path.Combine(directory, FileName);
        if (File.Exists(path))
        {
            if (!TryDecode(File.ReadAllBytes(path), out DataLayout layout, out string? problem))
            {
                throw new InvalidDataException(
                    $"the data directory's layout file '{path}' cannot be read ({problem}). It holds the page and segment sizes the log " +
                    "was written with, which cannot be guessed; restore the data directory from a backup.");
            }

            saved = true;
            return layout;
        }

        Directory.CreateDirectory(directory);
        string temporary = path + ".tmp";
        using (FileStream stream = new(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encode(proposed));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        // The file's name, and the data directory's own if it was just made, survive a power cut.
        syncDirectory(directory);
        if (Path.GetDirectoryName(Path.GetFullPath(directory)) is { } parent)
        {
            syncDirectory(parent);
        }

        saved = false;
        return proposed;
    }
}
