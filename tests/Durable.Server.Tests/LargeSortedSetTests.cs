using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>
/// Sorted sets large enough to live in part records (thousands of members: a member map and a B+tree), driven by random
/// commands against redis-server, and moved, copied, sorted, scanned, popped by blocked clients and emptied.
/// </summary>
public sealed class LargeSortedSetTests(ReferenceServers servers)
{
    private const int Members = 3000;

    /// <summary>With 200-byte members the tree is three levels deep (leaves of ~15 members, inner nodes of ~17 children).</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(200)]
    public void LargeSortedSet_RandomCommands_SameAsRedis(int padding)
    {
        string pad = new('p', padding);
        using ReplyComparison both = servers.Compare();
        string prefix = servers.NewPrefix();
        string z = prefix + "z";
        string lex = prefix + "lex";
        string dst = prefix + "dst";
        Fill(both, z, lex, pad);
        both.Same("OBJECT", "ENCODING", z);
        both.Same("OBJECT", "ENCODING", lex);

        Random random = new(20261128);
        for (int i = 0; i < 2500; i++)
        {
            string m1 = Member(random.Next(Members + 300)) + pad;
            string m2 = Member(random.Next(Members + 300)) + pad;
            double d1 = (random.Next(640) - 20) / 4.0;
            string s1 = d1.ToString(CultureInfo.InvariantCulture);
            string s2 = Score(random);
            string r1 = (random.Next(2 * Members) - Members).ToString(CultureInfo.InvariantCulture);
            string r2 = (int.Parse(r1, CultureInfo.InvariantCulture) + random.Next(-2, 15)).ToString(CultureInfo.InvariantCulture);
            string offset = random.Next(-1, 20).ToString(CultureInfo.InvariantCulture);
            string count = random.Next(-1, 12).ToString(CultureInfo.InvariantCulture);
            (string low, string high) = Ordered(m1, m2);
            switch (random.Next(26))
            {
                case 0: both.Same("ZADD", z, s1, m1, s2, m2); break;
                case 1: both.Same("ZADD", z, random.Next(2) == 0 ? "GT" : "LT", "CH", s1, m1); break;
                case 2: both.Same("ZADD", z, "XX", "INCR", s1, m1); break;
                case 3: both.Same("ZINCRBY", z, s1, m1); break;
                case 4: both.Same("ZREM", z, m1, m2); break;
                case 5: both.Same("ZSCORE", z, m1); break;
                case 6: both.Same("ZMSCORE", z, m1, m2, "nope"); break;
                case 7: both.Same("ZRANK", z, m1); break;
                case 8: both.Same("ZREVRANK", z, m1); break;
                case 9: both.Same("ZCOUNT", z, s1, "(" + s2); break;
                case 10: both.Same("ZRANGE", z, r1, r2, "WITHSCORES"); break;
                case 11: both.Same("ZRANGE", z, s1, s2, "BYSCORE", "LIMIT", offset, count, "WITHSCORES"); break;
                case 12: both.Same("ZREVRANGEBYSCORE", z, s1, "(" + s2, "LIMIT", offset, count); break;
                case 13: both.Same("ZREVRANGE", z, r1, r2, "WITHSCORES"); break;
                case 14: both.Same("ZRANGESTORE", dst, z, r1, random.Next(20) == 0 ? "-1" : r2); break;
                case 15: both.Same("ZREMRANGEBYRANK", z, r1, r2); break;
                case 16: both.Same("ZREMRANGEBYSCORE", z, s1, "(" + (d1 + 0.75).ToString(CultureInfo.InvariantCulture)); break;
                case 17: both.Same(random.Next(2) == 0 ? "ZPOPMIN" : "ZPOPMAX", z, random.Next(1, 4).ToString(CultureInfo.InvariantCulture)); break;
                case 18: both.Same("ZMPOP", "2", dst, z, random.Next(2) == 0 ? "MIN" : "MAX", "COUNT", "3"); break;
                case 19: both.Same("ZADD", lex, "0", m1, "0", "x" + m2); break;
                case 20: both.Same("ZRANGEBYLEX", lex, "[" + low, "(" + high, "LIMIT", offset, count); break;
                case 21: both.Same("ZREVRANGEBYLEX", lex, "(" + high, "[" + low); break;
                case 22: both.Same("ZLEXCOUNT", lex, "[" + low, "+"); break;
                case 23: both.Same("ZREMRANGEBYLEX", lex, "[" + low, "[" + low + "1"); break;
                case 24: both.Same("ZRANGE", lex, "(" + high, "-", "BYLEX", "REV", "LIMIT", offset, count); break;
                default: both.Same("ZINTERCARD", "2", z, lex, "LIMIT", count.Replace("-1", "0", StringComparison.Ordinal)); break;
            }
        }

        both.Same("ZCARD", z);
        both.Same("ZCARD", lex);
        both.Same("ZRANGE", z, "0", "-1", "WITHSCORES");
        both.Same("ZRANGE", lex, "0", "-1");
        both.Same("ZUNION", "2", z, lex, "WITHSCORES");
        both.Same("ZINTERSTORE", dst, "2", z, lex, "WEIGHTS", "1", "2");
        both.Same("ZRANGE", dst, "0", "-1", "WITHSCORES");
        both.Same("OBJECT", "ENCODING", dst);

        // ZSCAN pages through a large set and returns each member once, with its score.
        Dictionary<string, string> scanned = ScanAll(both.Durable, z);
        Dictionary<string, string> expected = Pairs(both.Redis.Call("ZRANGE", z, "0", "-1", "WITHSCORES"));
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), scanned.OrderBy(p => p.Key, StringComparer.Ordinal));

        // Emptying a large set deletes its key, as Redis does.
        both.Same("ZREMRANGEBYSCORE", lex, "-inf", "+inf");
        both.Same("EXISTS", lex);
        both.Same("ZREMRANGEBYRANK", z, "0", "-1");
        both.Same("EXISTS", z);
    }

    [Fact]
    public void LargeSortedSet_MovedCopiedSortedRandomAndBlockingPops()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string prefix = servers.NewPrefix();
        string z = prefix + "z";
        client.Call(["ZADD", z, .. Enumerable.Range(0, Members).SelectMany(i => new[] { i.ToString(CultureInfo.InvariantCulture), Member(i) })]);
        Assert.Equal("$8\r\nskiplist\r\n", client.Call("OBJECT", "ENCODING", z));

        Assert.Equal("+OK\r\n", client.Call("RENAME", z, prefix + "renamed"));
        Assert.Equal(":1\r\n", client.Call("COPY", prefix + "renamed", prefix + "copy"));
        Assert.Equal(":0\r\n", client.Call("ZADD", prefix + "copy", "-5", Member(7)));
        Assert.Equal(":1\r\n", client.Call("DEL", prefix + "renamed"));
        Assert.Equal("*2\r\n$5\r\nm0007\r\n$2\r\n-5\r\n", client.Call("ZRANGE", prefix + "copy", "0", "0", "WITHSCORES"));
        Assert.Equal(":2999\r\n", client.Call("ZRANK", prefix + "copy", Member(2999)));
        Assert.Equal($":{Members}\r\n", client.Call("ZCARD", prefix + "copy"));

        Assert.Equal(":1\r\n", client.Call("MOVE", prefix + "copy", "3"));
        Assert.Equal("+OK\r\n", client.Call("SELECT", "3"));
        Assert.Equal("$4\r\n1500\r\n", client.Call("ZSCORE", prefix + "copy", Member(1500)));
        Assert.Equal("*2\r\n$5\r\nm0007\r\n$5\r\nm0000\r\n", client.Call("SORT", prefix + "copy", "BY", "nosort", "LIMIT", "0", "2"));
        Assert.Equal("*2\r\n$5\r\nm0000\r\n$5\r\nm0001\r\n", client.Call("SORT", prefix + "copy", "ALPHA", "LIMIT", "0", "2"));
        for (int i = 0; i < 50; i++)
        {
            string member = Bulk(client.Call("ZRANDMEMBER", prefix + "copy"));
            Assert.Matches("^m[0-9]{4}$", member);
        }

        Assert.Equal(20, client.Call("ZRANDMEMBER", prefix + "copy", "20").Split("\r\n$5\r\n").Length - 1);

        // A blocked BZPOPMIN is served from a large set by another client's ZADD to it.
        using Durable.Testing.RespTestClient blocked = servers.Durable.Connect();
        Assert.Equal("+OK\r\n", blocked.Call("SELECT", "3"));
        client.Call(["ZADD", prefix + "wait", .. Enumerable.Range(0, 300).SelectMany(i => new[] { "5", Member(i) })]);
        Assert.Equal(":300\r\n", client.Call("ZREMRANGEBYRANK", prefix + "wait", "0", "-1"));
        blocked.Send("BZPOPMIN", prefix + "wait", "0");
        client.Call(["ZADD", prefix + "wait", .. Enumerable.Range(0, 300).SelectMany(i => new[] { (i % 7).ToString(CultureInfo.InvariantCulture), Member(i) })]);
        Assert.Equal($"*3\r\n${prefix.Length + 4}\r\n{prefix}wait\r\n$5\r\nm0000\r\n$1\r\n0\r\n", blocked.ReadReply());
        Assert.Equal("*2\r\n$5\r\nm0293\r\n$1\r\n6\r\n", client.Call("ZPOPMAX", prefix + "wait"));
        Assert.Equal(":298\r\n", client.Call("ZCARD", prefix + "wait"));
        Assert.Equal(":2\r\n", client.Call("DEL", prefix + "copy", prefix + "wait"));
        Assert.Equal("+OK\r\n", client.Call("SELECT", "0"));
    }

    internal static string Member(int i) => "m" + i.ToString("D4", CultureInfo.InvariantCulture);

    internal static Dictionary<string, string> ScanAll(Durable.Testing.RespTestClient client, string key)
    {
        Dictionary<string, string> found = [];
        string cursor = "0";
        do
        {
            string reply = client.Call("ZSCAN", key, cursor, "COUNT", "100");
            string[] lines = reply.Split("\r\n");
            cursor = lines[2];
            for (int i = 5; i + 3 < lines.Length; i += 4)
            {
                found[lines[i]] = lines[i + 2];
            }
        }
        while (cursor != "0");

        return found;
    }

    private static Dictionary<string, string> Pairs(string reply)
    {
        string[] lines = reply.Split("\r\n");
        Dictionary<string, string> pairs = [];
        for (int i = 2; i + 3 < lines.Length; i += 4)
        {
            pairs[lines[i]] = lines[i + 2];
        }

        return pairs;
    }

    private static void Fill(ReplyComparison both, string z, string lex, string pad)
    {
        for (int start = 0; start < Members; start += 500)
        {
            IEnumerable<int> range = Enumerable.Range(start, 500);
            both.Same(["ZADD", z, .. range.SelectMany(i => new[] { ((i * 7919 % 601) / 4.0).ToString(CultureInfo.InvariantCulture), Member(i) + pad })]);
            both.Same(["ZADD", lex, .. range.SelectMany(i => new[] { "0", Member(i) + pad })]);
        }
    }

    private static string Score(Random random) => ((random.Next(640) - 20) / 4.0).ToString(CultureInfo.InvariantCulture);

    private static (string Low, string High) Ordered(string a, string b) =>
        string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);

    private static string Bulk(string reply)
    {
        Assert.StartsWith("$", reply, StringComparison.Ordinal);
        return reply[(reply.IndexOf('\n', StringComparison.Ordinal) + 1)..^2];
    }
}
