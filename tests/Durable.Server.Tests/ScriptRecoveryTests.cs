using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// A script's writes are one write-ahead log entry: after a SIGKILL under load every acknowledged script is there,
/// and no script is there in part (two counters a script increments together stay equal).
/// </summary>
public sealed class ScriptRecoveryTests : IDisposable
{
    private const string IncrementBoth = "redis.call('incr', KEYS[1]); redis.call('rpush', KEYS[3], ARGV[1]); return redis.call('incr', KEYS[2])";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ScriptsUnderLoad_SurviveASigkillWhole()
    {
        long acknowledged = 0;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always"))
        {
            using RespTestClient setup = server.Connect();

            // A script that fails after a write keeps the write, as in Redis (a script is not rolled back).
            Assert.StartsWith("-ERR user_script:1: stop", setup.Call("EVAL", "redis.call('set', KEYS[1], 'kept'); error('stop')", "1", "kept"), StringComparison.Ordinal);

            using var stop = new CancellationTokenSource();
            Task[] writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
            {
                using RespTestClient client = server.Connect();
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    string reply = client.Call("EVAL", IncrementBoth, "3", "a", "b", "log", $"{w}:{i}");
                    Assert.StartsWith(":", reply, StringComparison.Ordinal);
                    Interlocked.Increment(ref acknowledged);
                }
            })).ToArray();
            await Task.Delay(1500, TestContext.Current.CancellationToken);
            await server.KillAsync();
            await stop.CancelAsync();
            foreach (Task writer in writers)
            {
                // A writer whose connection the kill cut ends with an error; what it saw acknowledged is counted.
                await Assert.ThrowsAnyAsync<Exception>(() => writer);
            }
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always");
        using RespTestClient reader = again.Connect();
        long a = Number(reader.Call("GET", "a"));
        long b = Number(reader.Call("GET", "b"));
        long entries = long.Parse(reader.Call("LLEN", "log")[1..].TrimEnd(), CultureInfo.InvariantCulture);
        Assert.Equal(a, b);
        Assert.Equal(a, entries);
        Assert.True(a >= Interlocked.Read(ref acknowledged), $"{acknowledged} scripts acknowledged, {a} recovered");
        Assert.Equal("$4\r\nkept\r\n", reader.Call("GET", "kept"));
    }

    private static long Number(string bulk) => long.Parse(bulk[(bulk.IndexOf('\n') + 1)..].TrimEnd(), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
