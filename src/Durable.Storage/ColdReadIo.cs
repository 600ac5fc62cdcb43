namespace Durable.Storage;

/// <summary>How the store reads log records that are on disk (docs/storage.md, "Cold reads: io_uring").</summary>
public enum ColdReadIo
{
    /// <summary>io_uring with O_DIRECT segment files (no page cache); FASTER's device where io_uring is unavailable.</summary>
    Uring,

    /// <summary>FASTER's device: a thread-pool thread per read in flight, through the OS page cache.</summary>
    Faster,
}
