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
    private const int SnapshotStartLine = 7;
    private const int FinalLine = 9;

    /// <summary>
    /// A snapshot checkpoint records two addresses where its snapshot could take over from the log's files: the log's
    /// flushed address when the snapshot began (where the snapshot file starts) and when the checkpoint ended (its
    /// "flushed" address, later when the log was flushed meanwhile). FASTER 2.6.5's recovery reads the log's files up to
    /// the later one and the snapshot from there, and both go wrong when that address lies inside the snapshot:
    /// <list type="bullet">
    /// <item>past the checkpoint's final address (pages of the next version flushed, under a small budget), it reads the
    /// snapshot backwards and cannot load it ("initialCount ('-20') must be a non-negative value", crash tool);</item>
    /// <item>at or below the final address, the snapshot's copy of the page holding it replaces what the log's pass had
    /// cleaned (seals and locks cleared, records of the next version undone) and is cleaned only from that address on: with
    /// that address at the final one (as session 19 capped it), a sealed record stayed in memory and the WAL's replay retried on
    /// it for ever (crash tool, seed 1807).</item>
    /// </list>
    /// So recovery reads the whole snapshot, as FASTER's format 4 did: the flushed address is set to where the snapshot
    /// starts (the checksum adjusted) and <paramref name="moved"/> told both addresses; any other metadata is returned as
    /// it is.
    /// </summary>
    public static byte[] ReadWholeSnapshot(byte[] metadata, Action<long, long>? moved = null)
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
            || !long.TryParse(lines[SnapshotStartLine], NumberStyles.Integer, CultureInfo.InvariantCulture, out long snapshotStart)
            || flushed <= snapshotStart)
        {
            return metadata;
        }

        moved?.Invoke(flushed, snapshotStart);
        lines[FlushedLine] = snapshotStart.ToString(CultureInfo.InvariantCulture);
        lines[ChecksumLine] = (checksum ^ flushed ^ snapshotStart).ToString(CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }
}
