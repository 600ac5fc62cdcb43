using CsCheck;

namespace Durable.Server.Tests;

public sealed class StringPropertyTests(ReferenceServers servers)
{
    private static readonly Gen<string> s_value = Gen.OneOfConst("", "0", "1", "-5", "10.5", "0.1", "abc", "9223372036854775807", "-9223372036854775808", "x\0y");

    private static readonly Gen<string> s_index = Gen.OneOfConst("0", "1", "-1", "3", "-4", "100", "-100", "x");

    private static readonly Gen<string> s_increment = Gen.OneOfConst("1", "-1", "0", "1000", "9223372036854775807", "1.5", "-0.3", "x");

    /// <summary>A random string command over keys 0..2 (relative to a prefix filled in later), with its arguments.</summary>
    private static readonly Gen<string[]> s_command = Gen.Int[0, 2].SelectMany(key => Gen.Int[0, 2].SelectMany(other => Gen.OneOf(
        s_value.Select(v => new[] { "SET", $"{key}", v }),
        Gen.Select(s_value, Gen.OneOfConst("NX", "XX", "GET", "KEEPTTL", "EX", "PXAT", "NX GET", "XX GET KEEPTTL", "EX 100 GET", "PXAT 1"), (v, o) => new[] { "SET", $"{key}", v }.Concat(o.Split(' ')).ToArray()),
        s_value.Select(v => new[] { "SETNX", $"{key}", v }),
        s_value.Select(v => new[] { "GETSET", $"{key}", v }),
        s_value.Select(v => new[] { "APPEND", $"{key}", v }),
        s_value.Select(v => new[] { "MSET", $"{key}", v, $"{other}", v }),
        s_value.Select(v => new[] { "MSETNX", $"{key}", v, $"{other}", v }),
        Gen.Const(new[] { "GET", $"{key}" }),
        Gen.Const(new[] { "GETDEL", $"{key}" }),
        Gen.OneOfConst(new[] { "GETEX", $"{key}" }, new[] { "GETEX", $"{key}", "PERSIST" }, new[] { "GETEX", $"{key}", "EX", "100" }, new[] { "GETEX", $"{key}", "PXAT", "1" }),
        Gen.Const(new[] { "MGET", $"{key}", $"{other}" }),
        Gen.Const(new[] { "STRLEN", $"{key}" }),
        Gen.OneOfConst(new[] { "INCR", $"{key}" }, new[] { "DECR", $"{key}" }),
        s_increment.Select(v => new[] { "INCRBY", $"{key}", v }),
        s_increment.Select(v => new[] { "DECRBY", $"{key}", v }),
        s_increment.Select(v => new[] { "INCRBYFLOAT", $"{key}", v }),
        Gen.Select(s_index, s_index, (a, b) => new[] { "GETRANGE", $"{key}", a, b }),
        Gen.Select(Gen.OneOfConst("0", "1", "5", "-1"), s_value, (o, v) => new[] { "SETRANGE", $"{key}", o, v }),
        Gen.OneOfConst(new[] { "LCS", $"{key}", $"{other}" }, new[] { "LCS", $"{key}", $"{other}", "IDX", "WITHMATCHLEN" }, new[] { "LCS", $"{key}", $"{other}", "LEN" }))));

    [Fact]
    public void RandomCommandSequences_SameRepliesAsRedis()
    {
        s_command.Array[1, 25].Sample(commands =>
        {
            using ReplyComparison both = servers.Compare();
            string prefix = servers.NewPrefix();
            foreach (string[] command in commands)
            {
                string[] concrete = [.. command];
                concrete[1] = prefix + concrete[1];
                for (int i = 2; i < concrete.Length; i++)
                {
                    bool isKey = concrete[0] is "MSET" or "MSETNX" ? i % 2 == 1 : concrete[0] is "MGET" or "LCS" && i == 2;
                    if (isKey)
                    {
                        concrete[i] = prefix + concrete[i];
                    }
                }

                both.Same(concrete);
            }
        }, iter: 150);
    }
}
