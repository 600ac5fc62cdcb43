using CsCheck;

namespace Durable.Server.Tests;

public sealed class ListPropertyTests(ReferenceServers servers)
{
    private static readonly Gen<string> s_element = Gen.OneOfConst("a", "b", "c", "", "1", "x\0y");

    private static readonly Gen<string> s_index = Gen.OneOfConst("0", "1", "2", "-1", "-2", "5", "-7", "x");

    private static readonly Gen<string> s_count = Gen.OneOfConst("0", "1", "2", "3", "10", "-1", "-2");

    private static readonly Gen<string> s_end = Gen.OneOfConst("LEFT", "RIGHT");

    /// <summary>A random list command over keys 0..2 (key 2 sometimes holds a string), relative to a prefix filled in later.</summary>
    private static readonly Gen<string[]> s_command = Gen.Int[0, 2].SelectMany(key => Gen.Int[0, 2].SelectMany(other => Gen.OneOf(
        s_element.Array[1, 3].Select(e => new[] { "LPUSH", $"{key}" }.Concat(e).ToArray()),
        s_element.Array[1, 3].Select(e => new[] { "RPUSH", $"{key}" }.Concat(e).ToArray()),
        s_element.Select(e => new[] { "LPUSHX", $"{key}", e }),
        s_element.Select(e => new[] { "RPUSHX", $"{key}", e }),
        Gen.OneOfConst(new[] { "LPOP", $"{key}" }, new[] { "RPOP", $"{key}" }),
        s_count.Select(c => new[] { "LPOP", $"{key}", c }),
        s_count.Select(c => new[] { "RPOP", $"{key}", c }),
        Gen.Const(new[] { "LLEN", $"{key}" }),
        Gen.Select(s_index, s_index, (a, b) => new[] { "LRANGE", $"{key}", a, b }),
        s_index.Select(i => new[] { "LINDEX", $"{key}", i }),
        Gen.Select(s_index, s_element, (i, e) => new[] { "LSET", $"{key}", i, e }),
        Gen.Select(Gen.OneOfConst("BEFORE", "AFTER"), s_element, s_element, (w, p, e) => new[] { "LINSERT", $"{key}", w, p, e }),
        Gen.Select(s_count, s_element, (c, e) => new[] { "LREM", $"{key}", c, e }),
        Gen.Select(s_index, s_index, (a, b) => new[] { "LTRIM", $"{key}", a, b }),
        Gen.Select(s_element, Gen.OneOfConst("", "RANK 1", "RANK -1", "RANK 2", "COUNT 0", "COUNT 2", "MAXLEN 2", "RANK -2 COUNT 0 MAXLEN 3"),
            (e, o) => new[] { "LPOS", $"{key}", e }.Concat(o.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray()),
        Gen.Select(s_end, s_end, (f, t) => new[] { "LMOVE", $"{key}", $"{other}", f, t }),
        Gen.Const(new[] { "RPOPLPUSH", $"{key}", $"{other}" }),
        Gen.Select(s_end, Gen.OneOfConst("", "COUNT 2", "COUNT 10"), (w, c) => new[] { "LMPOP", "2", $"{key}", $"{other}", w }.Concat(c.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray()),
        Gen.Const(new[] { "BLPOP", $"{other}", $"{key}", "0" }),
        Gen.Const(new[] { "SET", "2", "string" }),
        Gen.Const(new[] { "DEL", $"{key}" }))));

    // BLPOP runs only when one of its lists has an element (else it would block both servers): it then pops like LPOP.
    [Fact]
    public void RandomCommandSequences_SameRepliesAsRedis()
    {
        s_command.Array[1, 40].Sample(commands =>
        {
            using ReplyComparison both = servers.Compare();
            string prefix = servers.NewPrefix();
            foreach (string[] command in commands)
            {
                string[] concrete = [.. command];
                int[] keyPositions = concrete[0] switch
                {
                    "LMOVE" or "RPOPLPUSH" => [1, 2],
                    "LMPOP" => [2, 3],
                    "BLPOP" => [1, 2],
                    _ => [1],
                };
                foreach (int position in keyPositions)
                {
                    concrete[position] = prefix + concrete[position];
                }

                if (concrete[0] == "BLPOP" && both.Redis.Call("EXISTS", concrete[1], concrete[2]) == ":0\r\n")
                {
                    continue;
                }

                both.Same(concrete);
            }
        }, iter: 120, seed: "0000QhSRAlbS");
    }
}
