namespace Durable.CrashTest;

/// <summary>What one crash-test run does.</summary>
internal sealed class CrashTestOptions
{
    /// <summary>
    /// Command line that starts the server under test, with {port} and {dir} placeholders, e.g.
    /// "redis-server --port {port} --dir {dir} --appendonly yes --appendfsync always --save ''".
    /// </summary>
    public required string ServerCommand { get; init; }

    public required string DataDirectory { get; init; }

    /// <summary>
    /// When set, each kill is a power cut (<see cref="PowerLossDisk"/>): the data directory is a file system of its own
    /// (<see cref="PowerLossFileSystem"/>), made in this image file and mounted at <see cref="DataDirectory"/> ({dir} is its subdirectory data); at
    /// each kill its power is cut, then the server is killed and the file system mounted again. Needs root.
    /// </summary>
    public string? PowerLossImage { get; init; }

    /// <summary>The power-loss image's file system: ext4 (the default) or xfs.</summary>
    public string PowerLossFileSystem { get; init; } = "ext4";

    /// <summary>The size of the power-loss image (sparse: only what is written takes disk space).</summary>
    public long PowerLossImageBytes { get; init; } = 8L << 30;

    /// <summary>Port the server listens on; 0 picks a free one.</summary>
    public int Port { get; init; }

    public int Kills { get; init; } = 20;

    public int Clients { get; init; } = 50;

    /// <summary>Load runs for a random time between these bounds before each SIGKILL.</summary>
    public TimeSpan MinimumLoad { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaximumLoad { get; init; } = TimeSpan.FromMilliseconds(2000);

    public int Seed { get; init; } = Environment.TickCount;

    /// <summary>
    /// Percent of rounds (0-100) in which the restarted server is killed (or its power cut) once more while it starts and
    /// recovers, at a random moment up to how long the last start took, before the restart that is checked: recovery's
    /// own writes (the tail it cuts, the records it repairs, the checkpoint it takes and the WAL it then truncates) must
    /// survive a crash too.
    /// </summary>
    public int RecoveryKillPercent { get; init; }

    /// <summary>
    /// Writes a lossy server may drop per client and round (0 for appendfsync always). With everysec, the bound is
    /// about a second of writes.
    /// </summary>
    public long AllowedLossPerClient { get; init; }

    public TextWriter Progress { get; init; } = Console.Out;
}
