using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// FASTER's checkpoint manager for the store (the same files and names as <c>CheckpointSettings.CheckpointDir</c>
/// gives), except that a checkpoint's log metadata, which makes it loadable, is written only after the WAL is committed
/// up to its tail at that moment (<paramref name="commitWal"/>). Operations of the checkpoint's next version run while
/// its snapshot is written, and FASTER 2.6.5 marks a record it copies from as sealed in place, so the snapshot can hold
/// a sealed record whose newer copy recovery undoes. If that operation's WAL record were lost, the sealed record would be
/// its key's live one after recovery: read from disk it is found, but SCAN skips it and an in-memory read retries for
/// ever (seen with the crash tool, everysec, a kill between a checkpoint and its WAL commit). With the WAL committed
/// first, recovery replays every such operation, which writes the key anew. A failed commit (the WAL's fault, refused
/// writes) does not hold the checkpoint back. Reading a checkpoint's metadata back, it works around another FASTER 2.6.5
/// recovery failure (<see cref="LogCheckpointMetadata"/>), telling <paramref name="flushedCapped"/>.
/// <paramref name="metadataWritten"/> is for tests.
/// </summary>
internal sealed class WalFirstCheckpointManager(string directory, Action commitWal, Action<long, long> flushedCapped, Action? metadataWritten)
    : DeviceLogCommitCheckpointManager(new LocalStorageNamedDeviceFactory(), new DefaultCheckpointNamingScheme(directory), removeOutdated: false)
{
    /// <summary>A checkpoint's log metadata as recovery reads it, its flushed address capped at its final one (<see cref="LogCheckpointMetadata.CapFlushedAtFinal"/>).</summary>
    public override byte[] GetLogCheckpointMetadata(Guid logToken, DeltaLog deltaLog, bool scanDelta, long recoverTo) =>
        LogCheckpointMetadata.CapFlushedAtFinal(base.GetLogCheckpointMetadata(logToken, deltaLog, scanDelta, recoverTo), flushedCapped);

    /// <summary>
    /// The head address that the log checkpoint <paramref name="logToken"/> recorded, and whether its log was written to a
    /// snapshot file. FASTER 2.6.5 recovers a snapshot checkpoint's log from its flushed address up, keeping what lies
    /// between that and the recorded head in memory too, but clears the stale lock and seal bits only of the pages at or
    /// above the recorded head (<c>ClearLocksOnPage</c> with the head before it was lowered). Read as written (the head is
    /// not what <see cref="LogCheckpointMetadata.CapFlushedAtFinal"/> changes, nor logged again).
    /// </summary>
    public (long HeadAddress, bool Snapshot) RecordedHead(Guid logToken)
    {
        HybridLogRecoveryInfo info = default;
        using StreamReader reader = new(new MemoryStream(base.GetLogCheckpointMetadata(logToken, deltaLog: null!, scanDelta: false, recoverTo: -1)));
        info.Initialize(reader);
        return (info.headAddress, info.useSnapshotFile == 1);
    }

    public override void CommitLogCheckpoint(Guid logToken, byte[] commitMetadata)
    {
        commitWal();
        base.CommitLogCheckpoint(logToken, commitMetadata);
        metadataWritten?.Invoke();
    }
}
