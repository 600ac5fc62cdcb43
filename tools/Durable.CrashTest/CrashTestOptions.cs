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

    /// <summary>Port the server listens on; 0 picks a free one.</summary>
    public int Port { get; init; }

    public int Kills { get; init; } = 20;

    public int Clients { get; init; } = 50;

    /// <summary>Load runs for a random time between these bounds before each SIGKILL.</summary>
    public TimeSpan MinimumLoad { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaximumLoad { get; init; } = TimeSpan.FromMilliseconds(2000);

    public int Seed { get; init; } = Environment.TickCount;

    /// <summary>
    /// Writes a lossy server may drop per client and round (0 for appendfsync always). With everysec, the bound is
    /// about a second of writes.
    /// </summary>
    public long AllowedLossPerClient { get; init; }

    public TextWriter Progress { get; init; } = Console.Out;
}
