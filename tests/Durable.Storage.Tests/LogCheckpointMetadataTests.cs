using System.Text;
using Durable.Storage.Faster;
using FASTER.core;

namespace Durable.Storage.Tests;

/// <summary>
/// Pins FASTER 2.6.5's log checkpoint metadata as Durable adjusts it (LogCheckpointMetadata) on a real file: the metadata
/// of a checkpoint the crash tool left (everysec, --memory 4mb, checkpoints every second) whose flushed address (181534720)
/// lies past its final address (178908344), which FASTER could not load ("initialCount ('-20') must be a non-negative
/// value"); recovery reads its whole snapshot, from where the snapshot file starts (176685056).
/// </summary>
public sealed class LogCheckpointMetadataTests
{
    private static byte[] FlushedPastFinal() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "faster-log-checkpoint-flushed-past-final.txt"));

    private static HybridLogRecoveryInfo Parse(byte[] metadata)
    {
        HybridLogRecoveryInfo info = default;
        using StreamReader reader = new(new MemoryStream(metadata));
        info.Initialize(reader);
        return info;
    }

    [Fact]
    public void FlushedPastTheSnapshotStart_IsMovedThere_AndFasterAcceptsTheChecksum()
    {
        byte[] original = FlushedPastFinal();
        HybridLogRecoveryInfo before = Parse(original);
        Assert.Equal(181534720, before.flushedLogicalAddress);
        Assert.Equal(178908344, before.finalLogicalAddress);

        Assert.Equal(176685056, before.snapshotStartFlushedLogicalAddress);
        (long Flushed, long SnapshotStart) told = default;
        byte[] moved = LogCheckpointMetadata.ReadWholeSnapshot(original, (flushed, snapshotStart) => told = (flushed, snapshotStart));
        Assert.Equal((181534720, 176685056), told);
        HybridLogRecoveryInfo after = Parse(moved);
        Assert.Equal(176685056, after.flushedLogicalAddress);
        Assert.Equal(before.snapshotStartFlushedLogicalAddress, after.snapshotStartFlushedLogicalAddress);
        Assert.Equal(before.finalLogicalAddress, after.finalLogicalAddress);
        Assert.Equal(before.startLogicalAddress, after.startLogicalAddress);
        Assert.Equal(before.beginAddress, after.beginAddress);
        Assert.Equal(before.headAddress, after.headAddress);
        Assert.Equal(before.version, after.version);
        Assert.Equal(before.continueTokens.Count, after.continueTokens.Count);

        // FASTER checks the checksum: the flushed address changed alone is refused.
        string[] unsummed = Encoding.UTF8.GetString(original).Split('\n');
        unsummed[6] = "176685056";
        Assert.ThrowsAny<Exception>(() => Parse(Encoding.UTF8.GetBytes(string.Join('\n', unsummed))));

        // Only the flushed address and the checksum lines differ.
        string[] a = Encoding.UTF8.GetString(original).Split('\n');
        string[] b = Encoding.UTF8.GetString(moved).Split('\n');
        Assert.Equal(a.Length, b.Length);
        Assert.Equal([1, 6], Enumerable.Range(0, a.Length).Where(i => a[i] != b[i]));
    }

    [Fact]
    public void FlushedAtTheSnapshotStart_IsReturnedAsItIs()
    {
        byte[] moved = LogCheckpointMetadata.ReadWholeSnapshot(FlushedPastFinal());
        Assert.Same(moved, LogCheckpointMetadata.ReadWholeSnapshot(moved));
        byte[] other = Encoding.UTF8.GetBytes("4\n1\nnot the format this knows\n");
        Assert.Same(other, LogCheckpointMetadata.ReadWholeSnapshot(other));
    }
}
