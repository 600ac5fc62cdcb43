using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed partial class ConfigCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void ClientOutputBufferLimit_GetAndSet_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        try
        {
            both.Same("CONFIG", "GET", "client-output-buffer-limit");
            foreach (string value in new[]
            {
                "pubsub 64mb 16mb 90", "replica 1k 2KB 3 slave 5 6 7", "normal 1gb 0 0", "", "normal 1 2", "bogus 1 2 3", "master 1 2 3",
                "normal 1x 2 3", "normal 1 2 -3", "normal 1 2 x", "pubsub 1 2 3 normal 1 2 -1",
            })
            {
                both.Same("CONFIG", "SET", "client-output-buffer-limit", value);
                both.Same("CONFIG", "GET", "client-output-buffer-limit");
            }
        }
        finally
        {
            both.Same("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60");
        }
    }

    [Fact]
    public void Config_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("CONFIG");
        both.Same("CONFIG", "NOSUCH");
        both.Same("CONFIG", "GET");
        both.Same("CONFIG", "SET", "maxclients");
        both.Same("CONFIG", "SET", "maxclients", "10", "timeout");
        both.Same("CONFIG", "SET", "nosuch-option", "1");
        both.Same("CONFIG", "SET", "maxclients", "x");
        both.Same("CONFIG", "SET", "timeout", "0", "timeout", "1");
        both.Same("CONFIG", "SET", "maxclients", "10000", "nosuch", "1");
        both.Same("CONFIG", "REWRITE");
        both.Same("CONFIG", "REWRITE", "x");
        both.Same("CONFIG", "RESETSTAT", "x");
        both.Same("CONFIG", "HELP");
        both.Same("CONFIG", "SET", "appendfsync", "sometimes");
        both.Same("CONFIG", "SET", "appendfsync", "");
        both.Same("CONFIG", "SET", "appendfsync", "everysec", "appendfsync", "no");
        both.Same("CONFIG", "SET", "appendonly", "sometimes");
        both.Same("CONFIG", "GET", "maxmemory");
        both.Same("CONFIG", "GET", "maxmemory-policy");
        both.Same("CONFIG", "SET", "maxmemory", "0");
        both.Same("CONFIG", "SET", "maxmemory", "lots");
        both.Same("CONFIG", "SET", "maxmemory", "-1");
        both.Same("CONFIG", "SET", "maxmemory-policy", "NOEVICTION");
        both.Same("CONFIG", "SET", "maxmemory-policy", "lru");
    }

    [Fact]
    public async Task ConfigSetMaxmemory_AnythingThatWouldEvict_IsRefusedWithTheReason()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        Assert.Equal(
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - Durable does not evict keys: its memory budget is the memory option, and data beyond it is kept on disk\r\n",
            client.Call("CONFIG", "SET", "maxmemory", "100mb"));
        Assert.Equal(
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - Durable does not evict keys: data beyond its memory budget is kept on disk, so noeviction is the only policy\r\n",
            client.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"));
        Assert.Equal("*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n", client.Call("CONFIG", "GET", "maxmemory-policy"));
    }

    [Fact]
    public async Task ConfigSetAppendfsync_TakesEffectAtOnce()
    {
        await using TestServer server = await TestServer.StartAsync(config => config.AppendFsync = "always");
        using RespTestClient client = server.Connect();
        foreach (string policy in new[] { "EVERYSEC", "no", "Always" })
        {
            string name = policy.ToLowerInvariant();
            Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", "appendfsync", policy));
            Assert.Equal($"*2\r\n$11\r\nappendfsync\r\n${name.Length}\r\n{name}\r\n", client.Call("CONFIG", "GET", "appendfsync"));
            Assert.Contains($"\r\ndurable_appendfsync:{name}\r\n", client.Call("INFO", "persistence"), StringComparison.Ordinal);
        }

        Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", "appendonly", "YES"));
        Assert.Equal(
            "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - the write-ahead log cannot be turned off: Durable persists every write through it and its checkpoints\r\n",
            client.Call("CONFIG", "SET", "appendonly", "no"));

        // A multi-parameter SET that fails puts appendfsync back, in the store too.
        Assert.StartsWith("-ERR CONFIG SET failed (possibly related to argument 'maxclients')", client.Call("CONFIG", "SET", "appendfsync", "no", "maxclients", "x"), StringComparison.Ordinal);
        Assert.Contains("\r\ndurable_appendfsync:always\r\n", client.Call("INFO", "persistence"), StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigGet_PatternsAndSeveral_MatchRedisPairs()
    {
        using ReplyComparison both = servers.Compare();
        foreach (string[] patterns in new string[][] { ["maxclients"], ["MAXCLIENTS", "timeout"], ["slowlog-*"], ["slowlog-max-len", "slowlog*"], ["nosuch"] })
        {
            string[] command = ["CONFIG", "GET", .. patterns];
            Assert.Equal(Pairs(both.Redis.Call(command)), Pairs(both.Durable.Call(command)));
        }
    }

    [Fact]
    public async Task Lazyfree_GetSetAndTheCommandsThatFollowThem_MatchRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        Assert.Equal(Pairs(both.Redis.Call("CONFIG", "GET", "lazyfree*")), Pairs(both.Durable.Call("CONFIG", "GET", "lazyfree*")));
        both.Same("CONFIG", "SET", "lazyfree-lazy-user-del", "maybe");
        both.Same("CONFIG", "SET", "lazyfree-lazy-user-del", "YES", "lazyfree-lazy-user-flush", "Yes", "lazyfree-lazy-expire", "yes");
        both.Same("CONFIG", "SET", "lazyfree-lazy-server-del", "yes", "lazyfree-lazy-eviction", "no");
        Assert.Equal(Pairs(both.Redis.Call("CONFIG", "GET", "lazyfree*")), Pairs(both.Durable.Call("CONFIG", "GET", "lazyfree*")));
        for (int i = 0; i < 3; i++)
        {
            both.Same(["HSET", "big", .. Enumerable.Range(0, 1000).SelectMany(f => new[] { $"f{i}-{f}", "v" })]);
        }

        both.Same("SET", "s", "1");
        both.Same("DEL", "big", "s", "none");
        both.Same(["RPUSH", "l", .. Enumerable.Range(0, 3000).Select(e => $"e{e}")]);
        both.Same("UNLINK", "l", "l");
        both.Same("SADD", "x", "a");
        both.Same("FLUSHALL", "ASYNC", "SYNC");
        both.Same("FLUSHDB", "LAZY");
        both.Same("FLUSHALL", "async");
        both.Same("DBSIZE");
        both.Same("SADD", "x", "a");
        both.Same("FLUSHDB");
        both.Same("DBSIZE");
    }

    [Fact]
    public async Task EncodingThresholds_GetSetAndEffect_MatchRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = new(pair.Durable.Connect(), pair.Redis.Connect());
        foreach (string pattern in new[] { "*max-*list*", "*intset*", "list-compress-depth", "hash-max-ziplist-entries" })
        {
            Assert.Equal(Pairs(both.Redis.Call("CONFIG", "GET", pattern)), Pairs(both.Durable.Call("CONFIG", "GET", pattern)));
        }

        both.Same("CONFIG", "SET", "hash-max-listpack-entries", "-1");
        both.Same("CONFIG", "SET", "hash-max-ziplist-entries", "3");
        both.Same("CONFIG", "GET", "hash-max-listpack-entries");
        both.Same("CONFIG", "SET", "hash-max-listpack-value", "4", "set-max-intset-entries", "2", "list-max-listpack-size", "-6");
        both.Same("HSET", "h", "a", "1", "b", "2", "c", "3");
        both.Same("OBJECT", "ENCODING", "h");
        both.Same("HSET", "h", "d", "4");
        both.Same("OBJECT", "ENCODING", "h");
        both.Same("HSET", "long", "f", "12345");
        both.Same("OBJECT", "ENCODING", "long");
        both.Same("SADD", "s", "1", "2");
        both.Same("OBJECT", "ENCODING", "s");
        both.Same("SADD", "s", "3");
        both.Same("OBJECT", "ENCODING", "s");
        SetReplies.SameUnordered(both, "SUNION", "s");
        both.Same("SADD", "t", "5", "4");
        both.Same("SUNIONSTORE", "u", "t");
        both.Same("OBJECT", "ENCODING", "u");
        both.Same("SMEMBERS", "u");

        both.Same("CONFIG", "SET", "zset-max-ziplist-entries", "2", "zset-max-listpack-value", "3");
        both.Same("ZADD", "z", "1", "a", "2", "b");
        both.Same("OBJECT", "ENCODING", "z");
        both.Same("ZADD", "z", "3", "c");
        both.Same("OBJECT", "ENCODING", "z");
        both.Same("ZADD", "zlong", "1", "abcd");
        both.Same("OBJECT", "ENCODING", "zlong");
        both.Same("ZUNIONSTORE", "zsmall", "1", "zlong");
        both.Same("OBJECT", "ENCODING", "zsmall");
        both.Same("ZADD", "zone", "1", "x");
        both.Same("ZRANGESTORE", "zr", "z", "0", "1");
        both.Same("OBJECT", "ENCODING", "zr");
        both.Same("CONFIG", "SET", "zset-max-listpack-entries", "0");
        both.Same("ZADD", "zzero", "1", "x");
        both.Same("OBJECT", "ENCODING", "zzero");
    }

    [Fact]
    public async Task ConfigSet_SeveralPairs_AppliesAllOrNone()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", "slowlog-max-len", "5", "timeout", "300"));
        Assert.Equal("*4\r\n$15\r\nslowlog-max-len\r\n$1\r\n5\r\n$7\r\ntimeout\r\n$3\r\n300\r\n", client.Call("CONFIG", "GET", "slowlog-max-len", "timeout"));
        Assert.Equal(
            "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n",
            client.Call("CONFIG", "SET", "timeout", "7", "maxclients", "lots"));
        Assert.Equal("*2\r\n$7\r\ntimeout\r\n$3\r\n300\r\n", client.Call("CONFIG", "GET", "timeout"));
        Assert.Equal("-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n", client.Call("CONFIG", "SET", "port", "1"));
    }

    [Fact]
    public async Task ConfigRewrite_WithConfigFile_UpdatesLinesAndAppendsChanges()
    {
        string file = Path.Combine(Path.GetTempPath(), $"durable-rewrite-{Guid.NewGuid():N}.conf");
        await File.WriteAllLinesAsync(file, ["# my settings", "maxclients 100", "unknown-to-us yes", "maxclients 150"], TestContext.Current.CancellationToken);
        try
        {
            await using TestServer server = await TestServer.StartAsync(config => config.ConfigFile = file);
            using RespTestClient client = server.Connect();
            Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", "maxclients", "200", "timeout", "7"));
            Assert.Equal("+OK\r\n", client.Call("CONFIG", "REWRITE"));
            string[] lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
            Assert.Equal(["# my settings", "maxclients 200", "unknown-to-us yes"], lines[..3]);
            Assert.Equal("# Generated by CONFIG REWRITE", lines[3]);
            Assert.Contains("timeout 7", lines);
            Assert.DoesNotContain("maxclients 150", lines);
            Assert.Matches(@"^\$\d+\r\n# Server\r\n(.*\r\n)*config_file:" + Regex.Escape(file) + "\r\n", client.Call("INFO", "server"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ConfigResetStat_ClearsCommandStatsStatsAndSlowLog()
    {
        await using TestServer server = await TestServer.StartAsync(config => config.SlowlogSlowerThanMicroseconds = 0);
        using RespTestClient client = server.Connect();
        client.Call("SET", "k", "v");
        client.Call("GET", "k");
        client.Call("NOSUCHCMD");
        Assert.Contains("cmdstat_get:calls=1,", client.Call("INFO", "commandstats"), StringComparison.Ordinal);
        Assert.Contains("errorstat_ERR:count=1\r\n", client.Call("INFO", "errorstats"), StringComparison.Ordinal);
        Assert.NotEqual(":0\r\n", client.Call("SLOWLOG", "LEN"));

        Assert.Equal("+OK\r\n", client.Call("CONFIG", "RESETSTAT"));
        string stats = client.Call("INFO", "commandstats", "errorstats", "stats");
        Assert.DoesNotContain("cmdstat_get", stats, StringComparison.Ordinal);
        Assert.DoesNotContain("errorstat_ERR", stats, StringComparison.Ordinal);
        Assert.Contains("keyspace_hits:0\r\n", stats, StringComparison.Ordinal);
    }

    private static string[] Pairs(string reply)
    {
        string[] values = [.. Regex.Matches(reply, @"\$\d+\r\n([^\r]*)\r\n").Select(m => m.Groups[1].Value)];
        return [.. values.Chunk(2).Select(p => p[0] + "=" + p[1]).Order()];
    }
}
