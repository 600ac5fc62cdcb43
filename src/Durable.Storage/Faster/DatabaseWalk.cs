namespace Durable.Storage.Faster;

/// <summary>
/// The reaper's walk over the log for the records of dropped physical databases (<see cref="Physicals"/>: those dropped
/// when it started), from the log's begin address then to <see cref="End"/> (the tail then), next at <see cref="Next"/>.
/// </summary>
internal readonly record struct DatabaseWalk
{
    /// <summary>Log records a step examines at most, so that a step over a log with few of the databases' keys stays short.</summary>
    public const int RecordsPerStep = 64 * 1024;

    /// <summary>Keys a step deletes at most (one WAL entry: about 30 bytes a key).</summary>
    public const int KeysPerStep = 1024;

    public DatabaseWalk(long number, IReadOnlyList<byte> physicals, long begin, long end)
    {
        Number = number;
        Physicals = [.. physicals];
        Among = new bool[KeyCounts.PhysicalDatabases];
        foreach (byte physical in Physicals)
        {
            Among[physical] = true;
        }

        End = end;
        Next = begin;
    }

    /// <summary>The walk's number (<see cref="PartReaper.StartWalk"/>); a restarted walk gets a new one.</summary>
    public long Number { get; }

    public byte[] Physicals { get; }

    /// <summary>Indexed by physical number: whether the walk deletes that database's records.</summary>
    public bool[] Among { get; }

    public long End { get; }

    public long Next { get; init; }

    public bool Started => Physicals is not null;
}
