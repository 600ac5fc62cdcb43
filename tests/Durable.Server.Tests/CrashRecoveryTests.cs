using System.Diagnostics;
using Durable.CrashTest;

namespace Durable.Server.Tests;

/// <summary>
/// Short runs of the crash-test tool: SIGKILL under concurrent writers, restart (killed once more while it recovers),
/// restart, check every acknowledged write.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("always", 0)]
    [InlineData("everysec", 100_000)]
    [InlineData("no", 100_000)]
    public async Task Sigkill_UnderLoad_LosesNothingThePolicyPromises(string policy, long allowedLoss)
    {
        string server = Path.Combine(AppContext.BaseDirectory, "durable-server.dll");
        StringWriter progress = new();
        CrashTestReport report = await new CrashTestRunner(new CrashTestOptions
        {
            ServerCommand = $"dotnet {server} --port {{port}} --dir {{dir}} --appendfsync {policy} --memory 8mb --checkpoint-interval 1",
            DataDirectory = _directory,
            Kills = 3,
            Clients = 8,
            MinimumLoad = TimeSpan.FromMilliseconds(300),
            MaximumLoad = TimeSpan.FromMilliseconds(1500),
            AllowedLossPerClient = allowedLoss,
            Seed = 12345,
            // Every restart is killed once more while it starts and recovers, before the one that is checked.
            RecoveryKillPercent = 100,
            Progress = progress,
        }).RunAsync(TestContext.Current.CancellationToken);
        output.WriteLine(progress.ToString());
        Assert.True(report.AcknowledgedSets > 0, "the load ran");
        Assert.Equal(3, report.InterruptedStarts);
        Assert.True(report.Passed(allowedLoss), report + "\n" + string.Join('\n', report.Problems.Take(20)));
        Assert.Equal(0, report.DoubleAppliedIncrements);
        Assert.Equal(0, report.ForeignValues);
    }

    [Fact]
    public async Task Tool_ServerThatDropsAcknowledgedKeys_CatchesItInTheReadsDuringTheLoad()
    {
        // A redis-server that evicts random keys once past 2 MB: acknowledged keys vanish while the load runs.
        StringWriter progress = new();
        CrashTestReport report = await new CrashTestRunner(new CrashTestOptions
        {
            ServerCommand = "redis-server --port {port} --dir {dir} --save '' --appendonly yes --appendfsync no --maxmemory 2mb --maxmemory-policy allkeys-random",
            DataDirectory = _directory,
            Kills = 1,
            Clients = 8,
            MinimumLoad = TimeSpan.FromMilliseconds(1500),
            MaximumLoad = TimeSpan.FromMilliseconds(1500),
            Seed = 1,
            Progress = progress,
        }).RunAsync(TestContext.Current.CancellationToken);
        output.WriteLine(progress.ToString());
        Assert.True(report.WrongReads > 0, report.ToString());
        Assert.Contains(report.Problems, problem => problem.Contains("during the load returned $nil", StringComparison.Ordinal));
        Assert.False(report.Passed(0));
    }

    [Fact]
    public async Task Tool_ServerThatDoesNotStart_SaysFailedAndExitsWithOne()
    {
        ProcessStartInfo start = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "durable-crash-test.dll"), "--kills", "1", "--clients", "1", "--dir", _directory,
            "--server-command", "sh -c 'exit 3'",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using Process tool = Process.Start(start)!;
        Task<string> errors = tool.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string printed = await tool.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await tool.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(tool.ExitCode == 1, $"exit code {tool.ExitCode}: {printed}{await errors}");
        Assert.Contains("FAILED: server exited with code 3", printed, StringComparison.Ordinal);
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
}
