using CsCheck;

namespace Durable.Server.Tests;

public sealed class SortedSetPropertyTests(ReferenceServers servers)
{
    private static readonly Gen<string> s_member = Gen.OneOfConst("a", "b", "c", "d", "e", "aa", "ab", "", "z", new string('L', 65));

    private static readonly Gen<string> s_score = Gen.OneOfConst("0", "1", "-1", "2.5", "0.1", "inf", "-inf", "1e17", "-0", "3", "(1", "x");

    private static readonly Gen<string> s_bound = Gen.OneOfConst("-inf", "+inf", "0", "1", "(1", "2.5", "(3", "-1", "x");

    private static readonly Gen<string> s_lex = Gen.OneOfConst("-", "+", "[a", "(a", "[ab", "(b", "[z", "a");

    private static readonly Gen<string> s_index = Gen.OneOfConst("0", "1", "-1", "2", "-3", "10", "x");

    private static readonly Gen<string> s_options = Gen.OneOfConst("", "WITHSCORES", "LIMIT 0 2", "LIMIT 1 -1", "WITHSCORES LIMIT 1 1", "REV", "LIMIT -1 1");

    /// <summary>
    /// A random sorted-set command over keys 0..2 ("k0".."k2" after the prefix). Key 2 only ever holds score 0, so the
    /// lex commands (defined by Redis only for equal scores) run there.
    /// </summary>
    private static readonly Gen<string> s_command = Gen.Int[0, 1].SelectMany(key => Gen.Int[0, 2].SelectMany(other => Gen.OneOf(
        Gen.Select(s_score, s_member, s_score, s_member, (s1, m1, s2, m2) => $"ZADD {{k{key}}} {s1} {m1} {s2} {m2}"),
        Gen.Select(Gen.OneOfConst("NX", "XX", "GT", "LT", "CH", "GT CH", "XX LT CH", "NX INCR", "INCR", "XX INCR", "LT INCR"), s_score, s_member, (o, s, m) => $"ZADD {{k{key}}} {o} {s} {m}"),
        Gen.Select(s_score, s_member, (s, m) => $"ZINCRBY {{k{key}}} {s} {m}"),
        Gen.Select(s_member, s_member, (m1, m2) => $"ZREM {{k{key}}} {m1} {m2}"),
        Gen.Const($"ZCARD {{k{key}}}"),
        s_member.Select(m => $"ZSCORE {{k{key}}} {m}"),
        Gen.Select(s_member, s_member, (m1, m2) => $"ZMSCORE {{k{key}}} {m1} {m2}"),
        s_member.Select(m => $"ZRANK {{k{key}}} {m}"),
        s_member.Select(m => $"ZREVRANK {{k{key}}} {m}"),
        Gen.Select(s_bound, s_bound, (a, b) => $"ZCOUNT {{k{key}}} {a} {b}"),
        Gen.Select(s_index, s_index, Gen.OneOfConst("", "WITHSCORES", "REV", "REV WITHSCORES"), (a, b, o) => $"ZRANGE {{k{key}}} {a} {b} {o}"),
        Gen.Select(s_bound, s_bound, s_options, (a, b, o) => $"ZRANGE {{k{key}}} {a} {b} BYSCORE {o}"),
        Gen.Select(s_bound, s_bound, s_options, (a, b, o) => $"ZRANGEBYSCORE {{k{key}}} {a} {b} {o}"),
        Gen.Select(s_bound, s_bound, s_options, (a, b, o) => $"ZREVRANGEBYSCORE {{k{key}}} {a} {b} {o}"),
        Gen.Select(s_index, s_index, (a, b) => $"ZREVRANGE {{k{key}}} {a} {b} WITHSCORES"),
        Gen.Select(s_index, s_index, (a, b) => $"ZRANGESTORE {{k{key}}} {{k{other}}} {a} {b}"),
        Gen.Select(s_bound, s_bound, (a, b) => $"ZRANGESTORE {{k{key}}} {{k{other}}} {a} {b} BYSCORE LIMIT 0 3"),
        Gen.Select(s_index, s_index, (a, b) => $"ZREMRANGEBYRANK {{k{key}}} {a} {b}"),
        Gen.Select(s_bound, s_bound, (a, b) => $"ZREMRANGEBYSCORE {{k{key}}} {a} {b}"),
        Gen.OneOfConst($"ZPOPMIN {{k{key}}}", $"ZPOPMAX {{k{key}}} 2", $"ZPOPMIN {{k{key}}} 0", $"ZPOPMAX {{k{key}}}"),
        Gen.OneOfConst($"ZMPOP 2 {{k{key}}} {{k{other}}} MIN", $"ZMPOP 1 {{k{other}}} MAX COUNT 2", $"ZMPOP 3 {{k0}} {{k1}} {{k2}} MIN COUNT 10"),
        Gen.OneOfConst("ZUNION", "ZINTER", "ZDIFF").Select(c => $"{c} 2 {{k{key}}} {{k{other}}} WITHSCORES"),
        Gen.OneOfConst("ZUNION", "ZINTER").Select(c => $"{c} 2 {{k{key}}} {{k{other}}} WEIGHTS 2 -1 AGGREGATE MIN WITHSCORES"),
        Gen.OneOfConst("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE").Select(c => $"{c} {{k{key}}} 2 {{k{key}}} {{k{other}}}"),
        Gen.OneOfConst($"ZINTERCARD 2 {{k{key}}} {{k{other}}}", $"ZINTERCARD 2 {{k{key}}} {{k{other}}} LIMIT 1"),
        Gen.Select(s_member, m => $"ZADD {{k2}} 0 {m}"),
        Gen.Select(s_lex, s_lex, (a, b) => $"ZRANGEBYLEX {{k2}} {a} {b}"),
        Gen.Select(s_lex, s_lex, (a, b) => $"ZREVRANGEBYLEX {{k2}} {a} {b} LIMIT 0 2"),
        Gen.Select(s_lex, s_lex, (a, b) => $"ZLEXCOUNT {{k2}} {a} {b}"),
        Gen.Select(s_lex, s_lex, (a, b) => $"ZREMRANGEBYLEX {{k2}} {a} {b}"),
        Gen.Select(s_lex, s_lex, (a, b) => $"ZRANGE {{k2}} {a} {b} BYLEX"),
        Gen.Const($"~ ZSCAN {{k{other}}} 0"),
        Gen.Const($"OBJECT ENCODING {{k{other}}}"),
        Gen.Const($"TYPE {{k{key}}}"),
        Gen.OneOfConst($"DEL {{k{key}}}", $"SET {{k{key}}} v"))));

    [Theory]
    [InlineData(false, 150, "cgE-WhsfqyJ2")]
    [InlineData(true, 75, "0R_C0sDaCvR1")]
    public void RandomCommandSequences_SameRepliesAsRedis(bool resp3, int iterations, string seed) =>
        s_command.Array[1, 40].Sample(commands =>
        {
            using ReplyComparison both = servers.Compare();
            SortedSetScript.Run(both, servers.NewPrefix(), resp3, [.. commands.Select(c => c.TrimEnd())]);
        }, iter: iterations, seed: seed);
}
