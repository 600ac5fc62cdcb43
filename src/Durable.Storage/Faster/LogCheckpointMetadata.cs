using System.Globalization;
using System.Text;

namespace Durable.Storage.Faster;

/// <summary>
/// FASTER 2.6.5's log checkpoint metadata (<c>HybridLogRecoveryInfo</c>, format version 5): lines of text, the second a
/// checksum, then guid, useSnapshotFile, version, nextVersion, flushedLogicalAddress, snapshotStartFlushedLogicalAddress,
/// startLogicalAddress, finalLogicalAddress, snapshotFinalLogicalAddress, headAddress, beginAddress, deltaTailAddress, ...
/// The checksum is the complement of an exclusive or of those addresses (and more), so one address can be changed with it.
/// </summary>
internal static class LogCheckpointMetadata
{
    private const int FormatVersion = 5;
    private const int ChecksumLine = 1;
    private const int UseSnapshotFileLine = 3;
    private const int FlushedLine = 6;
    private const int FinalLine = 9;

    /// <summary>
    /// A snapshot checkpoint during which the log was flushed past its final address (pages of the next version, under a
    /// small memory budget) records a flushed address beyond its final one, and FASTER 2.6.5's recovery then reads the
    /// snapshot file from that address to the final one: a negative page count, and the checkpoint cannot be loaded
    /// ("initialCount ('-20') must be a non-negative value", seen with the crash tool). Everything below the final address
    /// is in the log's files then, so the flushed address is capped at the final one (the checksum adjusted) and
    /// <paramref name="capped"/> told both addresses; any other metadata is returned as it is.
    /// </summary>
    public static byte[] CapFlushedAtFinal(byte[] metadata, Action<long, long>? capped = null)
    {
        if (metadata is null)
        {
            // None saved: FASTER reports that itself.
            return metadata!;
        }

        string[] lines = Encoding.UTF8.GetString(metadata).Split('\n');
        if (lines.Length <= FinalLine
            || !int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int format) || format != FormatVersion
            || lines[UseSnapshotFileLine] != "1"
            || !long.TryParse(lines[ChecksumLine], NumberStyles.Integer, CultureInfo.InvariantCulture, out long checksum)
            || !long.TryParse(lines[FlushedLine], NumberStyles.Integer, CultureInfo.InvariantCulture, out long flushed)
            || !long.TryParse(lines[FinalLine], NumberStyles.Integer, CultureInfo.InvariantCulture, out long final)
            || flushed <= final)
        {
            return metadata;
        }

        capped?.Invoke(flushed, final);
        lines[FlushedLine] = final.ToString(CultureInfo.InvariantCulture);
        lines[ChecksumLine] = (checksum ^ flushed ^ final).ToString(CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }
}
