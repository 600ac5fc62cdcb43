using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>
/// Differential fuzzing: random commands of every supported family, with argument lists that mix keys of every type,
/// option words in any order and count, and numbers at the edges of what parses, sent to Durable and to redis-server;
/// every reply must be the same bytes. The fixed seeds keep CI repeatable; DURABLE_FUZZ_SEEDS (e.g. "100-140") and
/// DURABLE_FUZZ_COMMANDS run more by hand. A failure prints the commands since the keys were last reset.
/// </summary>
public sealed class RandomCommandsTests(ReferenceServers servers)
{
    private const int CommandsPerReset = 20;

    // Replies that depend on randomness, the clock or hash-table order: equal only when one of them is an error.
    private static readonly HashSet<string> s_unpredictable = new(StringComparer.Ordinal)
    {
        "HRANDFIELD", "SRANDMEMBER", "ZRANDMEMBER", "HSCAN", "SSCAN", "ZSCAN", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME",
    };

    // Sets other than intsets are hash tables in Redis 7.0: the same members in another order. SORT's ties (a set's
    // members, or equal weights) come out in that order too.
    private static readonly HashSet<string> s_setOrder = new(StringComparer.Ordinal) { "SMEMBERS", "SINTER", "SUNION", "SDIFF", "SORT", "SORT_RO" };

    // README, Compatibility: a string's OBJECT ENCODING (and so its REFCOUNT) is derived from its value, where Redis's
    // also remembers how the value was made (APPEND, SETRANGE, INCRBYFLOAT and the bit commands never share it).
    private static readonly HashSet<string> s_stringEncodings = new(StringComparer.Ordinal) { "$3\r\nint\r\n", "$6\r\nembstr\r\n", "$3\r\nraw\r\n" };
    private static readonly HashSet<string> s_stringRefCounts = new(StringComparer.Ordinal) { ":1\r\n", ":2147483647\r\n" };

    public static TheoryData<int, bool> Seeds()
    {
        TheoryData<int, bool> data = [];
        foreach (int seed in SeedsFromEnvironment() ?? [1, 2, 3, 4])
        {
            data.Add(seed, seed % 2 == 0);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomCommands_ReplyAsRedisDoes(int seed, bool resp3)
    {
        int commands = int.TryParse(Environment.GetEnvironmentVariable("DURABLE_FUZZ_COMMANDS"), CultureInfo.InvariantCulture, out int n) ? n : 2_000;
        using ReplyComparison both = servers.Compare();
        if (resp3)
        {
            both.Durable.Call("HELLO", "3");
            both.Redis.Call("HELLO", "3");
        }

        CommandGenerator generator = new(new Random(seed), servers.NewPrefix());
        // Now and then a few of the commands go through MULTI ... EXEC (or DISCARD), ended before the next reset.
        Random transactions = new(seed * 31);
        List<string>? queued = null;
        int endAt = 0;
        List<string> history = [];
        for (int i = 0; i < commands; i++)
        {
            if (i % CommandsPerReset == 0)
            {
                history.Clear();
                foreach (string[] setup in generator.Reset())
                {
                    both.Redis.Call(setup);
                    both.Durable.Call(setup);
                }
            }

            string[] command;
            if (queued is not null && i >= endAt)
            {
                command = [transactions.NextDouble() < 0.2 ? "DISCARD" : "EXEC"];
            }
            else if (queued is null && i % CommandsPerReset < CommandsPerReset - 7 && transactions.NextDouble() < 0.05)
            {
                command = ["MULTI"];
                queued = [];
                endAt = i + 2 + transactions.Next(5);
            }
            else
            {
                command = generator.Next();
                queued?.Add(command[0]);
            }

            history.Add(string.Join(' ', command.Select(Show)));
            string expected = both.Redis.Call(command);
            string actual = both.Durable.Call(command);
            bool ended = command[0] is "EXEC" or "DISCARD";
            if (expected == actual || (ended ? Equivalent(queued!, expected, actual) : Equivalent(command[0], expected, actual)))
            {
                queued = ended ? null : queued;
                continue;
            }

            Assert.Fail($"seed {seed}, command {i}: {history[^1]}\nredis:   {Show(expected)}\ndurable: {Show(actual)}\nsince the reset:\n  {string.Join("\n  ", history)}");
        }
    }

    // An EXEC's array holds the replies of its commands: one with a loosely compared reply makes the array loose too
    // (its length and kind still have to agree).
    private static bool Equivalent(List<string> queued, string expected, string actual) =>
        queued.Any(command => s_unpredictable.Contains(command) || s_setOrder.Contains(command) || command == "OBJECT")
        && expected[0] == actual[0] && expected[..expected.IndexOf('\r')] == actual[..actual.IndexOf('\r')];

    private static bool Equivalent(string command, string expected, string actual)
    {
        bool error = expected.StartsWith('-') || actual.StartsWith('-');
        if (error)
        {
            return false;
        }

        if (s_unpredictable.Contains(command))
        {
            return expected[0] == actual[0];
        }

        if (command == "OBJECT")
        {
            return (s_stringEncodings.Contains(expected) && s_stringEncodings.Contains(actual))
                || (s_stringRefCounts.Contains(expected) && s_stringRefCounts.Contains(actual));
        }

        return s_setOrder.Contains(command) && Members(expected) == Members(actual);
    }

    // An array of bulk strings without line breaks in them, or nils, with its elements sorted.
    private static string Members(string reply)
    {
        string[] lines = reply.Split("\r\n");
        List<string> members = [];
        for (int i = 1; i < lines.Length - 1; i++)
        {
            members.Add(lines[i].StartsWith('$') && lines[i] != "$-1" ? lines[i] + "\r\n" + lines[++i] : lines[i]);
        }

        members.Sort(StringComparer.Ordinal);
        return lines[0] + "\r\n" + string.Join("\r\n", members);
    }

    private static string Show(string text) =>
        text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);

    private static IEnumerable<int>? SeedsFromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable("DURABLE_FUZZ_SEEDS");
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        string[] range = text.Split('-');
        int first = int.Parse(range[0], CultureInfo.InvariantCulture);
        int last = range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : first;
        return Enumerable.Range(first, last - first + 1);
    }

    /// <summary>Draws commands from templates: each family's commands with plausible and implausible arguments.</summary>
    private sealed class CommandGenerator(Random random, string prefix)
    {
        private static readonly string[] s_keys = ["s1", "s2", "n1", "st1", "h1", "h2", "z1", "z2", "l1", "l2", "set1", "set2", "set3", "x1", "x2", "missing", "dst"];
        private static readonly string[] s_numbers =
        [
            "0", "1", "-1", "2", "3", "5", "-3", "100", "1.5", "inf", "-inf", "+inf", "nan", "abc", "9223372036854775807",
            "-9223372036854775808", "9223372036854775808", "(1", "(2", "-0", "1e2", "0.5", "", "4294967296", " 1", "1 ", "0x10", "1e400",
        ];

        private static readonly string[] s_small = ["0", "1", "-1", "2", "3", "5", "-3", "-2", "10", "-100", "100", "abc", "1.5"];
        // No time a key could reach between the two servers' replies: a race, not a difference.
        private static readonly string[] s_times = ["0", "-1", "5000", "100000", "abc", "1.5", "-100", "9223372036854775807", "99999999999999", "1000000000000"];
        private static readonly string[] s_lex = ["-", "+", "[a", "(a", "[b", "(c", "[z", "a", "", "[", "(", "[m1"];
        private static readonly string[] s_members = ["a", "b", "c", "d", "m1", "x", "1", "2", "f1", "f2", "f3", "v1", "zz", "\u00e9", "a\0b"];
        private static readonly string[] s_sides = ["LEFT", "RIGHT", "left", "X"];

        // Stream IDs, never "*": the two servers' clocks would make different ones.
        private static readonly string[] s_ids =
        [
            "0-0", "0-1", "1", "1-1", "2-1", "3", "3-*", "5-0", "9-*", "10-5", "-", "+", "(1-1", "(3-0", "x", "-1", "1-x",
            "18446744073709551615-18446744073709551615", "18446744073709551616", " 4", "04-1",
        ];

        private static readonly string[] s_groups = ["g", "g2", "nog"];
        private static readonly string[] s_consumers = ["c1", "c2", "c3"];

        private Func<string[]>[]? _templates;

        private string Key() => prefix + Pick(s_keys);

        private string Pick(string[] values) => values[random.Next(values.Length)];

        private bool Chance(double p) => random.NextDouble() < p;

        private string[] Repeat(int max, Func<string> value) => Enumerable.Range(0, random.Next(max + 1)).Select(_ => value()).ToArray();

        private string[] Pairs(int max, string[] first, string[] second) =>
            Enumerable.Range(0, random.Next(max + 1)).SelectMany(_ => new[] { Pick(first), Pick(second) }).ToArray();

        /// <summary>Up to <paramref name="max"/> options, each drawn from one of <paramref name="options"/>, in any order.</summary>
        private string[] Options(int max, params Func<string[]>[] options) =>
            Enumerable.Range(0, random.Next(max + 1)).SelectMany(_ => options[random.Next(options.Length)]()).ToArray();

        private Func<string[]> Words(params string[] words) => () => [Pick(words)];

        private string[] Limit() => ["LIMIT", Pick(s_small), Pick(s_small)];

        public IEnumerable<string[]> Reset()
        {
            yield return ["DEL", .. s_keys.Select(k => prefix + k)];
            yield return ["SET", prefix + "s1", "hello"];
            yield return ["SET", prefix + "s2", "12"];
            yield return ["SET", prefix + "n1", "3.5"];
            yield return ["SET", prefix + "st1", "\u000f\u00f0abc"];
            yield return ["HSET", prefix + "h1", "f1", "v1", "f2", "2", "f3", "1.5"];
            yield return ["HSET", prefix + "h2", "f1", "10"];
            yield return ["ZADD", prefix + "z1", "1", "a", "2", "b", "2", "c", "3", "d", "-1", "m1"];
            yield return ["ZADD", prefix + "z2", "5", "a", "0", "x"];
            yield return ["RPUSH", prefix + "l1", "a", "b", "c", "a", "1", "2"];
            yield return ["RPUSH", prefix + "l2", "x"];
            yield return ["SADD", prefix + "set1", "a", "b", "c"];
            yield return ["SADD", prefix + "set2", "1", "2", "3"];
            yield return ["SADD", prefix + "set3", "x", "a"];
            yield return ["XADD", prefix + "x1", "1-1", "f1", "v1", "f2", "2"];
            yield return ["XADD", prefix + "x1", "2-1", "f1", "v2"];
            yield return ["XADD", prefix + "x1", "3-0", "a", "1"];
            yield return ["XGROUP", "CREATE", prefix + "x1", "g", "0"];
            yield return ["XADD", prefix + "x2", "5-0", "x", "y"];
        }

        public string[] Next()
        {
            _templates ??= BuildTemplates();
            return _templates[random.Next(_templates.Length)]();
        }

        private Func<string[]>[] BuildTemplates() =>
        [
            () => ["SET", Key(), Pick([.. s_members, .. s_numbers]), .. Options(4, Words("NX", "XX", "GET", "KEEPTTL"), () => [Pick(["EX", "PX", "EXAT", "PXAT", "ex"]), Pick(s_times)])],
            () => ["GETEX", Key(), .. Options(3, Words("PERSIST"), () => [Pick(["EX", "PX", "EXAT", "PXAT"]), Pick(s_times)])],
            () => [Pick(["SETEX", "PSETEX"]), Key(), Pick(s_times), Pick(s_members)],
            () => [Pick(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]), Key(), Pick(s_times), .. Options(2, Words("NX", "XX", "GT", "LT"))],
            () => [Pick(["INCRBY", "DECRBY", "INCRBYFLOAT", "INCR", "DECR", "APPEND", "SETNX", "GETSET"]), Key(), .. Chance(0.7) ? [Pick(s_numbers)] : Array.Empty<string>()],
            () => [Pick(["GETRANGE", "SETRANGE", "SUBSTR"]), Key(), Pick(s_small), Pick([.. s_small, .. s_members])],
            () => ["LCS", Key(), Key(), .. Options(4, Words("LEN", "IDX", "WITHMATCHLEN"), () => ["MINMATCHLEN", Pick(s_small)])],
            () => [Pick(["MSET", "MSETNX", "MGET", "DEL", "EXISTS", "TOUCH", "UNLINK"]), .. Repeat(5, () => Chance(0.6) ? Key() : prefix + Pick(s_members))],
            () => [Pick(["SETBIT", "GETBIT"]), Key(), Pick([.. s_small, "4294967296", "65535", "-0"]), .. Chance(0.7) ? [Pick(["0", "1", "2", "x"])] : Array.Empty<string>()],
            () => [Pick(["BITCOUNT", "BITPOS"]), Key(), .. Chance(0.5) ? [Pick(["0", "1"])] : Array.Empty<string>(), .. Repeat(2, () => Pick(s_small)), .. Options(1, Words("BIT", "BYTE", "bit"))],
            () => ["BITOP", Pick(["AND", "OR", "XOR", "NOT", "x"]), prefix + "dst", .. Repeat(3, Key)],
            () => [Pick(["BITFIELD", "BITFIELD_RO"]), Key(), .. Options(4,
                () => ["GET", Pick(["u8", "i8", "u63", "i64", "u64", "i0", "x8", "#1"]), Pick([.. s_small, "#2"])],
                () => ["SET", Pick(["u8", "i8", "u3"]), Pick([.. s_small, "#1"]), Pick(s_numbers)],
                () => ["INCRBY", Pick(["u8", "i8", "u2"]), Pick(s_small), Pick(s_numbers)],
                () => ["OVERFLOW", Pick(["WRAP", "SAT", "FAIL", "X"])])],
            () => ["COPY", Key(), Key(), .. Options(2, Words("REPLACE"), () => ["DB", Pick(["0", "16", "-1", "x"])])],
            () => [Pick(["RENAME", "RENAMENX"]), Key(), Key()],
            () => [Pick(["TYPE", "STRLEN", "GET", "GETDEL", "HLEN", "SCARD", "ZCARD", "LLEN", "HGETALL", "HKEYS", "HVALS", "SMEMBERS", "PERSIST", "TTL", "PTTL", "EXPIRETIME"]), Key(), .. Chance(0.2) ? [Pick(s_members)] : Array.Empty<string>()],
            () => ["OBJECT", Pick(["ENCODING", "REFCOUNT", "FREQ", "x", "HELP"]), Key()],
            // Lists only: a set's or a sorted set's ties come out in Redis's hash-table order. Always ALPHA: Redis
            // reads a stale errno after strtod, so a numeric sort can fail there after another command overflowed.
            () => [Pick(["SORT", "SORT_RO"]), prefix + Pick(["l1", "l2", "s1", "missing"]), .. Options(4, Words("ASC", "DESC", "ALPHA"), Limit, () => ["BY", Pick(["nosort", prefix + "h*->f1", prefix + "s*"])], () => ["GET", Pick(["#", prefix + "h*->f1", prefix + "s*"])], () => ["STORE", prefix + "dst"]), "ALPHA"],
            () => [Pick(["HSET", "HMSET", "HSETNX", "HDEL", "HMGET", "HGET", "HEXISTS", "HSTRLEN"]), Key(), .. Repeat(4, () => Pick(s_members))],
            () => [Pick(["HINCRBY", "HINCRBYFLOAT", "ZINCRBY"]), Key(), Pick([.. s_members, .. s_numbers]), Pick([.. s_members, .. s_numbers])],
            () => [Pick(["HRANDFIELD", "ZRANDMEMBER", "SRANDMEMBER"]), Key(), .. Chance(0.6) ? [Pick(s_small)] : Array.Empty<string>(), .. Chance(0.4) ? [Pick(["WITHVALUES", "WITHSCORES"])] : Array.Empty<string>()],
            () => [Pick(["HSCAN", "SSCAN", "ZSCAN"]), Key(), Pick(["0", "x", "-1", "18446744073709551616"]), .. Options(3, () => ["MATCH", Pick(["*", "a*", "[", "f?"])], () => ["COUNT", Pick(s_small)], Words("NOVALUES"))],
            () => [Pick(["SADD", "SREM", "SISMEMBER", "SMISMEMBER", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "ZREM", "ZMSCORE"]), Key(), .. Repeat(4, () => Pick(s_members))],
            () => ["SMOVE", Key(), Key(), Pick(s_members)],
            () => [Pick(["SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), .. Repeat(3, Key)],
            () => [Pick(["SINTERCARD", "ZINTERCARD"]), Pick(["1", "2", "0", "3"]), .. Repeat(3, Key), .. Options(2, () => ["LIMIT", Pick(s_small)])],
            () => [Pick(["LPOP", "RPOP", "ZPOPMIN", "ZPOPMAX"]), Key(), .. Chance(0.6) ? [Pick(s_small)] : Array.Empty<string>()],
            () => [Pick(["LRANGE", "LTRIM", "LSET", "LINDEX", "LREM", "ZREVRANGE", "ZREMRANGEBYRANK"]), Key(), Pick(s_small), .. Repeat(2, () => Pick([.. s_small, .. s_members]))],
            () => ["LINSERT", Key(), Pick(["BEFORE", "AFTER", "x"]), Pick(s_members), Pick(s_members)],
            () => ["LPOS", Key(), Pick(s_members), .. Options(4, () => [Pick(["RANK", "COUNT", "MAXLEN"]), Pick([.. s_small, "9223372036854775807", "-9223372036854775808"])])],
            () => [Pick(["LMOVE", "BLMOVE"]), Key(), Key(), Pick(s_sides[..2]), Pick(s_sides[..2]), .. Chance(0.5) ? ["0.01"] : Array.Empty<string>()],
            () => [Pick(["BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"]), .. Repeat(2, Key), Pick(["0.01", "-1", "x"])],
            () => [Pick(["LMPOP", "ZMPOP"]), Pick(["1", "2", "0", "3"]), .. Repeat(3, Key), Pick([.. s_sides, "MIN", "MAX"]), .. Options(2, () => ["COUNT", Pick(s_small)])],
            () => ["ZADD", Key(), .. Options(3, Words("NX", "XX", "GT", "LT", "CH", "INCR")), .. Pairs(3, s_numbers, s_members)],
            () => [Pick(["ZRANK", "ZREVRANK", "ZSCORE"]), Key(), Pick(s_members), .. Chance(0.5) ? ["WITHSCORE"] : Array.Empty<string>()],
            () => [Pick(["ZCOUNT", "ZREMRANGEBYSCORE"]), Key(), Pick(s_numbers), Pick(s_numbers)],
            () => ["ZRANGE", Key(), Pick([.. s_small, .. s_lex, .. s_numbers]), Pick([.. s_small, .. s_lex, .. s_numbers]), .. Options(4, Words("BYSCORE", "BYLEX", "REV", "WITHSCORES"), Limit)],
            () => ["ZRANGESTORE", prefix + "dst", Key(), Pick([.. s_small, .. s_lex]), Pick([.. s_small, .. s_lex]), .. Options(4, Words("BYSCORE", "BYLEX", "REV", "WITHSCORES"), Limit)],
            () => [Pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), Key(), Pick(s_numbers), Pick(s_numbers), .. Options(4, Words("WITHSCORES"), Limit)],
            () => [Pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"]), Key(), Pick(s_lex), Pick(s_lex), .. Options(2, Limit)],
            () => [Pick(["ZUNION", "ZINTER", "ZDIFF"]), Pick(["1", "2", "3", "0", "-1", "x"]), .. Repeat(3, Key), .. Options(4, Words("WITHSCORES"), () => ["WEIGHTS", .. Repeat(3, () => Pick(s_numbers))], () => ["AGGREGATE", Pick(["SUM", "MIN", "MAX", "AVG"])])],
            () => [Pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), prefix + "dst", Pick(["1", "2", "3", "0", "-1"]), .. Repeat(3, Key), .. Options(4, Words("WITHSCORES"), () => ["WEIGHTS", .. Repeat(3, () => Pick(s_numbers))], () => ["AGGREGATE", Pick(["SUM", "MIN", "MAX"])])],
            () => ["XADD", Key(), .. Options(2, Words("NOMKSTREAM"), () => [Pick(["MAXLEN", "MINID", "maxlen"]), .. Chance(0.5) ? [Pick(["~", "="])] : Array.Empty<string>(), Pick([.. s_small, .. s_ids])], () => ["LIMIT", Pick(s_small)]), Pick(s_ids), .. Pairs(2, s_members, s_members)],
            () => [Pick(["XRANGE", "XREVRANGE"]), Key(), Pick(s_ids), Pick(s_ids), .. Options(1, () => [Pick(["COUNT", "count", "X"]), Pick(s_small)])],
            () => [Pick(["XDEL", "XLEN"]), Key(), .. Repeat(3, () => Pick(s_ids))],
            () => ["XTRIM", Key(), .. Options(2, () => [Pick(["MAXLEN", "MINID", "X"]), .. Chance(0.5) ? [Pick(["~", "="])] : Array.Empty<string>(), Pick([.. s_small, .. s_ids])], () => ["LIMIT", Pick(s_small)])],
            () => ["XSETID", Key(), Pick(s_ids), .. Options(2, () => ["ENTRIESADDED", Pick(s_small)], () => ["MAXDELETEDID", Pick(s_ids)])],
            () => ["XREAD", .. Options(1, () => ["COUNT", Pick(s_small)]), "STREAMS", .. Repeat(2, Key), .. Repeat(2, () => Pick([.. s_ids, "$"]))],
            () => ["XGROUP", Pick(["CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER", "x"]), Key(), Pick(s_groups), .. Repeat(1, () => Pick([.. s_ids, "$", .. s_consumers])), .. Options(2, Words("MKSTREAM"), () => ["ENTRIESREAD", Pick(s_small)])],
            () => ["XREADGROUP", "GROUP", Pick(s_groups), Pick(s_consumers), .. Options(2, () => ["COUNT", Pick(s_small)], Words("NOACK")), "STREAMS", Key(), Pick([.. s_ids, ">", ">", ">"])],
            () => ["XACK", Key(), Pick(s_groups), .. Repeat(3, () => Pick(s_ids))],
            () => ["XPENDING", Key(), Pick(s_groups)],
            () => ["XCLAIM", Key(), Pick(s_groups), Pick(s_consumers), Pick(["0", "3600000", "x", "-5"]), .. Repeat(2, () => Pick(s_ids)), "JUSTID", .. Options(2, Words("FORCE"), () => ["RETRYCOUNT", Pick(s_small)], () => ["LASTID", Pick(s_ids)])],
            () => ["XAUTOCLAIM", Key(), Pick(s_groups), Pick(s_consumers), Pick(["0", "3600000", "x"]), Pick(s_ids), "JUSTID", .. Options(1, () => ["COUNT", Pick(s_small)])],
            () => ["XINFO", Pick(["GROUPS", "x"]), Key()],
        ];
    }
}
