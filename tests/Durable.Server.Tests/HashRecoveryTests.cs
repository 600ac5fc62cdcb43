using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Hashes written by every hash write command survive SIGKILL and restart, encoding and expiry included.</summary>
public sealed class HashRecoveryTests : IDisposable
{
    private static readonly string[] s_keys = ["small", "counters", "table", "emptied", "expiring", "nx"];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task HashWrites_SurviveSigkillAndRestart()
    {
        Dictionary<string, string[]> before;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--memory", "8mb"))
        {
            using RespTestClient client = server.Connect();
            Assert.Equal(":3\r\n", client.Call("HSET", "small", "a", "1", "b", "2", "c", "3"));
            Assert.Equal(":1\r\n", client.Call("HDEL", "small", "b"));
            Assert.Equal(":0\r\n", client.Call("HSET", "small", "a", "10"));
            Assert.Equal("+OK\r\n", client.Call("HMSET", "small", "d", "4", "\0bin", "\r\n"));
            Assert.Equal(":5\r\n", client.Call("HINCRBY", "counters", "i", "5"));
            Assert.Equal(":-95\r\n", client.Call("HINCRBY", "counters", "i", "-100"));
            Assert.Equal("$4\r\n10.5\r\n", client.Call("HINCRBYFLOAT", "counters", "f", "10.5"));
            Assert.Equal("$4\r\n10.6\r\n", client.Call("HINCRBYFLOAT", "counters", "f", "0.1"));
            for (int i = 0; i < 200; i++)
            {
                client.Call("HSET", "table", "field" + i.ToString(CultureInfo.InvariantCulture), new string('x', i));
            }

            Assert.Equal(":100\r\n", client.Call(["HDEL", "table", .. Enumerable.Range(0, 100).Select(i => "field" + (2 * i).ToString(CultureInfo.InvariantCulture))]));
            Assert.Equal(":1\r\n", client.Call("HSET", "emptied", "only", "v"));
            Assert.Equal(":1\r\n", client.Call("HDEL", "emptied", "only"));
            Assert.Equal(":1\r\n", client.Call("HSET", "expiring", "f", "v"));
            Assert.Equal(":1\r\n", client.Call("EXPIRE", "expiring", "100000"));
            Assert.Equal(":1\r\n", client.Call("HSET", "expiring", "g", "w"));
            Assert.Equal(":1\r\n", client.Call("HSETNX", "nx", "f", "first"));
            Assert.Equal(":0\r\n", client.Call("HSETNX", "nx", "f", "second"));
            before = Snapshot(client);
            await server.KillAsync();
        }

        await using (ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--memory", "8mb"))
        {
            using RespTestClient client = again.Connect();
            AssertSame(before, Snapshot(client));
            Assert.Equal(":0\r\n", client.Call("EXISTS", "emptied"));
            Assert.Equal("$9\r\nhashtable\r\n", client.Call("OBJECT", "ENCODING", "table"));

            // A second round on the recovered data, killed again.
            Assert.Equal(":1\r\n", client.Call("HSET", "table", "after", "restart"));
            Assert.Equal(":-94\r\n", client.Call("HINCRBY", "counters", "i", "1"));
            Assert.Equal(":1\r\n", client.Call("HDEL", "small", "a"));
            before = Snapshot(client);
            await again.KillAsync();
        }

        await using ServerProcess third = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--memory", "8mb");
        using RespTestClient reader = third.Connect();
        AssertSame(before, Snapshot(reader));
    }

    private static Dictionary<string, string[]> Snapshot(RespTestClient client) =>
        s_keys.ToDictionary(key => key, key => new[]
        {
            client.Call("HGETALL", key),
            client.Call("OBJECT", "ENCODING", key),
            client.Call("TYPE", key),
            Ttl(client, key),
        });

    // The TTL counts down between snapshots: a key expiring in 100000 s reads as "about 100000".
    private static string Ttl(RespTestClient client, string key)
    {
        string reply = client.Call("TTL", key);
        long seconds = long.Parse(reply.AsSpan(1, reply.Length - 3), CultureInfo.InvariantCulture);
        return seconds is > 99_000 and <= 100_000 ? "about 100000" : reply;
    }

    private static void AssertSame(Dictionary<string, string[]> expected, Dictionary<string, string[]> actual)
    {
        foreach ((string key, string[] replies) in expected)
        {
            Assert.Equal(replies, actual[key]);
        }
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
