namespace Durable.Storage;

/// <summary>A snapshot of store counters for INFO.</summary>
public readonly record struct StoreStatistics(
    long ExpiredKeys,
    long LogMemoryBytes,
    long LogTailAddress,
    long LogHeadAddress,
    long LogBeginAddress,
    long IndexBytes,
    long PendingReads,
    long LastCheckpointUnixSeconds,
    int CheckpointsTaken);
