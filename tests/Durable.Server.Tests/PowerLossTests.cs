using Durable.CrashTest;

namespace Durable.Server.Tests;

/// <summary>
/// Short runs of the crash-test tool with power cuts instead of SIGKILLs: the data directory is an ext4 file system of
/// its own (a loop-mounted image) that is shut down without flushing its journal, then the server is killed and the file
/// system mounted again, so that only what the file system had made durable survives (<see cref="PowerLossDisk"/>).
/// Needs root and loop devices; skipped, saying why, where the machine has neither.
/// </summary>
public sealed class PowerLossTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    /// <summary>With always, a write is acknowledged only once on disk; with everysec, a cut loses the last few milliseconds.</summary>
    [Theory]
    [InlineData("always", 0)]
    [InlineData("everysec", 100_000)]
    public async Task PowerCut_UnderLoad_LosesNothingThePolicyPromises(string policy, long allowedLoss)
    {
        string server = Path.Combine(AppContext.BaseDirectory, "durable-server.dll");
        CrashTestReport report = await RunAsync(
            $"dotnet {server} --port {{port}} --dir {{dir}} --appendfsync {policy} --memory 8mb --checkpoint-interval 1", allowedLoss);
        Assert.True(report.AcknowledgedSets > 0, "the load ran");
        Assert.True(report.Passed(allowedLoss), report + "\n" + string.Join('\n', report.Problems.Take(20)));
        Assert.Equal(0, report.DoubleAppliedIncrements);
        Assert.Equal(0, report.ForeignValues);
    }

    /// <summary>
    /// The cut is a real one: redis-server with appendfsync no, which survives a SIGKILL with everything (each write is in
    /// the OS before its reply), loses acknowledged writes to it, since they were never flushed.
    /// </summary>
    [Fact]
    public async Task PowerCut_RedisWithAppendfsyncNo_LosesAcknowledgedWrites()
    {
        CrashTestReport report = await RunAsync("redis-server --port {port} --dir {dir} --save '' --appendonly yes --appendfsync no", allowedLoss: 0);
        Assert.True(report.AcknowledgedSets > 0, "the load ran");
        Assert.True(report.LostWrites > 0, report.ToString());
        Assert.False(report.Passed(0));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }

    private async Task<CrashTestReport> RunAsync(string serverCommand, long allowedLoss)
    {
        if (PowerLossDisk.Unavailable() is { } reason)
        {
            Assert.Skip(reason);
        }

        Directory.CreateDirectory(_directory);
        StringWriter progress = new();
        CrashTestReport report = await new CrashTestRunner(new CrashTestOptions
        {
            ServerCommand = serverCommand,
            DataDirectory = Path.Combine(_directory, "mnt"),
            PowerLossImage = Path.Combine(_directory, "fs.img"),
            PowerLossImageBytes = 1L << 30,
            Kills = 3,
            Clients = 8,
            MinimumLoad = TimeSpan.FromMilliseconds(300),
            MaximumLoad = TimeSpan.FromMilliseconds(1500),
            AllowedLossPerClient = allowedLoss,
            Seed = 2605,
            // Half the restarts are cut once more while they recover.
            RecoveryKillPercent = 50,
            Progress = progress,
        }).RunAsync(TestContext.Current.CancellationToken);
        output.WriteLine(progress.ToString());
        return report;
    }
}
