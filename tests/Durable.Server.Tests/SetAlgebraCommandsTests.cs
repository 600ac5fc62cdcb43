namespace Durable.Server.Tests;

public sealed class SetAlgebraCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void InterUnionDiff_IntSets_MatchRedisByteForByte()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string a = p + "a";
        string b = p + "b";
        string c = p + "c";
        both.Same("SADD", a, "1", "2", "3", "4", "5", "-1");
        both.Same("SADD", b, "4", "5", "6", "-1");
        both.Same("SADD", c, "5", "100", "-1");
        foreach (string command in new[] { "SINTER", "SUNION", "SDIFF" })
        {
            both.Same(command, a);
            both.Same(command, a, b);
            both.Same(command, b, a);
            both.Same(command, a, b, c);
            both.Same(command, c, b, a);
            both.Same(command, a, a);
            both.Same(command, a, p + "missing");
            both.Same(command, p + "missing", a);
            both.Same(command, p + "missing");
        }
    }

    [Fact]
    public void InterUnionDiff_Hashtables_MatchRedisAsSets()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string a = p + "a";
        string b = p + "b";
        string i = p + "i";
        both.Same("SADD", a, "x", "y", "z", "1", "2");
        both.Same("SADD", b, "y", "z", "w", "2", "3");
        both.Same("SADD", i, "1", "2", "3", "4");
        foreach (string command in new[] { "SINTER", "SUNION", "SDIFF" })
        {
            SetReplies.SameUnordered(both, command, a, b);
            SetReplies.SameUnordered(both, command, b, a, i);
            SetReplies.SameUnordered(both, command, i, a);
            SetReplies.SameUnordered(both, command, a, i);
            SetReplies.SameUnordered(both, command, a, a);
        }

        // SINTER walks its smallest set (an intset here); SDIFF replies with the set it builds, an intset when it can be.
        both.Same("SINTER", i, a, b);
        both.Same("SDIFF", i, a);
        both.Same("SINTERCARD", "2", a, b);
        both.Same("SINTERCARD", "3", a, b, i);
    }

    [Fact]
    public void StoreForms_OverwriteAnyTypeAndDeleteWhenEmpty()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string a = p + "a";
        string b = p + "b";
        string d = p + "d";
        both.Same("SADD", a, "1", "2", "3");
        both.Same("SADD", b, "3", "4", "x");
        both.Same("SET", d, "string");
        both.Same("EXPIRE", d, "1000");
        both.Same("SINTERSTORE", d, a, b);
        both.Same("TYPE", d);
        both.Same("TTL", d);
        both.Same("SMEMBERS", d);
        both.Same("OBJECT", "ENCODING", d);
        both.Same("SUNIONSTORE", d, a, b);
        both.Same("OBJECT", "ENCODING", d);
        SetReplies.SameUnordered(both, "SMEMBERS", d);
        both.Same("SDIFFSTORE", d, a, b);
        both.Same("OBJECT", "ENCODING", d);
        both.Same("SMEMBERS", d);
        both.Same("SDIFFSTORE", d, b, a);
        both.Same("OBJECT", "ENCODING", d);
        SetReplies.SameUnordered(both, "SMEMBERS", d);

        // The destination may be a source too.
        both.Same("SUNIONSTORE", a, a, b);
        SetReplies.SameUnordered(both, "SMEMBERS", a);
        both.Same("SINTERSTORE", a, a, p + "missing");
        both.Same("EXISTS", a);

        both.Same("SET", d, "string");
        both.Same("SINTERSTORE", d, b, p + "missing");
        both.Same("EXISTS", d);
        both.Same("SET", d, "string");
        both.Same("SDIFFSTORE", d, b, b);
        both.Same("EXISTS", d);
        both.Same("SET", d, "string");
        both.Same("SUNIONSTORE", d, p + "missing");
        both.Same("EXISTS", d);
        both.Same("SDIFFSTORE", d, p + "missing", b);
        both.Same("SINTERSTORE", p + "missing", p + "missing");
    }

    [Fact]
    public void StoreForms_LargeIntegerResults_EncodeAsRedisDoes()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string[] many = SetReplies.Numbers(1, 600);
        both.Same(["SADD", p + "big", .. many]);
        both.Same("OBJECT", "ENCODING", p + "big");
        both.Same("SADD", p + "few", "5", "10", "700");
        both.Same("SINTERSTORE", p + "d", p + "big", p + "few");
        both.Same("OBJECT", "ENCODING", p + "d");
        both.Same("SMEMBERS", p + "d");
        both.Same("SUNIONSTORE", p + "d", p + "big", p + "few");
        both.Same("OBJECT", "ENCODING", p + "d");
        both.Same(["SREM", p + "big", .. many[20..]]);
        both.Same("SDIFFSTORE", p + "d", p + "big", p + "few");
        both.Same("OBJECT", "ENCODING", p + "d");
        both.Same("SMEMBERS", p + "d");
        both.Same("SUNION", p + "big");
        both.Same("SDIFF", p + "big", p + "few");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("x")]
    [InlineData("")]
    [InlineData("1.5")]
    [InlineData("3")]
    [InlineData("9223372036854775807")]
    [InlineData("99999999999999999999")]
    public void SInterCard_BadNumKeys_ErrorsMatchRedis(string numKeys)
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SINTERCARD", numKeys, p + "a", p + "b");
        both.Same("SINTERCARD", numKeys, p + "a", p + "b", "LIMIT", "-1");
    }

    [Fact]
    public void SInterCard_LimitAndOptions_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string a = p + "a";
        string b = p + "b";
        both.Same("SADD", a, "1", "2", "3", "4", "x", "y");
        both.Same("SADD", b, "2", "3", "4", "y", "z");
        both.Same("SET", p + "str", "v");
        both.Same("SINTERCARD", "1", a);
        both.Same("SINTERCARD", "2", a, b);
        both.Same("SINTERCARD", "2", a, b, "LIMIT", "0");
        both.Same("SINTERCARD", "2", a, b, "LIMIT", "2");
        both.Same("SINTERCARD", "2", a, b, "limit", "100");
        both.Same("SINTERCARD", "2", a, b, "LIMIT", "1", "LIMIT", "3");
        both.Same("SINTERCARD", "2", a, b, "LIMIT", "-1");
        both.Same("SINTERCARD", "2", a, b, "LIMIT", "x");
        both.Same("SINTERCARD", "2", a, b, "LIMIT");
        both.Same("SINTERCARD", "2", a, b, "LIMIT", "2", "junk");
        both.Same("SINTERCARD", "2", a, b, "FOO", "1");
        both.Same("SINTERCARD", "1", a, b);
        both.Same("SINTERCARD", "2", a, p + "missing");
        both.Same("SINTERCARD", "2", p + "missing", p + "str");
        both.Same("SINTERCARD", "2", p + "str", a, "LIMIT", "-1");
        both.Same("SINTERCARD", "2", p + "str", a, "BAD");
    }

    [Fact]
    public void SInterCard_KeyPositions_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b");
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", "1", "a", "LIMIT", "5");
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", "2abc", "a", "b");
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", " 1", "a", "b");
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", "4294967297", "a", "b");
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", "0", "a", "b");
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", "3", "a", "b");
        both.Same("COMMAND", "GETKEYS", "SINTERCARD", "-1", "a", "b");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "SINTERCARD", "2", "a", "b");
        both.Same("COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "SUNIONSTORE", "d", "a", "b");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "SMOVE", "s", "d", "m");
        foreach (string command in new[] { "SADD", "SREM", "SISMEMBER", "SMISMEMBER", "SMEMBERS", "SCARD", "SPOP", "SRANDMEMBER", "SMOVE", "SINTER", "SINTERCARD", "SINTERSTORE", "SUNION", "SUNIONSTORE", "SDIFF", "SDIFFSTORE", "SSCAN" })
        {
            both.Same("COMMAND", "INFO", command);
            both.Same("COMMAND", "DOCS", command);
        }
    }
}
