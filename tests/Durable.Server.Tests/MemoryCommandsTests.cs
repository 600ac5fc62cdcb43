using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>MEMORY USAGE: Redis's arguments and errors, and an estimate that follows what a key holds, in parts or not.</summary>
public sealed class MemoryCommandsTests(ReferenceServers servers) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Errors_AndMissingKeys_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("SET", "memory:s", "hello");
        both.Same("MEMORY");
        both.Same("MEMORY", "FOO");
        both.Same("MEMORY", "USAGE");
        both.Same("MEMORY", "USAGE", "memory:none");
        both.Same("MEMORY", "USAGE", "memory:none", "SAMPLES", "0");
        both.Same("MEMORY", "USAGE", "memory:none", "SAMPLES", "x");
        both.Same("MEMORY", "USAGE", "memory:s", "SAMPLES", "-1");
        both.Same("MEMORY", "USAGE", "memory:s", "SAMPLES");
        both.Same("MEMORY", "USAGE", "memory:s", "FOO", "1");
        both.Same("MEMORY", "USAGE", "memory:s", "samples", "1", "SAMPLES", "x");
        both.Same("MEMORY", "HELP", "x");
        both.Same("MEMORY", "HELP");
        both.Same("MEMORY", "STATS", "x");
        both.Same("MEMORY", "DOCTOR", "x");
        both.Same("MEMORY", "PURGE");
        both.Same("MEMORY", "PURGE", "x");
        both.Same("MEMORY", "MALLOC-STATS", "x");
        // Redis built without jemalloc answers so; redis-server here has jemalloc, whose report differs.
        Assert.Equal("$45\r\nStats not supported for the current allocator\r\n", both.Durable.Call("MEMORY", "MALLOC-STATS"));
    }

    // MEMORY STATS: Redis's fields in Redis's order, integers and doubles where Redis has them (the numbers are
    // Durable's); a database appears once it holds keys. DOCTOR on an empty server: Redis's report, byte for byte.
    [Fact]
    public async Task StatsAndDoctor_HaveRedisFields()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        foreach (string protocol in new[] { "2", "3" })
        {
            both.Durable.Call("HELLO", protocol);
            both.Redis.Call("HELLO", protocol);
            both.Same("MEMORY", "DOCTOR");
            Assert.Equal(Shape(both.Redis.Call("MEMORY", "STATS")), Shape(both.Durable.Call("MEMORY", "STATS")));
        }

        both.Same("SET", "a", "1");
        both.Same("SELECT", "3");
        both.Same("SET", "b", "1");
        string stats = both.Durable.Call("MEMORY", "STATS");
        Assert.Equal(Shape(both.Redis.Call("MEMORY", "STATS")), Shape(stats));
        Assert.Contains("keys.count\r\n:2\r\n", stats, StringComparison.Ordinal);
    }

    // A reply with its numbers replaced by their kind.
    private static string Shape(string reply) =>
        System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Replace(reply, @"\r\n:-?\d+", "\r\n:INT"), @"\r\n(\$\d+\r\n|,)-?[0-9.e+-]+(?=\r\n)", "\r\nDOUBLE");

    [Fact]
    public async Task Usage_FollowsTheValue_AndSamplesALargeCollectionsParts()
    {
        await using ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "2mb");
        using RespTestClient client = server.Connect();
        client.Call("SET", "small", new string('x', 10));
        client.Call("SET", "large", new string('x', 10_010));
        Assert.InRange(Usage(client, "large") - Usage(client, "small"), 9_990, 10_030);

        client.Call("HSET", "compact", "f", "v");
        for (int start = 0; start < 20_000; start += 500)
        {
            client.Call(["HSET", "parts", .. Enumerable.Range(start, 500).SelectMany(f => new[] { $"field-{f}", $"value-{f}" })]);
        }

        // 20,000 fields of about 22 bytes each, in buckets (most of them on disk under 2 MB): sampled, and all read.
        long sampled = Usage(client, "parts");
        long all = Usage(client, "parts", "SAMPLES", "0");
        Assert.InRange(all, 20_000 * 22, 20_000 * 60);
        Assert.InRange(sampled, all / 2, all * 2);
        Assert.True(Usage(client, "compact") < 200, "a one-field hash is one small record");
    }

    private static long Usage(RespTestClient client, string key, params string[] options)
    {
        string reply = client.Call(["MEMORY", "USAGE", key, .. options]);
        Assert.StartsWith(":", reply, StringComparison.Ordinal);
        return long.Parse(reply.AsSpan(1, reply.Length - 3), CultureInfo.InvariantCulture);
    }
}
