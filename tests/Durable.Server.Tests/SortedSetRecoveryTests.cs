using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Sorted sets written by every write command survive a SIGKILL and a restart on the same data.</summary>
public sealed class SortedSetRecoveryTests : IDisposable
{
    private static readonly string[][] s_writes =
    [
        ["ZADD", "plain", "1", "a", "2.5", "b", "-0.0", "c", "inf", "d", "0.1", "e"],
        ["ZADD", "plain", "XX", "CH", "3", "a"],
        ["ZINCRBY", "plain", "0.2", "e"],
        ["ZADD", "plain", "INCR", "-1", "b"],
        ["ZREM", "plain", "d"],
        ["ZADD", "large", "1", new string('x', 65), "-0.0", "neg", "7", "seven"],
        ["ZADD", "gone", "1", "a"],
        ["ZPOPMIN", "gone"],
        ["ZADD", "popped", "1", "a", "2", "b", "3", "c", "4", "d"],
        ["ZPOPMAX", "popped", "1"],
        ["ZMPOP", "1", "popped", "MIN", "COUNT", "1"],
        ["ZADD", "ranged", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
        ["ZREMRANGEBYRANK", "ranged", "0", "0"],
        ["ZREMRANGEBYSCORE", "ranged", "(4", "+inf"],
        ["ZADD", "lex", "0", "a", "0", "b", "0", "c"],
        ["ZREMRANGEBYLEX", "lex", "[b", "+"],
        ["ZUNIONSTORE", "union", "2", "plain", "ranged", "WEIGHTS", "2", "3"],
        ["ZINTERSTORE", "inter", "2", "plain", "ranged", "AGGREGATE", "MAX"],
        ["ZDIFFSTORE", "diff", "2", "plain", "ranged"],
        ["ZRANGESTORE", "stored", "plain", "0", "1", "REV"],
        ["ZADD", "ttl", "1", "a"],
        ["EXPIRE", "ttl", "1000"],
        ["ZADD", "ttl", "2", "b"],
    ];

    private static readonly string[] s_keys = ["plain", "large", "gone", "popped", "ranged", "lex", "union", "inter", "diff", "stored", "ttl"];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Writes_SurviveSigkillAndRestart()
    {
        Dictionary<string, string> before = [];
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always"))
        {
            using RespTestClient client = server.Connect();
            foreach (string[] write in s_writes)
            {
                Assert.DoesNotContain("-ERR", client.Call(write), StringComparison.Ordinal);
            }

            foreach (string key in s_keys)
            {
                before[key] = Snapshot(client, key);
            }

            await server.KillAsync();
        }

        Assert.Contains("$2\r\n-0\r\n", before["large"], StringComparison.Ordinal);
        Assert.Contains("skiplist", before["large"], StringComparison.Ordinal);
        Assert.Equal("*0\r\n|:-2\r\n|$-1\r\n", before["gone"]);
        Assert.Contains("|ttl|", before["ttl"], StringComparison.Ordinal);
        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always");
        using RespTestClient reader = again.Connect();
        foreach (string key in s_keys)
        {
            Assert.Equal(before[key], Snapshot(reader, key));
        }

        string ttl = reader.Call("TTL", "ttl");
        Assert.Matches(@"^:(99\d|1000)\r\n$", ttl);
    }

    /// <summary>The members with scores, whether the key has a TTL (its exact value moves), and the encoding.</summary>
    private static string Snapshot(RespTestClient client, string key)
    {
        string ttl = client.Call("PTTL", key);
        return $"{client.Call("ZRANGE", key, "0", "-1", "WITHSCORES")}|{(ttl.StartsWith(":-", StringComparison.Ordinal) ? ttl : "ttl")}|{client.Call("OBJECT", "ENCODING", key)}";
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless; a directory never created is fine too.
        }
    }
}
