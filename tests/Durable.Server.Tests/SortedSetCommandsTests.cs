namespace Durable.Server.Tests;

public sealed class SortedSetCommandsTests(ReferenceServers servers)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ZAdd_OptionsAndReplies_MatchRedis(bool resp3) => SortedSetScript.Run(
        servers,
        resp3,
        "ZADD {k} 1 a 2 b 3 c",
        "ZADD {k} NX XX 1 a",
        "ZADD {k} GT LT 1 a",
        "ZADD {k} NX GT 1 a",
        "ZADD {k} NX LT 1 a",
        "ZADD {k} INCR 1 a 2 b",
        "ZADD {k} 1 a 2",
        "ZADD {k} CH 1",
        "ZADD {k} x a",
        "ZADD {k} nan a",
        "ZADD {k} XX NX 1 a 2",
        "ZADD {k} GT CH 0 a 5 b 7 new",
        "ZADD {k} LT CH 0 a 9 b",
        "ZADD {k} XX CH 10 a 10 nope",
        "ZADD {k} NX CH 10 a 10 nope2",
        "ZADD {k} XX INCR 1 missing",
        "ZADD {k} NX INCR 1 a",
        "ZADD {k} GT INCR -1 a",
        "ZADD {k} LT INCR -1 a",
        "ZADD {k} INCR 0 a",
        "ZADD {k} INCR inf a",
        "ZADD {k} INCR -inf a",
        "ZADD {k} INCR +inf a",
        "ZINCRBY {k} 1 a",
        "ZINCRBY {k} x a",
        "ZINCRBY {k} nan a",
        "ZINCRBY {k} 2.5 fresh",
        "ZINCRBY {k} nx 1",
        "ZINCRBY {k} GT a",
        "ZINCRBY {k} incr ch",
        "ZINCRBY {k} 1 xx",
        "ZINCRBY {none} ch 1",
        "ZADD {k} 1 d 1 d 2 d",
        "ZADD {k} CH 5 d 5 d",
        "ZADD {k} incr ch 1 d",
        "ZRANGE {k} 0 -1 WITHSCORES",
        "ZADD {none} XX 1 a",
        "ZADD {none} XX INCR 1 a",
        "EXISTS {none}",
        "SET {s} x",
        "ZADD {s} 1 a",
        "ZADD {s} x a",
        "ZADD {s} NX XX 1 a",
        "ZINCRBY {s} 1 a",
        "ZINCRBY {s} y a",
        "ZINCRBY {s} LT a",
        "ZCARD {s}",
        "ZCARD {k}",
        "ZCARD {none}");

    [Fact]
    public void Scores_ParsedAndPrintedAsRedis70() => SortedSetScript.Run(
        servers,
        false,
        "ZADD {k} 0.1 a 1e20 b 3.0 c -0.0 d inf e -inf f 1.5e-7 g 123456789012345678 h 0.3 i 1e16 j 1e17 l 1e15 m 4503599627370496 n 1e-5 o 1e-4 p",
        "ZRANGE {k} 0 -1 WITHSCORES",
        "ZSCORE {k} d",
        "ZMSCORE {k} a b c d x",
        "ZSCAN {k} 0",
        "ZADD {k} 1e400 z",
        "ZADD {k} 1e-400 z",
        "ZADD {k} \\s1 z",
        "ZADD {k} 1\\s z",
        "ZADD {k} '' z",
        "ZADD {k} 0x10 z",
        "ZSCORE {k} z",
        "ZADD {k} 0x1.8p1 y",
        "ZSCORE {k} y",
        "ZADD {k} 0x z",
        "ZADD {k} 1e z",
        "ZADD {k} .5 z",
        "ZADD {k} 5. z",
        "ZADD {k} +5 z",
        "ZADD {k} infinity z",
        "ZADD {k} -Infinity z",
        "ZADD {k} INF z",
        "ZADD {k} 1e308 z",
        "ZADD {k} 4.9e-324 z",
        "ZSCORE {k} z",
        "ZADD {k} 0.1e-306 z",
        "ZSCORE {k} z",
        "ZADD {k} 1,5 z",
        "ZADD {k} 1_0 z",
        "ZADD {k} 12345678901234567890123 z",
        "ZSCORE {k} z",
        "ZADD {k} 0.000000000000000000000000000001234 z",
        "ZSCORE {k} z",
        "ZADD {k} -123.456e-3 z",
        "ZSCORE {k} z",
        "ZINCRBY {k} 0.1 a",
        "ZINCRBY {k} 0.2 a",
        "ZINCRBY {k} -0.0 newmember",
        "ZSCORE {k} newmember",
        "ZINCRBY {z} -0.0 m",
        "ZSCORE {z} m",
        "ZADD {z} INCR -0.0 n",
        "ZRANGE {z} 0 -1 WITHSCORES");

    [Fact]
    public void NegativeZero_KeptOnlyBySkiplist() => SortedSetScript.Run(
        servers,
        false,
        "ZADD {k} 1 " + new string('m', 65),
        "OBJECT ENCODING {k}",
        "ZADD {k} -0.0 neg",
        "ZSCORE {k} neg",
        "~ ZSCAN {k} 0",
        "ZADD {k} 100000000000000000 big",
        "~ ZSCAN {k} 0",
        "ZADD {l} 100000000000000000 big 2.5 half",
        "ZSCAN {l} 0",
        "ZUNION 1 {l} WEIGHTS -0.0 WITHSCORES",
        "ZUNIONSTORE {d} 1 {l} WEIGHTS -0.0",
        "ZRANGE {d} 0 -1 WITHSCORES");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadCommands_MatchRedis(bool resp3) => SortedSetScript.Run(
        servers,
        resp3,
        "ZADD {k} 1 a 2 b 3 c 4 d 5 e 5 f",
        "ZSCORE {k} a",
        "ZSCORE {k} nope",
        "ZSCORE {none} a",
        "ZMSCORE {k} a nope f",
        "ZMSCORE {none} a b",
        "ZRANK {k} a",
        "ZRANK {k} f",
        "ZRANK {k} nope",
        "ZREVRANK {k} a",
        "ZREVRANK {k} f",
        "ZRANK {none} a",
        "ZRANK {k} a WITHSCORE",
        "ZCOUNT {k} -inf +inf",
        "ZCOUNT {k} (1 (5",
        "ZCOUNT {k} 5 1",
        "ZCOUNT {k} x 1",
        "ZCOUNT {none} x 1",
        "ZCOUNT {none} 1 2",
        "ZLEXCOUNT {k} - +",
        "ZLEXCOUNT {k} [a (c",
        "ZLEXCOUNT {k} a c",
        "ZLEXCOUNT {none} a c",
        "SET {s} x",
        "ZSCORE {s} a",
        "ZMSCORE {s} a",
        "ZRANK {s} a",
        "ZREVRANK {s} a",
        "ZCOUNT {s} 1 2",
        "ZCOUNT {s} x 2",
        "ZLEXCOUNT {s} - +",
        "ZLEXCOUNT {s} x +",
        "ZREM {s} a",
        "ZREM {none} a",
        "ZREM {k} a nope a b",
        "ZREM {k} c d e f",
        "EXISTS {k}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ranges_MatchRedis(bool resp3) => SortedSetScript.Run(
        servers,
        resp3,
        "ZADD {k} 1 a 2 b 3 c 4 d 5 e",
        "ZRANGE {k} 0 -1",
        "ZRANGE {k} 0 -1 WITHSCORES",
        "ZRANGE {k} -100 100",
        "ZRANGE {k} 3 1",
        "ZRANGE {k} 5 10",
        "ZRANGE {k} -2 -1 WITHSCORES",
        "ZRANGE {k} 0 -1 REV WITHSCORES",
        "ZRANGE {k} 1 2 REV",
        "ZRANGE {k} 5 1 BYSCORE REV",
        "ZRANGE {k} 1 5 BYSCORE REV",
        "ZRANGE {k} (1 3 BYSCORE WITHSCORES LIMIT 0 1",
        "ZRANGE {k} -inf +inf BYSCORE LIMIT 1 2 REV WITHSCORES",
        "ZRANGE {k} 0 -1 LIMIT 0 1",
        "ZRANGE {k} 0 -1 LIMIT 0 -1",
        "ZRANGE {k} 0 -1 LIMIT -1 -2",
        "ZRANGE {k} 0 -1 BYSCORE BYLEX",
        "ZRANGE {k} [a [c BYLEX WITHSCORES",
        "ZRANGE {k} [a [c BYLEX",
        "ZRANGE {k} [c [a BYLEX REV",
        "ZRANGE {k} + - BYLEX REV LIMIT 1 2",
        "ZRANGE {k} 0 x",
        "ZRANGE {k} x 1 BYSCORE",
        "ZRANGE {k} 0 -1 WITHSCORES WITHSCORES",
        "ZRANGE {k} 0 -1 REV REV",
        "ZRANGE {k} 0 -1 FOO",
        "ZRANGE {k} 0 -1 LIMIT x 1 BYLEX",
        "ZRANGE {k} 0 1 LIMIT 0 1 WITHSCORES BYLEX",
        "ZRANGE {k} 0 -1 LIMIT 1",
        "ZRANGE {none} 0 -1",
        "ZRANGEBYSCORE {k} (1 (5",
        "ZRANGEBYSCORE {k} ( 5",
        "ZRANGEBYSCORE {k} '' 5",
        "ZRANGEBYSCORE {k} \\s\\s 5",
        "ZRANGEBYSCORE {k} \\s1 5",
        "ZRANGEBYSCORE {k} 1\\s 5",
        "ZRANGEBYSCORE {k} x 5",
        "ZRANGEBYSCORE {k} nan 5",
        "ZRANGEBYSCORE {k} (nan 5",
        "ZRANGEBYSCORE {k} 1e400 5",
        "ZRANGEBYSCORE {k} -1e400 1e-400",
        "ZRANGEBYSCORE {k} 0x1 0x4",
        "ZRANGEBYSCORE {k} -inf +inf LIMIT 1 2",
        "ZRANGEBYSCORE {k} -inf +inf LIMIT -1 2",
        "ZRANGEBYSCORE {k} -inf +inf LIMIT 1 -1",
        "ZRANGEBYSCORE {k} -inf +inf LIMIT 1 0",
        "ZRANGEBYSCORE {k} -inf +inf LIMIT 10 1",
        "ZRANGEBYSCORE {k} -inf +inf LIMIT x 1",
        "ZRANGEBYSCORE {k} -inf +inf WITHSCORES LIMIT 1 1 WITHSCORES",
        "ZRANGEBYSCORE {k} -inf +inf REV",
        "ZRANGEBYSCORE {k} 1 5 LIMIT 0 1 LIMIT 1 1",
        "ZREVRANGEBYSCORE {k} 5 1 LIMIT 1 2 WITHSCORES",
        "ZREVRANGEBYSCORE {k} (5 (1",
        "ZREVRANGEBYSCORE {k} 1 5",
        "ZRANGEBYLEX {k} - +",
        "ZRANGEBYLEX {k} [a (c",
        "ZRANGEBYLEX {k} a c",
        "ZRANGEBYLEX {k} [a +c",
        "ZRANGEBYLEX {k} '' +",
        "ZRANGEBYLEX {k} + -",
        "ZRANGEBYLEX {k} - + WITHSCORES",
        "ZRANGEBYLEX {k} - + LIMIT 0 2",
        "ZRANGEBYLEX {k} - + BYLEX",
        "ZREVRANGEBYLEX {k} + - LIMIT 0 2",
        "ZREVRANGEBYLEX {k} (e [b",
        "ZREVRANGE {k} 0 1 WITHSCORES",
        "ZREVRANGE {k} 0 1 LIMIT 0 1",
        "ZREVRANGE {k} -1 -1",
        "SET {s} x",
        "ZRANGE {s} 0 -1",
        "ZRANGE {s} x 1",
        "ZRANGEBYSCORE {s} x 1",
        "ZRANGEBYLEX {s} - +",
        "ZREVRANGE {s} 0 1");

    [Fact]
    public void RangeStoreAndRemoveRange_MatchRedis() => SortedSetScript.Run(
        servers,
        false,
        "ZADD {k} 1 a 2 b 3 c 4 d 5 e",
        "ZRANGESTORE {d} {k} 0 -1 WITHSCORES",
        "ZRANGESTORE {d} {k} 0 1",
        "ZRANGE {d} 0 -1 WITHSCORES",
        "ZRANGESTORE {d} {k} 0 0 BYLEX",
        "ZRANGESTORE {d} {k} [a [b BYLEX",
        "ZRANGESTORE {d} {k} 0 -1 REV",
        "ZRANGE {d} 0 -1 WITHSCORES",
        "ZRANGESTORE {d} {k} (1 +inf BYSCORE LIMIT 0 1",
        "ZRANGE {d} 0 -1 WITHSCORES",
        "ZRANGESTORE {d} {k} +inf (1 BYSCORE REV LIMIT 1 2",
        "ZRANGE {d} 0 -1 WITHSCORES",
        "ZRANGESTORE {d} {none} 0 -1",
        "EXISTS {d}",
        "SET {s} x",
        "ZRANGESTORE {d} {s} 0 -1",
        "ZRANGESTORE {s} {k} 0 -1",
        "TYPE {s}",
        "SET {s2} x",
        "EXPIRE {s2} 100",
        "ZRANGESTORE {s2} {k} 0 1",
        "TTL {s2}",
        "ZREMRANGEBYRANK {k} 0 0",
        "ZREMRANGEBYRANK {k} x 0",
        "ZREMRANGEBYRANK {k} 10 20",
        "ZREMRANGEBYRANK {k} -1 -2",
        "ZREMRANGEBYSCORE {k} x 0",
        "ZREMRANGEBYLEX {k} x 0",
        "ZREMRANGEBYSCORE {k} (2 3",
        "ZREMRANGEBYSCORE {k} 10 20",
        "ZADD {k} 3 c",
        "EXPIRE {k} 100",
        "ZREMRANGEBYLEX {k} - (c",
        "TTL {k}",
        "ZRANGE {k} 0 -1 WITHSCORES",
        "ZREMRANGEBYRANK {k} 0 -1",
        "EXISTS {k}",
        "ZREMRANGEBYRANK {none} x 0",
        "ZREMRANGEBYRANK {none} 0 1",
        "ZREMRANGEBYSCORE {s2} x 2",
        "ZREMRANGEBYRANK {s} x 2",
        "ZREMRANGEBYRANK {s} 0 2",
        "ZREMRANGEBYSCORE {s} 0 2",
        "ZREMRANGEBYLEX {s} - +");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pops_MatchRedis(bool resp3) => SortedSetScript.Run(
        servers,
        resp3,
        "ZADD {k} 1 a 2 b 3 c 4 d 5 e 6 f 7 g",
        "ZPOPMIN {k}",
        "ZPOPMAX {k}",
        "ZPOPMIN {k} 0",
        "ZPOPMIN {k} 1",
        "ZPOPMIN {k} -1",
        "ZPOPMIN {k} x",
        "ZPOPMIN {k} 1 2",
        "ZPOPMAX {k} 2",
        "ZPOPMIN {none}",
        "ZPOPMIN {none} 2",
        "ZPOPMIN {none} 0",
        "ZMPOP 0 {k} MIN",
        "ZMPOP -1 {k} MIN",
        "ZMPOP x {k} MIN",
        "ZMPOP 2 {k} MIN",
        "ZMPOP 1 {k} FOO",
        "ZMPOP 1 {k} MIN COUNT 0",
        "ZMPOP 1 {k} MIN COUNT -1",
        "ZMPOP 1 {k} MIN COUNT x",
        "ZMPOP 1 {k} MIN COUNT 1 COUNT 1",
        "ZMPOP 1 {k} MIN FOO",
        "ZMPOP 1 {k} MIN COUNT",
        "ZMPOP 1 {k} max",
        "ZMPOP 2 {none} {k} MIN COUNT 10",
        "EXISTS {k}",
        "ZMPOP 1 {none} MIN",
        "ZMPOP 1 {k}",
        "SET {s} x",
        "ZMPOP 2 {none} {s} MIN",
        "ZMPOP 1 {s} FOO",
        "ZPOPMIN {s}",
        "ZPOPMIN {s} 0",
        "ZPOPMAX {s} x",
        "ZADD {t} 1 a 2 b",
        "EXPIRE {t} 100",
        "ZPOPMIN {t}",
        "TTL {t}",
        "ZMPOP 2 {s} {t} MIN",
        "ZMPOP 2 {t} {s} MAX",
        "ZPOPMAX {t} 5");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RandMemberAndScan_ErrorsAndShapes_MatchRedis(bool resp3) => SortedSetScript.Run(
        servers,
        resp3,
        "ZADD {k} 1 a",
        "ZRANDMEMBER {k}",
        "ZRANDMEMBER {k} 1",
        "ZRANDMEMBER {k} 1 WITHSCORES",
        "ZRANDMEMBER {k} -3 WITHSCORES",
        "ZRANDMEMBER {k} -3",
        "ZRANDMEMBER {k} 0",
        "ZRANDMEMBER {k} 0 WITHSCORES",
        "ZRANDMEMBER {k} 5 WITHSCORES",
        "ZRANDMEMBER {k} x",
        "ZRANDMEMBER {k} 1 FOO",
        "ZRANDMEMBER {k} 1 WITHSCORES x",
        "ZRANDMEMBER {k} -3 WITHSCORE",
        "ZRANDMEMBER {k} -9223372036854775808",
        "ZRANDMEMBER {k} -4611686018427387904 WITHSCORES",
        "ZRANDMEMBER {k} 4611686018427387904 WITHSCORES",
        "ZRANDMEMBER {k} 9223372036854775807",
        "ZRANDMEMBER {none}",
        "ZRANDMEMBER {none} 3",
        "ZRANDMEMBER {none} -3 WITHSCORES",
        "SET {s} x",
        "ZRANDMEMBER {s}",
        "ZRANDMEMBER {s} 0",
        "ZRANDMEMBER {s} 1 x",
        "ZRANDMEMBER {s} x",
        "ZADD {k} 2 b 3 c",
        "ZSCAN {k} 0",
        "ZSCAN {k} 0 MATCH [ab]",
        "ZSCAN {k} 0 MATCH * COUNT 1",
        "ZSCAN {k} 0 COUNT 0",
        "ZSCAN {k} 0 COUNT x",
        "ZSCAN {k} 0 FOO",
        "ZSCAN {k} 0 COUNT",
        "ZSCAN {k} x",
        "ZSCAN {k} -1",
        "ZSCAN {k} ''",
        "ZSCAN {k} 18446744073709551616",
        "ZSCAN {none} 0",
        "ZSCAN {none} x",
        "ZSCAN {none} 0 COUNT 0",
        "ZSCAN {s} 0 COUNT 0",
        "ZSCAN {s} x");

    [Fact]
    public void RandMember_CountsAndScores_AreMembers()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Durable.Call("ZADD", k, "1", "a", "2", "b", "3", "c");
        for (int i = 0; i < 20; i++)
        {
            string one = both.Durable.Call("ZRANDMEMBER", k);
            Assert.Matches("^\\$1\r\n[abc]\r\n$", one);
            string two = both.Durable.Call("ZRANDMEMBER", k, "2", "WITHSCORES");
            Assert.StartsWith("*4\r\n", two, StringComparison.Ordinal);
            Assert.NotEqual(two.Substring(4, 7), two.Substring(18, 7));
            string many = both.Durable.Call("ZRANDMEMBER", k, "-5");
            Assert.StartsWith("*5\r\n", many, StringComparison.Ordinal);
        }

        string all = both.Durable.Call("ZRANDMEMBER", k, "10", "WITHSCORES");
        foreach (string pair in new[] { "$1\r\na\r\n$1\r\n1\r\n", "$1\r\nb\r\n$1\r\n2\r\n", "$1\r\nc\r\n$1\r\n3\r\n" })
        {
            Assert.Contains(pair, all, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Encoding_ListpackThenSkiplist_AsRedis()
    {
        string member64 = new('m', 64);
        string member65 = new('m', 65);
        List<string> lines =
        [
            "ZADD {a} 1 " + member64,
            "OBJECT ENCODING {a}",
            "ZADD {b} 1 " + member65,
            "OBJECT ENCODING {b}",
            "ZREM {b} " + member65,
            "ZADD {b} 1 x 2 " + member65,
            "ZREM {b} " + member65,
            "OBJECT ENCODING {b}",
            "ZINCRBY {c} 1 " + member65,
            "OBJECT ENCODING {c}",
            "ZADD {d} NX 1 x 2 " + member65,
            "ZREM {d} " + member65,
            "OBJECT ENCODING {d}",
            "ZADD {e} XX 1 " + member65,
            "EXISTS {e}",
            "ZUNIONSTORE {f} 1 {d}",
            "OBJECT ENCODING {f}",
            "ZRANGESTORE {g} {d} 0 -1",
            "OBJECT ENCODING {g}",
            "OBJECT ENCODING {none}",
        ];
        string many = string.Join(' ', Enumerable.Range(0, 128).Select(i => $"{i} m{i}"));
        lines.Add("ZADD {h} " + many);
        lines.Add("OBJECT ENCODING {h}");
        lines.Add("ZADD {h} 1 m0");
        lines.Add("OBJECT ENCODING {h}");
        lines.Add("ZADD {h} 1000 last");
        lines.Add("OBJECT ENCODING {h}");
        lines.Add("ZPOPMAX {h} 100");
        lines.Add("OBJECT ENCODING {h}");
        lines.Add("ZUNIONSTORE {i} 1 {h}");
        lines.Add("OBJECT ENCODING {i}");
        lines.Add("ZADD {j} " + many + " 1 m0");
        lines.Add("OBJECT ENCODING {j}");
        lines.Add("ZADD {l} " + many + " 1 extra");
        lines.Add("OBJECT ENCODING {l}");
        lines.Add("ZRANGESTORE {m} {l} 0 127");
        lines.Add("OBJECT ENCODING {m}");
        lines.Add("ZRANGESTORE {m} {l} 0 -1");
        lines.Add("OBJECT ENCODING {m}");
        lines.Add("ZRANGE {l} 0 -1 WITHSCORES");
        SortedSetScript.Run(servers, false, [.. lines]);
    }

    [Fact]
    public void Lex_EqualScores_MatchRedis() => SortedSetScript.Run(
        servers,
        false,
        "ZADD {k} 0 a 0 aa 0 ab 0 b 0 ba 0 c 0 '' 0 \u00ff 0 A",
        "ZRANGEBYLEX {k} - +",
        "ZRANGEBYLEX {k} [a [b",
        "ZRANGEBYLEX {k} (a (b",
        "ZRANGEBYLEX {k} [ [a",
        "ZRANGEBYLEX {k} ( +",
        "ZREVRANGEBYLEX {k} [b [a",
        "ZREVRANGEBYLEX {k} + - LIMIT 2 3",
        "ZLEXCOUNT {k} [aa [ba",
        "ZREMRANGEBYLEX {k} (a [b",
        "ZRANGE {k} 0 -1",
        "ZRANGE {k} - (c BYLEX LIMIT 1 2",
        "ZRANGESTORE {d} {k} [b + BYLEX",
        "ZRANGE {d} 0 -1 WITHSCORES");

    /// <summary>
    /// Lex ranges over different scores are unspecified in Redis's documentation, but a listpack answers them by one
    /// walk: nothing when the last member is below min or the first above max; from the end when reversed; the offset
    /// skipped without a check.
    /// </summary>
    [Fact]
    public void Lex_DifferentScores_WalkedAsRedisListpack() => SortedSetScript.Run(
        servers,
        false,
        "ZADD {k} 5 a 1 b 3 c 2 m11 4 '' 6 d 7 m3 8 n",
        "ZRANGEBYLEX {k} [m +",
        "ZRANGEBYLEX {k} [c +",
        "ZRANGEBYLEX {k} [b (m2",
        "ZRANGEBYLEX {k} - [c LIMIT 2 3",
        "ZRANGEBYLEX {k} - [m LIMIT 3 10",
        "ZREVRANGEBYLEX {k} + [b",
        "ZREVRANGEBYLEX {k} (m4 [m",
        "ZREVRANGEBYLEX {k} + - LIMIT 2 2",
        "ZRANGE {k} [z [a BYLEX REV",
        "ZRANGE {k} [n [a BYLEX REV LIMIT 1 5",
        "ZLEXCOUNT {k} [m +",
        "ZLEXCOUNT {k} [b [m3",
        "ZRANGESTORE {d} {k} [n [a BYLEX REV",
        "ZRANGE {d} 0 -1 WITHSCORES",
        "ZREMRANGEBYLEX {k} [m +",
        "ZREMRANGEBYLEX {k} - (c",
        "ZRANGE {k} 0 -1 WITHSCORES");
}
