using System.Globalization;
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

    /// <summary>
    /// A ZADD that only changes scores in a set in part records (the member count, the buckets and the tree's node numbers
    /// stay) writes its bucket and nodes but not the root record. The key is 8 KiB long, so a root record in the WAL would
    /// take more than the key: such a ZADD grows the WAL by less, one that adds a member by more. The changes survive a
    /// SIGKILL (replay applies the parts alone), and so does the TTL.
    /// </summary>
    [Fact]
    public async Task ScoreChangesInALargeSet_LogNoRoot_AndSurviveSigkill()
    {
        string key = new('k', 8192);
        string before;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--checkpoint-interval", "0"))
        {
            using RespTestClient client = server.Connect();
            string[] members = [.. Enumerable.Range(0, 300).SelectMany(i => new[] { i.ToString(CultureInfo.InvariantCulture), $"m{i:D3}" })];
            Assert.Equal(":300\r\n", client.Call(["ZADD", key, .. members]));
            Assert.Equal(":1\r\n", client.Call("EXPIRE", key, "1000"));
            foreach (string[] change in new[] { new[] { "10.5", "m010" }, new[] { "250.5", "m005" }, new[] { "-1", "m299" } })
            {
                long wal = WalBytes(client);
                Assert.Equal(":0\r\n", client.Call("ZADD", key, change[0], change[1]));
                long grown = WalBytes(client) - wal;
                Assert.True(grown > 0 && grown < key.Length, $"ZADD {change[0]} {change[1]} grew the WAL by {grown} bytes (a root record: more than {key.Length})");
            }

            long beforeAdd = WalBytes(client);
            Assert.Equal(":1\r\n", client.Call("ZADD", key, "7.5", "new"));
            Assert.True(WalBytes(client) - beforeAdd > key.Length, $"adding a member grew the WAL by {WalBytes(client) - beforeAdd} bytes, without its root record");
            before = Snapshot(client, key);
            await server.KillAsync();
        }

        Assert.Contains("$4\r\nm005\r\n$5\r\n250.5\r\n", before, StringComparison.Ordinal);
        Assert.Contains("|ttl|", before, StringComparison.Ordinal);
        Assert.EndsWith("skiplist\r\n", before, StringComparison.Ordinal);
        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always");
        using RespTestClient reader = again.Connect();
        Assert.Equal(before, Snapshot(reader, key));
        Assert.Equal(":301\r\n", reader.Call("ZCARD", key));
    }

    private static long WalBytes(RespTestClient client) => client.InfoNumber("persistence", "durable_wal_bytes");

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
