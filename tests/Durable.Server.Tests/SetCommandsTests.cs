using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class SetCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void AddRemoveMembership_IntSet_MatchRedisByteForByte()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "s";
        both.Same("SADD", k, "10", "3", "-7", "3", "0", "9223372036854775807", "-9223372036854775808");
        both.Same("SMEMBERS", k);
        both.Same("SCARD", k);
        both.Same("OBJECT", "ENCODING", k);
        both.Same("TYPE", k);
        both.Same("SADD", k, "3", "10");
        both.Same("SISMEMBER", k, "3");
        both.Same("SISMEMBER", k, "4");
        both.Same("SISMEMBER", k, "03");
        both.Same("SMISMEMBER", k, "3", "4", "-7", "x", "3");
        both.Same("SREM", k, "3", "4", "x", "3");
        both.Same("SMEMBERS", k);
        both.Same("SREM", k, "10", "-7", "0", "9223372036854775807", "-9223372036854775808");
        both.Same("EXISTS", k);
        both.Same("SMEMBERS", k);
        both.Same("SCARD", k);
        both.Same("SREM", k, "1");
        both.Same("SISMEMBER", k, "1");
        both.Same("SMISMEMBER", k, "1", "2");
    }

    [Fact]
    public void Add_NonIntegers_BecomeHashtableForGood()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        // Only what string2ll accepts is an integer: no leading zeros, no '+', no "-0", no spaces, within 64 bits.
        foreach (string member in new[] { "007", "+1", "-0", " 1", "1 ", "1.0", "", "9223372036854775808", "-9223372036854775809", "abc", "1e3" })
        {
            string k = p + "k" + member;
            both.Same("SADD", k, "1", member);
            both.Same("OBJECT", "ENCODING", k);
            SetReplies.SameUnordered(both, "SMEMBERS", k);
            both.Same("SISMEMBER", k, member);
            both.Same("SREM", k, member);
            both.Same("OBJECT", "ENCODING", k);
            both.Same("SMEMBERS", k);
        }

        both.Same("SADD", p + "first", "a", "1", "2");
        both.Same("OBJECT", "ENCODING", p + "first");
        SetReplies.SameUnordered(both, "SMEMBERS", p + "first");
        both.Same("SREM", p + "first", "a");
        both.Same("OBJECT", "ENCODING", p + "first");
        both.Same("OBJECT", "ENCODING", p + "missing");
    }

    [Fact]
    public void IntSet_MoreThan512Members_ConvertsToHashtable()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same(["SADD", p + "a", .. SetReplies.Numbers(1, 512)]);
        both.Same("OBJECT", "ENCODING", p + "a");
        both.Same("SADD", p + "a", "512", "1");
        both.Same("OBJECT", "ENCODING", p + "a");
        both.Same("SMEMBERS", p + "a");
        both.Same("SADD", p + "a", "0");
        both.Same("OBJECT", "ENCODING", p + "a");
        SetReplies.SameUnordered(both, "SMEMBERS", p + "a");
        both.Same(["SREM", p + "a", .. SetReplies.Numbers(1, 500)]);
        both.Same("OBJECT", "ENCODING", p + "a");
        SetReplies.SameUnordered(both, "SMEMBERS", p + "a");
        both.Same("SCARD", p + "a");

        both.Same(["SADD", p + "b", .. SetReplies.Numbers(1, 513)]);
        both.Same("OBJECT", "ENCODING", p + "b");
        both.Same("SCARD", p + "b");
        both.Same(["SADD", p + "c", .. SetReplies.Numbers(1, 511), "x"]);
        both.Same("OBJECT", "ENCODING", p + "c");
    }

    [Fact]
    public void Members_BinarySafe_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "bin";
        both.Same("SADD", k, "a\0b", "a\r\nb", "\xff\xfe", "a\0b");
        both.Same("SCARD", k);
        both.Same("SMISMEMBER", k, "a\0b", "a", "\xff\xfe");
        SetReplies.SameUnordered(both, "SMEMBERS", k);
        both.Same("SREM", k, "a\0b");
        SetReplies.SameUnordered(both, "SMEMBERS", k);

        // The empty member survives the removal of others (an empty array must not pass for a removed slot).
        string e = k + "empty";
        both.Same("SADD", e, "", "x", "y");
        both.Same("SREM", e, "x");
        SetReplies.SameUnordered(both, "SMEMBERS", e);
        both.Same("SISMEMBER", e, "");
        both.Same("SREM", e, "", "y");
        both.Same("EXISTS", e);
    }

    [Fact]
    public void EveryCommand_WrongType_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string str = p + "str";
        string set = p + "set";
        both.Same("SET", str, "v");
        both.Same("SADD", set, "1", "a");
        both.Same("SADD", str, "a");
        both.Same("SREM", str, "a");
        both.Same("SISMEMBER", str, "a");
        both.Same("SMISMEMBER", str, "a");
        both.Same("SMEMBERS", str);
        both.Same("SCARD", str);
        both.Same("SPOP", str);
        both.Same("SPOP", str, "1");
        both.Same("SPOP", str, "0");
        both.Same("SRANDMEMBER", str);
        both.Same("SRANDMEMBER", str, "2");
        both.Same("SRANDMEMBER", str, "0");
        both.Same("SMOVE", str, set, "a");
        both.Same("SMOVE", set, str, "a");
        both.Same("SMOVE", str, str, "a");
        both.Same("SINTER", set, str);
        both.Same("SINTER", p + "missing", str);
        both.Same("SUNION", set, str);
        both.Same("SDIFF", p + "missing", str);
        both.Same("SINTERCARD", "2", p + "missing", str);
        both.Same("SINTERSTORE", p + "d", set, str);
        both.Same("SUNIONSTORE", p + "d", str);
        both.Same("SDIFFSTORE", p + "d", p + "missing", str);
        both.Same("EXISTS", p + "d");
        both.Same("SSCAN", str, "0");
        both.Same("SSCAN", str, "0", "COUNT", "0");
        both.Same("GET", str);
        SetReplies.SameUnordered(both, "SMEMBERS", set);
    }

    [Fact]
    public void Arity_WrongArgumentCounts_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SADD", k);
        both.Same("SREM", k);
        both.Same("SISMEMBER", k);
        both.Same("SISMEMBER", k, "a", "b");
        both.Same("SMISMEMBER", k);
        both.Same("SMEMBERS");
        both.Same("SMEMBERS", k, k);
        both.Same("SCARD");
        both.Same("SMOVE", k, k);
        both.Same("SPOP");
        both.Same("SPOP", k, "1", "2");
        both.Same("SRANDMEMBER");
        both.Same("SRANDMEMBER", k, "1", "2");
        both.Same("SINTER");
        both.Same("SINTERCARD", "1");
        both.Same("SINTERSTORE", k);
        both.Same("SUNIONSTORE", k);
        both.Same("SDIFFSTORE", k);
        both.Same("SSCAN", k);
    }

    [Fact]
    public void SMove_AllCases_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string src = p + "src";
        string dst = p + "dst";
        both.Same("SET", p + "str", "v");
        both.Same("SADD", src, "1", "2", "3");
        both.Same("SMOVE", p + "missing", p + "str", "1");
        both.Same("SMOVE", p + "missing", p + "missing", "1");
        both.Same("SMOVE", src, p + "str", "1");
        both.Same("SMOVE", src, p + "str", "9");
        both.Same("SMOVE", src, src, "1");
        both.Same("SMOVE", src, src, "9");
        both.Same("SMOVE", src, dst, "9");
        both.Same("EXISTS", dst);
        both.Same("SMOVE", src, dst, "1");
        both.Same("SMEMBERS", src);
        both.Same("SMEMBERS", dst);
        both.Same("OBJECT", "ENCODING", dst);
        both.Same("SADD", dst, "2");
        both.Same("SMOVE", src, dst, "2");
        both.Same("SMEMBERS", dst);
        both.Same("SMOVE", src, dst, "3");
        both.Same("EXISTS", src);
        both.Same("SMEMBERS", dst);
        both.Same("SADD", src, "x");
        both.Same("SMOVE", src, dst, "x");
        both.Same("OBJECT", "ENCODING", dst);
        SetReplies.SameUnordered(both, "SMEMBERS", dst);
        both.Same("SMOVE", dst, p + "new", "x");
        both.Same("OBJECT", "ENCODING", p + "new");
        both.Same("OBJECT", "ENCODING", dst);
    }

    [Fact]
    public void Changes_KeepTheExpiry_StoreFormsDropIt()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SADD", p + "a", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
        both.Same("EXPIRE", p + "a", "1000");
        both.Same("SADD", p + "a", "11");
        both.Same("SREM", p + "a", "11");
        both.Same("SADD", p + "b", "x");
        both.Same("EXPIRE", p + "b", "2000");
        both.Same("SMOVE", p + "a", p + "b", "10");
        StringTests.AssertSameTtl(servers, both, p + "a");
        StringTests.AssertSameTtl(servers, both, p + "b");

        // Random pops (different members on each server), then a pop that rebuilds the remaining set: all keep the TTL.
        foreach (RespTestClient client in new[] { both.Durable, both.Redis })
        {
            client.Call("SPOP", p + "a");
            client.Call("SPOP", p + "a", "1");
            client.Call("SPOP", p + "a", "6");
        }

        both.Same("SCARD", p + "a");
        StringTests.AssertSameTtl(servers, both, p + "a");
        both.Same("OBJECT", "ENCODING", p + "a");

        both.Same("SUNIONSTORE", p + "b", p + "a", p + "b");
        StringTests.AssertSameTtl(servers, both, p + "b");
        both.Same("EXPIRE", p + "b", "2000");
        both.Same("SINTERSTORE", p + "b", p + "b");
        StringTests.AssertSameTtl(servers, both, p + "b");
    }

    [Fact]
    public void Resp3_ReplyShapes_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        string p = servers.NewPrefix();
        both.Same("SADD", p + "i", "3", "1", "2");
        both.Same("SADD", p + "j", "2", "3", "4");
        both.Same("SMEMBERS", p + "i");
        both.Same("SMEMBERS", p + "missing");
        both.Same("SMISMEMBER", p + "i", "1", "5");
        both.Same("SISMEMBER", p + "i", "1");
        both.Same("SINTER", p + "i", p + "j");
        both.Same("SINTER", p + "i", p + "missing");
        both.Same("SUNION", p + "i", p + "j");
        both.Same("SUNION", p + "missing");
        both.Same("SDIFF", p + "i", p + "j");
        both.Same("SDIFF", p + "missing", p + "i");
        both.Same("SINTERCARD", "2", p + "i", p + "j");
        both.Same("SSCAN", p + "i", "0");
        both.Same("SSCAN", p + "missing", "0");
        both.Same("SPOP", p + "missing");
        both.Same("SPOP", p + "missing", "3");
        both.Same("SPOP", p + "i", "0");
        both.Same("SRANDMEMBER", p + "missing");
        both.Same("SRANDMEMBER", p + "missing", "3");
        both.Same("SRANDMEMBER", p + "i", "0");
        both.Same("SRANDMEMBER", p + "i", "5");
        both.Same("SPOP", p + "j", "5");
        both.Same("SADD", p + "h", "a");
        both.Same("SMEMBERS", p + "h");
        both.Same("SPOP", p + "h", "1");
        both.Same("SADD", p + "h", "a");
        both.Same("SPOP", p + "h");
    }

    [Fact]
    public async Task KeyspaceStats_CountedAsRedisCounts()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("SADD", "a", "1", "2");
        both.Same("SADD", "b", "2", "x");
        both.Same("CONFIG", "RESETSTAT");
        string[][] commands =
        [
            ["SISMEMBER", "a", "1"], ["SISMEMBER", "none", "1"], ["SMISMEMBER", "a", "1"], ["SMEMBERS", "none"], ["SCARD", "a"],
            ["SRANDMEMBER", "none"], ["SRANDMEMBER", "a", "5"], ["SINTER", "a", "b", "none"], ["SUNIONSTORE", "d", "a", "none"],
            ["SDIFFSTORE", "d", "a", "b"], ["SINTERCARD", "2", "a", "none"], ["SSCAN", "a", "0"], ["SADD", "a", "3"], ["SREM", "a", "3"],
            ["SMOVE", "a", "b", "1"], ["SPOP", "none"], ["SPOP", "b", "0"],
        ];
        foreach (string[] command in commands)
        {
            both.Durable.Call(command);
            both.Redis.Call(command);
        }

        Assert.Equal(Stats(both.Redis), Stats(both.Durable));
    }

    [Fact]
    public async Task Add_PastTheRecordLimit_ErrorsAndChangesNothing()
    {
        await using TestServer server = await TestServer.StartAsync(c => c.MemoryBytes = 4L << 20);
        using RespTestClient client = server.Connect();
        // A record holds about 128 KiB here (a 32nd of memory): four of these members fit, five do not.
        string big = new('m', 30_000);
        Assert.Equal(":1\r\n", client.Call("SADD", "s", "small"));
        string[] many = [.. Enumerable.Range(0, 10).Select(i => big + i.ToString(CultureInfo.InvariantCulture))];
        foreach (string member in many[..4])
        {
            Assert.Equal(":1\r\n", client.Call("SADD", "s", member));
        }

        // One member at a time: a request of several bulks past 64 KiB stalls the connection (a protocol-layer bug).
        Assert.StartsWith("-ERR value of ", client.Call("SADD", "s", many[4]), StringComparison.Ordinal);
        Assert.Equal(":5\r\n", client.Call("SCARD", "s"));
        foreach (string member in many[..8])
        {
            Assert.Equal(member[^1] < '4' ? ":1\r\n" : ":0\r\n", client.Call("SREM", "s", member));
            Assert.Equal(":1\r\n", client.Call("SADD", member[^1] < '4' ? "t" : "u", member));
        }

        Assert.StartsWith("-ERR value of ", client.Call("SUNIONSTORE", "s", "t", "u"), StringComparison.Ordinal);
        Assert.Equal(":1\r\n", client.Call("SCARD", "s"));
        Assert.Equal(":1\r\n", client.Call("SISMEMBER", "s", "small"));
        Assert.StartsWith("-ERR value of ", client.Call("SMOVE", "t", "u", many[0]), StringComparison.Ordinal);
        Assert.Equal(":4\r\n", client.Call("SCARD", "t"));
        Assert.Equal(":4\r\n", client.Call("SCARD", "u"));
        Assert.Equal(":1\r\n", client.Call("SMOVE", "t", "s", many[0]));
        Assert.Equal(":2\r\n", client.Call("SCARD", "s"));
    }

    private static string Stats(RespTestClient client)
    {
        string info = client.Call("INFO", "stats");
        return string.Join(' ', info.Split("\r\n").Where(line => line.StartsWith("keyspace_", StringComparison.Ordinal)));
    }
}
