namespace Durable.Server.Tests;

public sealed class HashCommandsTests(ReferenceServers servers)
{
    private static readonly string s_long64 = new('f', 64);
    private static readonly string s_long65 = new('f', 65);

    [Fact]
    public void SetGetDelete_Basics_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Same("HSET", k, "a", "1", "b", "2", "c", "3");
        both.Same("HSET", k, "b", "20", "d", "4", "a", "10");
        both.Same("HSET", k, "dup", "1", "dup", "2", "b", "21", "b", "22");
        both.Same("HGETALL", k);
        both.Same("HKEYS", k);
        both.Same("HVALS", k);
        both.Same("HLEN", k);
        both.Same("HGET", k, "b");
        both.Same("HGET", k, "zz");
        both.Same("HMGET", k, "a", "zz", "d", "a");
        both.Same("HEXISTS", k, "c");
        both.Same("HEXISTS", k, "C");
        both.Same("HSTRLEN", k, "b");
        both.Same("HSTRLEN", k, "zz");
        both.Same("HSETNX", k, "a", "x");
        both.Same("HSETNX", k, "e", "5");
        both.Same("HMSET", k, "f", "6", "a", "11");
        both.Same("HDEL", k, "b", "zz", "b", "c");
        both.Same("HGETALL", k);
        both.Same("HSET", k, "b", "again");
        both.Same("HGETALL", k);
        both.Same("HDEL", k, "a", "d", "e", "f", "b");
        both.Same("EXISTS", k);
        both.Same("HDEL", k, "a");
        both.Same("HSETNX", k, "new", "1");
        both.Same("HGETALL", k);
        both.Same("TYPE", k);
    }

    [Fact]
    public void MissingKey_EveryCommand_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "missing";
        both.Same("HGET", k, "f");
        both.Same("HMGET", k, "f", "g");
        both.Same("HEXISTS", k, "f");
        both.Same("HLEN", k);
        both.Same("HSTRLEN", k, "f");
        both.Same("HKEYS", k);
        both.Same("HVALS", k);
        both.Same("HGETALL", k);
        both.Same("HDEL", k, "f");
        both.Same("HRANDFIELD", k);
        both.Same("HRANDFIELD", k, "3");
        both.Same("HRANDFIELD", k, "-3", "WITHVALUES");
        both.Same("HSCAN", k, "0");
        both.Same("EXISTS", k);
    }

    [Fact]
    public void BinaryFieldsAndValues_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Same("HSET", k, "", "empty field", "\0", "", "a\r\nb", "\u00ff\u0080", "x y", "\0\0");
        both.Same("HGETALL", k);
        both.Same("HGET", k, "");
        both.Same("HGET", k, "\0");
        both.Same("HSTRLEN", k, "x y");
        both.Same("HEXISTS", k, "\0\0");
        both.Same("HDEL", k, "");
        both.Same("HKEYS", k);
    }

    [Fact]
    public void Errors_ArityAndWrongType_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string s = p + "string";
        both.Same("SET", s, "x");
        both.Same("HSET", p + "h");
        both.Same("HSET", p + "h", "f");
        both.Same("HSET", p + "h", "f", "v", "g");
        both.Same("HMSET", p + "h", "f", "v", "g");
        both.Same("HSET", s, "f", "v", "g");
        both.Same("HSETNX", p + "h", "f");
        both.Same("HGET", p + "h");
        both.Same("HMGET", p + "h");
        both.Same("HDEL", p + "h");
        both.Same("HLEN", p + "h", "x");
        both.Same("HSTRLEN", p + "h");
        both.Same("HKEYS");
        both.Same("HGETALL", p + "h", "x");
        both.Same("HINCRBY", p + "h", "f");
        both.Same("HINCRBYFLOAT", p + "h", "f", "1", "2");
        both.Same("HRANDFIELD");
        both.Same("HSCAN", p + "h");
        both.Same("EXISTS", p + "h");
        string[][] onString =
        [
            ["HSET", s, "f", "v"], ["HMSET", s, "f", "v"], ["HSETNX", s, "f", "v"], ["HGET", s, "f"], ["HMGET", s, "f"],
            ["HDEL", s, "f"], ["HEXISTS", s, "f"], ["HLEN", s], ["HSTRLEN", s, "f"], ["HKEYS", s], ["HVALS", s], ["HGETALL", s],
            ["HINCRBY", s, "f", "1"], ["HINCRBYFLOAT", s, "f", "1"], ["HRANDFIELD", s], ["HRANDFIELD", s, "0"], ["HRANDFIELD", s, "2", "WITHVALUES"],
            ["HSCAN", s, "0"], ["HSCAN", s, "0", "COUNT", "0"],
        ];
        foreach (string[] command in onString)
        {
            both.Same(command);
        }

        both.Same("GET", s);
        both.Same("HSET", p + "h", "f", "v");
        both.Same("GET", p + "h");
        both.Same("INCR", p + "h");
    }

    [Theory]
    [InlineData("HSET", false)]
    [InlineData("HSET", true)]
    [InlineData("HMSET", true)]
    [InlineData("HSETNX", false)]
    [InlineData("HSETNX", true)]
    public void Encoding_LongFieldOrValue_ConvertsLikeRedis(string command, bool longField)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Same("HSET", k, "a", "1");
        both.Same(command, k, longField ? s_long64 : "f", longField ? "v" : s_long64);
        both.Same("OBJECT", "ENCODING", k);
        both.Same(command, k, longField ? s_long65 : "g", longField ? "v" : s_long65);
        both.Same("OBJECT", "ENCODING", k);
        both.Same("HLEN", k);
        AssertSameFields(both, k);
    }

    [Fact]
    public void Encoding_Conversions_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();

        // HSETNX of an existing field is a no-op: no conversion, however long the value.
        both.Same("HSET", p + "nx", "f", "v");
        both.Same("HSETNX", p + "nx", "f", s_long65);
        both.Same("OBJECT", "ENCODING", p + "nx");
        both.Same("HSETNX", p + "new", s_long65, "v");
        both.Same("OBJECT", "ENCODING", p + "new");

        // Counters: a long field, or a float result longer than 64 bytes, converts.
        both.Same("HINCRBY", p + "ci", s_long64, "1");
        both.Same("OBJECT", "ENCODING", p + "ci");
        both.Same("HINCRBY", p + "ci", s_long65, "1");
        both.Same("OBJECT", "ENCODING", p + "ci");
        both.Same("HINCRBYFLOAT", p + "cf", "f", "1e63");
        both.Same("OBJECT", "ENCODING", p + "cf");
        both.Same("HINCRBYFLOAT", p + "cf", "g", "1e64");
        both.Same("OBJECT", "ENCODING", p + "cf");

        // Never back: deleting down to one short field keeps hashtable; deleting the last field drops the key.
        both.Same("HSET", p + "back", "f", s_long65, "g", "1");
        both.Same("HDEL", p + "back", "f");
        both.Same("OBJECT", "ENCODING", p + "back");
        both.Same("HSET", p + "back", "g", "2");
        both.Same("OBJECT", "ENCODING", p + "back");
        both.Same("HDEL", p + "back", "g");
        both.Same("HSET", p + "back", "g", "3");
        both.Same("OBJECT", "ENCODING", p + "back");
        both.Same("OBJECT", "ENCODING", p + "missing");
    }

    /// <summary>redis-server 7.0 without a config file keeps up to 512 entries as listpack (its sample redis.conf says 128).</summary>
    [Fact]
    public void Encoding_MoreThan512Fields_ConvertsLikeRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same(["HMSET", p + "one", .. Fields(0, 511)]);
        both.Same("HSET", p + "one", "f600", "v");
        both.Same("OBJECT", "ENCODING", p + "one");
        both.Same("HGETALL", p + "one");
        both.Same("HSET", p + "one", "f5", "again");
        both.Same("OBJECT", "ENCODING", p + "one");
        both.Same("HSET", p + "one", "f601", "v");
        both.Same("OBJECT", "ENCODING", p + "one");
        both.Same("HLEN", p + "one");
        AssertSameFields(both, p + "one");

        both.Same(["HSET", p + "batch", .. Fields(0, 513)]);
        both.Same("OBJECT", "ENCODING", p + "batch");
        both.Same(["HSET", p + "edge", .. Fields(0, 512)]);
        both.Same("OBJECT", "ENCODING", p + "edge");
        both.Same("HINCRBY", p + "edge", "f0", "1");
        both.Same("OBJECT", "ENCODING", p + "edge");
        both.Same("HINCRBYFLOAT", p + "edge", "extra", "1");
        both.Same("OBJECT", "ENCODING", p + "edge");
        AssertSameFields(both, p + "edge");
    }

    [Fact]
    public void Resp3_Replies_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Redis.Call("HELLO", "3");
        both.Durable.Call("HELLO", "3");
        both.Same("HSET", p + "h", "a", "1", "b", "2");
        both.Same("HGETALL", p + "h");
        both.Same("HGETALL", p + "missing");
        both.Same("HKEYS", p + "h");
        both.Same("HVALS", p + "missing");
        both.Same("HGET", p + "h", "zz");
        both.Same("HMGET", p + "h", "a", "zz");
        both.Same("HMGET", p + "missing", "a");
        both.Same("HINCRBYFLOAT", p + "h", "c", "1.5");
        both.Same("HINCRBY", p + "h", "a", "1");
        both.Same("HRANDFIELD", p + "missing");
        both.Same("HRANDFIELD", p + "missing", "2", "WITHVALUES");
        both.Same("HRANDFIELD", p + "h", "10", "WITHVALUES");
        both.Same("HRANDFIELD", p + "h", "10");
        both.Same("HSCAN", p + "h", "0");
        both.Same("HSCAN", p + "missing", "0");
        both.Same("HMSET", p + "h", "a", "1");
    }

    [Fact]
    public void Writes_KeepTheKeysExpiry()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Same("HSET", k, "a", "1", "b", "2");
        both.Same("PEXPIRE", k, "100000");
        string[][] writes =
        [
            ["HSET", k, "c", "3"], ["HMSET", k, "a", "5"], ["HSETNX", k, "d", "4"], ["HDEL", k, "b"], ["HINCRBY", k, "a", "1"],
            ["HINCRBYFLOAT", k, "a", "0.5"], ["HSET", k, "long", s_long65],
        ];
        foreach (string[] write in writes)
        {
            both.Same(write);
            StringTests.AssertSameTtl(servers, both, k);
        }

        both.Same("HDEL", k, "a", "c", "d", "long");
        both.Same("HSET", k, "a", "1");
        both.Same("TTL", k);
    }

    [Fact]
    public void HashLargerThanARecord_RefusedAndLeftUnchanged()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix() + "h";
        Assert.Equal(":1\r\n", client.Call("HSET", k, "small", "v"));
        string big = new('v', 9 << 20);
        Assert.StartsWith("-ERR value of ", client.Call("HSET", k, "big", big), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value of ", client.Call("HMSET", k, "big", big), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value of ", client.Call("HSETNX", k, "big", big), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value of ", client.Call("HSETNX", k + "new", "big", big), StringComparison.Ordinal);
        Assert.Equal(":0\r\n", client.Call("EXISTS", k + "new"));
        Assert.Equal("*2\r\n$5\r\nsmall\r\n$1\r\nv\r\n", client.Call("HGETALL", k));
        Assert.Equal("$8\r\nlistpack\r\n", client.Call("OBJECT", "ENCODING", k));
    }

    [Fact]
    public async Task KeyspaceHitsAndMisses_CountedLikeRedis()
    {
        await using Durable.Testing.TestServer durable = await Durable.Testing.TestServer.StartAsync();
        await using Durable.Testing.RedisReference redis = await Durable.Testing.RedisReference.StartAsync();
        using ReplyComparison both = new(durable.Connect(), redis.Connect());
        string[][] commands =
        [
            ["HSET", "h", "a", "1"], ["HSETNX", "h", "b", "2"], ["HMSET", "m", "a", "1"], ["HGET", "h", "a"], ["HGET", "x", "a"],
            ["HMGET", "h", "a", "zz"], ["HMGET", "x", "a", "b"], ["HEXISTS", "h", "a"], ["HEXISTS", "x", "a"], ["HLEN", "h"],
            ["HLEN", "x"], ["HSTRLEN", "h", "a"], ["HKEYS", "h"], ["HVALS", "x"], ["HGETALL", "h"], ["HDEL", "m", "a"], ["HDEL", "x", "a"],
            ["HINCRBY", "h", "c", "1"], ["HINCRBYFLOAT", "h", "c", "1"], ["HRANDFIELD", "h"], ["HRANDFIELD", "x", "2"], ["HSCAN", "h", "0"],
            ["HSCAN", "x", "0"], ["HSTRLEN", "x", "a"],
        ];
        foreach (string[] command in commands)
        {
            if (command[0] == "HRANDFIELD")
            {
                durable.Connect().Call(command);
                redis.Connect().Call(command);
            }
            else
            {
                both.Same(command);
            }
        }

        string info = redis.Connect().Call("INFO", "stats");
        Assert.Contains($"keyspace_hits:{durable.State.Stats.KeyspaceHits}\r\n", info, StringComparison.Ordinal);
        Assert.Contains($"keyspace_misses:{durable.State.Stats.KeyspaceMisses}\r\n", info, StringComparison.Ordinal);
    }

    /// <summary>Field, value arguments f{first}, v{first} ... for <paramref name="count"/> fields.</summary>
    internal static IEnumerable<string> Fields(int first, int count) =>
        Enumerable.Range(first, count).SelectMany(i => new[] { $"f{i}", $"v{i}" });

    /// <summary>For a hash whose order is Redis's hash table order: the same field, value pairs, compared as sets.</summary>
    internal static void AssertSameFields(ReplyComparison both, string key) =>
        Assert.Equal(HashReplies.SortedPairs(both.Redis.Call("HGETALL", key)), HashReplies.SortedPairs(both.Durable.Call("HGETALL", key)));
}
