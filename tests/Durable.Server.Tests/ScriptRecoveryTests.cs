using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// A script's writes are one write-ahead log entry: after a SIGKILL under load every acknowledged script is there,
/// and no script is there in part (two counters a script increments together stay equal); so are a function's, and the
/// function libraries themselves.
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

    // Function libraries are kept in the WAL and checkpoints: every change survives a SIGKILL whole, before and after a
    // checkpoint, and a function's writes under load are there whole or not at all, as a script's.
    [Fact]
    public async Task FunctionLibraries_SurviveSigkillsAndCheckpoints()
    {
        const string Counters = "#!lua name=counters\nredis.register_function('both', function(keys, args) redis.call('incr', keys[1]); redis.call('rpush', keys[3], args[1]); return redis.call('incr', keys[2]) end)";
        long acknowledged = 0;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always"))
        {
            using RespTestClient setup = server.Connect();
            Assert.Equal("$4\r\ngone\r\n", setup.Call("FUNCTION", "LOAD", "#!lua name=gone\nredis.register_function('g', function() return 1 end)"));
            Assert.Equal("$7\r\nchanged\r\n", setup.Call("FUNCTION", "LOAD", "#!lua name=changed\nredis.register_function('v', function() return 'old' end)"));
            Assert.Equal("+OK\r\n", setup.Call("SAVE"));
            Assert.Equal("+OK\r\n", setup.Call("FUNCTION", "DELETE", "gone"));
            Assert.Equal("$7\r\nchanged\r\n", setup.Call("FUNCTION", "LOAD", "REPLACE", "#!lua name=changed\nredis.register_function('v', function() return 'new' end)"));
            Assert.Equal("$8\r\ncounters\r\n", setup.Call("FUNCTION", "LOAD", Counters));

            using var stop = new CancellationTokenSource();
            Task[] writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
            {
                using RespTestClient client = server.Connect();
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    string reply = client.Call("FCALL", "both", "3", "fa", "fb", "flog", $"{w}:{i}");
                    Assert.StartsWith(":", reply, StringComparison.Ordinal);
                    Interlocked.Increment(ref acknowledged);
                }
            })).ToArray();
            await Task.Delay(1000, TestContext.Current.CancellationToken);
            await server.KillAsync();
            await stop.CancelAsync();
            foreach (Task writer in writers)
            {
                await Assert.ThrowsAnyAsync<Exception>(() => writer);
            }
        }

        await using (ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always"))
        {
            using RespTestClient reader = again.Connect();
            Assert.Equal("-ERR Function not found\r\n", reader.Call("FCALL", "g", "0"));
            Assert.Equal("$3\r\nnew\r\n", reader.Call("FCALL", "v", "0"));
            Assert.Equal(2, reader.InfoNumber("memory", "number_of_libraries"));
            Assert.Contains("Function libraries loaded: 2 libraries, 2 functions", again.Output, StringComparison.Ordinal);
            long a = Number(reader.Call("GET", "fa"));
            Assert.Equal(a, Number(reader.Call("GET", "fb")));
            Assert.Equal(a, long.Parse(reader.Call("LLEN", "flog")[1..].TrimEnd(), CultureInfo.InvariantCulture));
            Assert.True(a >= Interlocked.Read(ref acknowledged), $"{acknowledged} calls acknowledged, {a} recovered");

            // The libraries are not keys: FLUSHALL leaves them, FUNCTION FLUSH removes them for good.
            Assert.Equal("+OK\r\n", reader.Call("FLUSHALL"));
            Assert.Equal(":0\r\n", reader.Call("DBSIZE"));
            Assert.Equal("+OK\r\n", reader.Call("FUNCTION", "FLUSH"));
            await again.KillAsync();
        }

        await using ServerProcess last = await ServerProcess.StartAsync(_directory, "--appendfsync", "always");
        using RespTestClient check = last.Connect();
        Assert.Equal(0, check.InfoNumber("memory", "number_of_libraries"));
        Assert.Equal("*0\r\n", check.Call("FUNCTION", "LIST"));
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
