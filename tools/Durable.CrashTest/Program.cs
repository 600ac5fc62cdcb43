using System.Globalization;
using Durable.CrashTest;

// durable-crash-test [--server-command CMD] [--dir D] [--kills N] [--clients N] [--min-ms N] [--max-ms N]
//                    [--allowed-loss N] [--seed N] [--port N] [--power-loss-image FILE] [--power-loss-fs ext4|xfs]
//                    [--power-loss-image-mb N] [--recovery-kills PERCENT]
string[] known = ["server-command", "dir", "kills", "clients", "min-ms", "max-ms", "allowed-loss", "seed", "port", "power-loss-image", "power-loss-fs", "power-loss-image-mb", "recovery-kills"];
Dictionary<string, string> options = [];
for (int i = 0; i < args.Length; i += 2)
{
    string name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : "";
    if (!known.Contains(name) || i + 1 >= args.Length)
    {
        // Refused rather than ignored: an ignored --appendfsync once ran a whole test under the wrong policy.
        await Console.Error.WriteLineAsync(
            $"durable-crash-test: {(known.Contains(name) ? $"'{args[i]}' needs a value" : $"unknown argument '{args[i]}'")}. Options: " +
            string.Join(' ', known.Select(k => $"--{k} VALUE")) + " (a server policy goes in --server-command)");
        return 2;
    }

    options[name] = args[i + 1];
}

string serverDll = Path.Combine(AppContext.BaseDirectory, "durable-server.dll");
string directory = options.GetValueOrDefault("dir") ?? Path.Combine(Path.GetTempPath(), "durable-crash-" + Guid.NewGuid().ToString("N"));
CrashTestOptions run = new()
{
    ServerCommand = options.GetValueOrDefault("server-command") ?? $"dotnet {serverDll} --port {{port}} --dir {{dir}} --appendfsync always",
    DataDirectory = directory,
    Port = int.Parse(options.GetValueOrDefault("port", "0"), CultureInfo.InvariantCulture),
    Kills = int.Parse(options.GetValueOrDefault("kills", "20"), CultureInfo.InvariantCulture),
    Clients = int.Parse(options.GetValueOrDefault("clients", "50"), CultureInfo.InvariantCulture),
    MinimumLoad = TimeSpan.FromMilliseconds(int.Parse(options.GetValueOrDefault("min-ms", "500"), CultureInfo.InvariantCulture)),
    MaximumLoad = TimeSpan.FromMilliseconds(int.Parse(options.GetValueOrDefault("max-ms", "2000"), CultureInfo.InvariantCulture)),
    AllowedLossPerClient = long.Parse(options.GetValueOrDefault("allowed-loss", "0"), CultureInfo.InvariantCulture),
    Seed = int.Parse(options.GetValueOrDefault("seed", Environment.TickCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
    PowerLossImage = options.GetValueOrDefault("power-loss-image"),
    PowerLossFileSystem = options.GetValueOrDefault("power-loss-fs", "ext4"),
    PowerLossImageBytes = long.Parse(options.GetValueOrDefault("power-loss-image-mb", "8192"), CultureInfo.InvariantCulture) << 20,
    RecoveryKillPercent = Math.Clamp(int.Parse(options.GetValueOrDefault("recovery-kills", "0"), CultureInfo.InvariantCulture), 0, 100),
};

if (run.PowerLossImage is not null && PowerLossDisk.Unavailable(run.PowerLossFileSystem) is { } reason)
{
    await Console.Error.WriteLineAsync("durable-crash-test: " + reason);
    return 2;
}

await Console.Out.WriteLineAsync(
    $"crash test: {run.Kills} {(run.PowerLossImage is null ? "kills" : $"power cuts ({run.PowerLossFileSystem} in {run.PowerLossImage})")}, {run.Clients} clients, data in {directory}, seed {run.Seed}" +
    (run.RecoveryKillPercent > 0 ? $", {run.RecoveryKillPercent}% of restarts interrupted" : string.Empty));
await Console.Out.WriteLineAsync($"server: {run.ServerCommand}");
CrashTestReport report;
try
{
    report = await new CrashTestRunner(run).RunAsync(CancellationToken.None);
}
catch (InvalidOperationException exception)
{
    // A server that did not start, or broke the connection while being checked: a failed run, said plainly.
    await Console.Out.WriteLineAsync("FAILED: " + exception.Message);
    return 1;
}

foreach (string problem in report.Problems.Take(20))
{
    await Console.Out.WriteLineAsync("  " + problem);
}

// A run in which the server acknowledged nothing (it refused writes, say for want of disk space) proves nothing.
if (report.AcknowledgedSets == 0)
{
    await Console.Out.WriteLineAsync("  no write was acknowledged: the server refused or never served the load (see its log lines above)");
}

bool passed = report.AcknowledgedSets > 0 && report.Passed(run.AllowedLossPerClient);
await Console.Out.WriteLineAsync((passed ? "PASSED: " : "FAILED: ") + report);
return passed ? 0 : 1;
