namespace Durable.Storage.Persistence;

/// <summary>Kinds of write-ahead-log record. On disk: append only, never renumber.</summary>
public enum WalRecordKind : byte
{
    /// <summary>A key now holds this value (type, absolute expiry, payload).</summary>
    Write = 1,

    /// <summary>A key no longer exists.</summary>
    Delete = 2,

    /// <summary>Every key of one physical database is gone.</summary>
    FlushDatabase = 3,

    /// <summary>The logical-to-physical database map is now this.</summary>
    DatabaseMap = 4,

    /// <summary>An existing key's expiry is now this (0 = none); its value is unchanged.</summary>
    Expire = 5,

    /// <summary>The records of one command, applied together: int32 LE count, then count × (int32 LE length, record).</summary>
    Batch = 6,

    /// <summary>
    /// One of several records carrying a command too large for one WAL entry: int64 LE command id, byte flags (bit 0:
    /// the last part), then a batch body. Replay applies a command's parts together when its last part arrives, and
    /// drops the parts of a command whose last part never reached the log.
    /// </summary>
    BatchPart = 7,

    /// <summary>
    /// A part record's payload changed by at most two splices (<see cref="PartEdit"/>; record format version 2): applied
    /// only to the payload it was made from.
    /// </summary>
    PartEdit = 8,

    /// <summary>
    /// A key's string value changed by at most two splices (<see cref="PartEdit"/>; record format version 3), its type and
    /// expiry unchanged: applied only to a string holding the payload it was made from (an APPEND to a long string, a
    /// SETBIT or SETRANGE in one, a HyperLogLog's changed register).
    /// </summary>
    ValueEdit = 9,
}
