using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>
/// Random sequences of hash commands over three keys (fixed seed), sent to Durable and to redis-server. Replies must
/// be byte-identical, except where Redis's order is its hash table's (a hashtable-encoded hash) or random
/// (HRANDFIELD): those are compared as sets, or checked for their shape and membership.
/// </summary>
public sealed class HashPropertyTests(ReferenceServers servers)
{
    private static readonly string s_longValue = new('v', 65);
    private static readonly string[] s_fields = ["a", "b", "c", "d", "e", "1", "", "f\0g"];
    private static readonly string[] s_values = ["1", "-5", "10.5", "abc", "9223372036854775807", "", "0.1", "1e3", "x y"];
    private static readonly string[] s_increments = ["1", "-1", "0", "100", "9223372036854775807", "1.5", "-0.25", "x", "inf"];
    private static readonly string[] s_counts = ["0", "1", "2", "3", "5", "20", "-1", "-3", "-10", "x"];
    private static readonly string[] s_patterns = ["*", "a*", "?", "[a-c]", "*1*", "\\*"];

    [Fact]
    public void RandomCommandSequences_SameRepliesAsRedis()
    {
        Random random = new(20261128);
        int commands = 0;
        for (int sequence = 0; sequence < 120; sequence++)
        {
            using ReplyComparison both = servers.Compare();
            string prefix = servers.NewPrefix();
            int length = random.Next(1, 50);
            for (int i = 0; i < length; i++)
            {
                string[] command = RandomCommand(random, prefix);
                Check(both, command, command[0] == "OBJECT" ? command[2] : command[1]);
                commands++;
            }
        }

        Assert.True(commands > 2000, $"{commands} commands");
    }

    private static string[] RandomCommand(Random random, string prefix)
    {
        string key = prefix + random.Next(3).ToString(CultureInfo.InvariantCulture);
        string Field() => random.Next(40) == 0 ? "long:" + s_longValue : s_fields[random.Next(s_fields.Length)];
        string Value() => random.Next(30) == 0 ? s_longValue : s_values[random.Next(s_values.Length)];
        string Pick(string[] from) => from[random.Next(from.Length)];
        return random.Next(26) switch
        {
            0 or 1 => ["HSET", key, Field(), Value()],
            2 => ["HSET", key, Field(), Value(), Field(), Value()],
            3 => ["HMSET", key, Field(), Value()],
            4 => ["HSETNX", key, Field(), Value()],
            5 => ["HGET", key, Field()],
            6 => ["HMGET", key, Field(), Field()],
            7 or 8 => ["HDEL", key, Field()],
            9 => ["HDEL", key, Field(), Field(), Field()],
            10 => ["HEXISTS", key, Field()],
            11 => ["HLEN", key],
            12 => ["HSTRLEN", key, Field()],
            13 => ["HKEYS", key],
            14 => ["HVALS", key],
            15 => ["HGETALL", key],
            16 => ["HINCRBY", key, Field(), Pick(s_increments)],
            17 => ["HINCRBYFLOAT", key, Field(), Pick(s_increments)],
            18 => ["HRANDFIELD", key],
            19 => ["HRANDFIELD", key, Pick(s_counts)],
            20 => ["HRANDFIELD", key, Pick(s_counts), "WITHVALUES"],
            21 => ["HSCAN", key, "0", "MATCH", Pick(s_patterns), "COUNT", Pick(s_counts)],
            22 => ["OBJECT", "ENCODING", key],
            23 => random.Next(4) == 0 ? ["SET", key, "string"] : ["DEL", key],
            24 => ["HSET", key, .. Enumerable.Range(0, 520).SelectMany(n => new[] { "n" + n.ToString(CultureInfo.InvariantCulture), Value() })],
            _ => ["EXISTS", key],
        };
    }

    private static void Check(ReplyComparison both, string[] command, string key)
    {
        string expected = both.Redis.Call(command);
        string actual = both.Durable.Call(command);
        if (expected == actual)
        {
            return;
        }

        string shown = string.Join(' ', command.Select(a => a.Length > 20 ? a[..20] + "..." : a));
        bool hashTable = both.Redis.Call("OBJECT", "ENCODING", key) == "$9\r\nhashtable\r\n";
        Assert.True(expected[0] != '-' && actual[0] != '-', $"{shown}\nredis:   {expected}\ndurable: {actual}");
        switch (command[0])
        {
            case "HGETALL" when hashTable:
                Assert.Equal(HashReplies.SortedPairs(expected), HashReplies.SortedPairs(actual));
                break;
            case "HKEYS" or "HVALS" when hashTable:
                Assert.Equal(HashReplies.Strings(expected).Order(StringComparer.Ordinal), HashReplies.Strings(actual).Order(StringComparer.Ordinal));
                break;
            case "HSCAN" when hashTable:
                string[] options = command[3..];
                Assert.Equal(
                    HashReplies.ScanAll(both.Redis, key, options).Pairs.Distinct().Order(),
                    HashReplies.ScanAll(both.Durable, key, options).Pairs.Distinct().Order());
                break;
            case "HRANDFIELD":
                CheckRandom(both, command, expected, actual);
                break;
            default:
                Assert.Fail($"{shown} (hashtable: {hashTable})\nredis:   {expected}\ndurable: {actual}");
                break;
        }
    }

    /// <summary>Same number of fields as Redis, every one in the hash with its value, distinct for a positive count.</summary>
    private static void CheckRandom(ReplyComparison both, string[] command, string expected, string actual)
    {
        List<(string Field, string Value)> hash = HashReplies.SortedPairs(both.Redis.Call("HGETALL", command[1]));
        if (command.Length == 2)
        {
            Assert.Contains((string)HashReplies.Parse(actual)!, hash.Select(p => p.Field));
            return;
        }

        List<string> got = HashReplies.Strings(actual);
        Assert.Equal(HashReplies.Strings(expected).Count, got.Count);
        bool withValues = command.Length == 4;
        List<string> fields = withValues ? [.. got.Where((_, i) => i % 2 == 0)] : got;
        for (int i = 0; i < fields.Count; i++)
        {
            int at = hash.FindIndex(p => p.Field == fields[i]);
            Assert.True(at >= 0, $"{fields[i]} is not in the hash");
            if (withValues)
            {
                Assert.Equal(hash[at].Value, got[(2 * i) + 1]);
            }
        }

        if (!command[2].StartsWith('-'))
        {
            Assert.Equal(fields.Count, fields.Distinct().Count());
        }
    }
}
