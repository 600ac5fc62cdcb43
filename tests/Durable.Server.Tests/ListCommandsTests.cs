namespace Durable.Server.Tests;

public sealed class ListCommandsTests(ReferenceServers servers)
{
    /// <summary>HELLO on both connections (their replies differ in the client id).</summary>
    internal static void UseProtocol(ReplyComparison both, string protocol)
    {
        both.Durable.Call("HELLO", protocol);
        both.Redis.Call("HELLO", protocol);
    }

    [Fact]
    public void Push_LenRange_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("LPUSHX", k, "a");
        both.Same("RPUSHX", k, "a");
        both.Same("EXISTS", k);
        both.Same("LPUSH", k, "a", "b", "c");
        both.Same("RPUSH", k, "d", "e", "bin\0\r\n\xff", "");
        both.Same("LPUSHX", k, "x", "y");
        both.Same("RPUSHX", k, "z");
        both.Same("LLEN", k);
        both.Same("TYPE", k);
        both.Same("OBJECT", "ENCODING", k);
        foreach ((string start, string stop) in new[] { ("0", "-1"), ("1", "3"), ("-3", "-1"), ("-100", "100"), ("5", "2"), ("20", "30"), ("0", "0"), ("-1", "-1"), ("x", "1"), ("1", "y"), ("0", "9223372036854775807"), ("-9223372036854775808", "0") })
        {
            both.Same("LRANGE", k, start, stop);
        }

        both.Same("LLEN", k + "missing");
        both.Same("LRANGE", k + "missing", "0", "-1");
        both.Same("LRANGE", k + "missing", "x", "-1");
        both.Same("LPUSH", k);
        both.Same("LLEN", k, "extra");
    }

    [Fact]
    public void WrongType_EveryCommand_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string s = servers.NewPrefix() + "s";
        string l = servers.NewPrefix() + "l";
        both.Same("SET", s, "v");
        both.Same("RPUSH", l, "a");
        string[][] commands =
        [
            ["LPUSH", s, "a"], ["RPUSH", s, "a"], ["LPUSHX", s, "a"], ["RPUSHX", s, "a"], ["LPOP", s], ["RPOP", s, "2"], ["LPOP", s, "x"],
            ["LLEN", s], ["LRANGE", s, "0", "1"], ["LRANGE", s, "x", "1"], ["LINDEX", s, "0"], ["LINDEX", s, "x"], ["LSET", s, "0", "v"],
            ["LSET", s, "x", "v"], ["LINSERT", s, "BEFORE", "a", "b"], ["LINSERT", s, "NEAR", "a", "b"], ["LREM", s, "0", "a"], ["LREM", s, "x", "a"],
            ["LTRIM", s, "0", "1"], ["LTRIM", s, "x", "1"], ["LPOS", s, "a"], ["LPOS", s, "a", "RANK", "0"], ["LMOVE", s, l, "LEFT", "RIGHT"],
            ["LMOVE", l, s, "LEFT", "RIGHT"], ["LMOVE", s, l, "UP", "RIGHT"], ["RPOPLPUSH", s, l], ["RPOPLPUSH", l, s], ["LMPOP", "2", l + "x", s, "LEFT"],
            ["BLPOP", s, "0"], ["BRPOP", l + "x", s, "0"], ["BLMOVE", s, l, "LEFT", "LEFT", "0"], ["BLMOVE", l, s, "LEFT", "LEFT", "0"],
            ["BRPOPLPUSH", s, l, "0"], ["BLMPOP", "0", "1", s, "LEFT"], ["BLPOP", s, "x"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        both.Same("LRANGE", l, "0", "-1");
        both.Same("GET", s);
    }

    [Fact]
    public void Pop_CountsAndNulls_MatchRedisInBothProtocols()
    {
        foreach (string protocol in new[] { "2", "3" })
        {
            using ReplyComparison both = servers.Compare();
            UseProtocol(both, protocol);
            string k = servers.NewPrefix() + "k";
            both.Same("LPOP", k);
            both.Same("RPOP", k);
            both.Same("LPOP", k, "0");
            both.Same("RPOP", k, "3");
            both.Same("LPOP", k, "-1");
            both.Same("LPOP", k, "x");
            both.Same("LPOP", k, "1", "2");
            both.Same("RPUSH", k, "a", "b", "c", "d", "e", "f");
            both.Same("LPOP", k);
            both.Same("RPOP", k);
            both.Same("LPOP", k, "0");
            both.Same("LPOP", k, "2");
            both.Same("RPOP", k, "1");
            both.Same("RPOP", k, "9223372036854775807");
            both.Same("EXISTS", k);
            both.Same("RPUSH", k, "a");
            both.Same("RPOP", k, "-5");
            both.Same("LPOP", k);
            both.Same("LPOP", k);
            both.Same("LMOVE", k, k + "d", "LEFT", "LEFT");
            both.Same("LMPOP", "1", k, "LEFT");
            both.Same("LINDEX", k, "0");
            both.Same("LPOS", k, "a");
            both.Same("LPOS", k, "a", "COUNT", "0");
        }
    }

    [Fact]
    public void IndexSetInsert_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("LINDEX", k, "0");
        both.Same("LINDEX", k, "x");
        both.Same("LSET", k, "0", "v");
        both.Same("LSET", k, "x", "v");
        both.Same("LINSERT", k, "BEFORE", "a", "b");
        both.Same("LINSERT", k, "x", "a", "b");
        both.Same("RPUSH", k, "a", "b", "c", "b");
        foreach (string index in new[] { "0", "3", "4", "-1", "-4", "-5", "x", "9223372036854775807", "-9223372036854775808" })
        {
            both.Same("LINDEX", k, index);
        }

        both.Same("LSET", k, "1", "B");
        both.Same("LSET", k, "-1", "last");
        both.Same("LSET", k, "4", "v");
        both.Same("LSET", k, "-5", "v");
        both.Same("LSET", k, "x", "v");
        both.Same("LINSERT", k, "BEFORE", "a", "first");
        both.Same("LINSERT", k, "after", "last", "end");
        both.Same("LINSERT", k, "AFTER", "c", "mid");
        both.Same("LINSERT", k, "before", "nothere", "x");
        both.Same("LINSERT", k, "middle", "c", "x");
        both.Same("LRANGE", k, "0", "-1");
    }

    [Fact]
    public void RemTrim_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("LREM", k, "0", "a");
        both.Same("LREM", k, "x", "a");
        both.Same("LTRIM", k, "0", "1");
        both.Same("LTRIM", k, "x", "1");
        both.Same("RPUSH", k, "a", "b", "a", "c", "a", "b", "a");
        both.Same("LREM", k, "1", "a");
        both.Same("LREM", k, "-1", "a");
        both.Same("LRANGE", k, "0", "-1");
        both.Same("LREM", k, "0", "b");
        both.Same("LREM", k, "5", "zz");
        both.Same("LREM", k, "-9223372036854775808", "a");
        both.Same("LRANGE", k, "0", "-1");
        both.Same("RPUSH", k, "1", "2", "3", "4", "5", "6");
        both.Same("LTRIM", k, "1", "-2");
        both.Same("LRANGE", k, "0", "-1");
        both.Same("LTRIM", k, "-100", "100");
        both.Same("LTRIM", k, "1", "y");
        both.Same("LRANGE", k, "0", "-1");
        both.Same("LTRIM", k, "3", "1");
        both.Same("EXISTS", k);
        both.Same("RPUSH", k, "a");
        both.Same("LREM", k, "0", "a");
        both.Same("EXISTS", k);
    }

    [Fact]
    public void LPos_Options_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("LPOS", k, "a");
        both.Same("LPOS", k, "a", "COUNT", "2");
        both.Same("LPOS", k, "a", "RANK", "0");
        both.Same("RPUSH", k, "a", "b", "c", "a", "b", "c", "a", "a");
        string[][] options =
        [
            [], ["RANK", "1"], ["RANK", "2"], ["RANK", "-1"], ["RANK", "-3"], ["RANK", "9"], ["RANK", "0"], ["RANK", "x"],
            ["RANK", "-9223372036854775808"], ["RANK", "-9223372036854775808", "COUNT", "1"], ["RANK", "9223372036854775807"],
            ["COUNT", "0"], ["COUNT", "2"], ["COUNT", "-1"], ["COUNT", "x"], ["COUNT", "0", "RANK", "-2"], ["COUNT", "2", "RANK", "2"],
            ["MAXLEN", "0"], ["MAXLEN", "3"], ["MAXLEN", "-1"], ["MAXLEN", "x"], ["MAXLEN", "4", "COUNT", "0"], ["MAXLEN", "2", "RANK", "-1", "COUNT", "0"],
            ["RANK"], ["COUNT", "1", "MAXLEN"], ["FOO", "1"], ["rank", "2", "count", "1", "maxlen", "10"], ["COUNT", "1", "COUNT", "3"],
        ];
        foreach (string[] option in options)
        {
            both.Same(["LPOS", k, "a", .. option]);
            both.Same(["LPOS", k, "zz", .. option]);
        }
    }

    [Fact]
    public void LMoveAndRPopLPush_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("LMOVE", p + "a", p + "b", "LEFT", "RIGHT");
        both.Same("RPOPLPUSH", p + "a", p + "b");
        both.Same("RPUSH", p + "a", "1", "2", "3");
        foreach (string from in new[] { "LEFT", "RIGHT", "left" })
        {
            foreach (string to in new[] { "LEFT", "RIGHT", "right" })
            {
                both.Same("LMOVE", p + "a", p + "b", from, to);
                both.Same("LMOVE", p + "b", p + "a", from, to);
            }
        }

        both.Same("LMOVE", p + "a", p + "b", "LEFT", "UP");
        both.Same("LMOVE", p + "a", p + "b", "DOWN", "LEFT");
        both.Same("LRANGE", p + "a", "0", "-1");
        both.Same("LRANGE", p + "b", "0", "-1");
        both.Same("RPOPLPUSH", p + "a", p + "a");
        both.Same("LMOVE", p + "a", p + "a", "LEFT", "RIGHT");
        both.Same("LRANGE", p + "a", "0", "-1");
        both.Same("RPUSH", p + "one", "x");
        both.Same("LMOVE", p + "one", p + "one", "LEFT", "LEFT");
        both.Same("RPOPLPUSH", p + "one", p + "new");
        both.Same("EXISTS", p + "one");
        both.Same("LRANGE", p + "new", "0", "-1");
    }

    [Fact]
    public void LMPop_ParsingAndReplies_MatchRedisInBothProtocols()
    {
        foreach (string protocol in new[] { "2", "3" })
        {
            using ReplyComparison both = servers.Compare();
            UseProtocol(both, protocol);
            string p = servers.NewPrefix();
            both.Same("RPUSH", p + "b", "1", "2", "3", "4");
            string[][] commands =
            [
                ["LMPOP", "2", p + "a", p + "b", "LEFT"], ["LMPOP", "2", p + "a", p + "b", "RIGHT", "COUNT", "2"],
                ["LMPOP", "1", p + "b", "left", "count", "10"], ["LMPOP", "2", p + "a", p + "b", "LEFT"], ["LMPOP", "0", p + "a", "LEFT"],
                ["LMPOP", "-1", p + "a", "LEFT"], ["LMPOP", "x", p + "a", "LEFT"], ["LMPOP", "3", p + "a", "LEFT"], ["LMPOP", "1", p + "a", "UP"],
                ["LMPOP", "1", p + "a", "LEFT", "COUNT"], ["LMPOP", "1", p + "a", "LEFT", "COUNT", "0"], ["LMPOP", "1", p + "a", "LEFT", "COUNT", "x"],
                ["LMPOP", "1", p + "a", "LEFT", "COUNT", "1", "COUNT", "2"], ["LMPOP", "1", p + "a", "LEFT", "FOO"], ["LMPOP", "1", p + "a"],
                ["LMPOP", "9223372036854775807", p + "a", "LEFT"],
            ];
            foreach (string[] command in commands)
            {
                both.Same(command);
            }
        }
    }

    [Fact]
    public void ModifyingKeepsTtl_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("RPUSH", k, "a", "b", "c");
        both.Same("EXPIRE", k, "1000");
        both.Same("LPUSH", k, "z");
        both.Same("LSET", k, "0", "y");
        both.Same("LPOP", k);
        both.Same("LTRIM", k, "0", "5");
        both.Same("LMOVE", k, k + "other", "LEFT", "LEFT");
        both.Same("TTL", k);
        both.Same("TTL", k + "other");
    }

    [Fact]
    public void CommandInfo_ListCommands_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        foreach (string name in new[] { "lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex", "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop", "blpop", "brpop", "blmove", "brpoplpush", "blmpop" })
        {
            both.Same("COMMAND", "INFO", name);
        }

        both.Same("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT");
        both.Same("COMMAND", "GETKEYS", "BLMPOP", "0", "3", "a", "b", "c", "LEFT", "COUNT", "3");
        both.Same("COMMAND", "GETKEYS", "BLPOP", "a", "b", "0");
        both.Same("COMMAND", "GETKEYS", "BLMOVE", "a", "b", "LEFT", "LEFT", "0");
    }
}
