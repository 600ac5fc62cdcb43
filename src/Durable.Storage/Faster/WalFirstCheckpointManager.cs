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
/// writes) does not hold the checkpoint back. Reading a checkpoint's metadata back, it works around FASTER 2.6.5's
/// recovery of a snapshot taken while the log was flushed (<see cref="LogCheckpointMetadata.ReadWholeSnapshot"/>), telling
/// <paramref name="flushedMoved"/>.
/// Every file it writes is durable by name before FASTER counts it written (<see cref="DirectorySyncingDeviceFactory"/>,
/// directories synced up to <paramref name="root"/> with <paramref name="syncDirectory"/>), and a write of it that fails
/// is told to <paramref name="writeFailed"/> (FASTER 2.6.5 completes a checkpoint whose metadata write failed).
/// <paramref name="metadataWritten"/> is for tests.
/// </summary>
internal sealed class WalFirstCheckpointManager(
    string directory, string root, Action<string> syncDirectory, Action<string> writeFailed, Action commitWal, Action<long, long> flushedMoved, Action? metadataWritten)
    : DeviceLogCommitCheckpointManager(new DirectorySyncingDeviceFactory(root, syncDirectory, writeFailed), new DefaultCheckpointNamingScheme(directory), removeOutdated: false)
{
    private readonly HashSet<Guid> _movedReported = [];

    /// <summary>A checkpoint's log metadata as recovery reads it: the whole snapshot read from its file (<see cref="LogCheckpointMetadata.ReadWholeSnapshot"/>).</summary>
    public override byte[] GetLogCheckpointMetadata(Guid logToken, DeltaLog deltaLog, bool scanDelta, long recoverTo) =>
        LogCheckpointMetadata.ReadWholeSnapshot(base.GetLogCheckpointMetadata(logToken, deltaLog, scanDelta, recoverTo), (flushed, snapshotStart) =>
        {
            // Told once per checkpoint: recovery reads the metadata more than once.
            lock (_movedReported)
            {
                if (_movedReported.Add(logToken))
                {
                    flushedMoved(flushed, snapshotStart);
                }
            }
        });

    public override void CommitLogCheckpoint(Guid logToken, byte[] commitMetadata)
    {
        commitWal();
        base.CommitLogCheckpoint(logToken, commitMetadata);
        metadataWritten?.Invoke();
    }
}
