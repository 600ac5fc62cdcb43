using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Stream commands against redis-server, byte for byte: IDs, ranges, deletes, trimming by Redis's nodes, XREAD, XINFO.</summary>
public sealed class StreamCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void AddRangeAndDelete_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string s = p + "s";
        both.Same("XADD", s, "1-1", "a", "1", "b", "2");
        both.Same("XADD", s, "1-1", "a", "1");
        both.Same("XADD", s, "1-*", "a", "1");
        both.Same("XADD", s, "5", "c", "3");
        both.Same("XADD", s, "0-0", "a", "1");
        both.Same("XADD", p + "fresh", "0-0", "a", "1");
        both.Same("XADD", p + "fresh", "0-*", "a", "1");
        both.Same("XADD", s, "7-1", "a", "b", "c");
        both.Same("XADD", s, "9-18446744073709551615", "a", "b");
        both.Same("XADD", s, "9-*", "a", "b");
        both.Same("XADD", s, "18446744073709551615-18446744073709551615", "a", "b");
        both.Same("XADD", s, "*", "a", "b");
        both.Same("XADD", s, "18446744073709551616-0", "a", "b");
        both.Same("XLEN", s);
        both.Same("XLEN", p + "none");
        foreach (string[] range in new[]
        {
            new[] { "-", "+" }, ["(1-1", "+"], ["-", "(5"], ["1", "1"], ["5", "5"], ["(5-0", "(7-1"], ["7", "-"], ["(-", "+"],
            ["-", "(+"], ["(0-0", "+"], ["-", "(0-0"], ["(18446744073709551615-18446744073709551615", "+"], ["1-x", "+"], ["-", "9-*"],
            [" 5", "+5"], ["-0", "+"], ["01", "2"], ["5\0junk", "+"], ["-1", "+"],
        })
        {
            both.Same("XRANGE", s, range[0], range[1]);
            both.Same("XREVRANGE", s, range[1], range[0]);
        }

        both.Same("XRANGE", s, "-", "+", "COUNT", "2");
        both.Same("XREVRANGE", s, "+", "-", "COUNT", "2");
        both.Same("XRANGE", s, "-", "+", "COUNT", "0");
        both.Same("XRANGE", s, "-", "+", "COUNT", "-3");
        both.Same("XRANGE", p + "none", "-", "+", "COUNT", "0");
        both.Same("XRANGE", s, "-", "+", "COUNT");
        both.Same("XRANGE", s, "-", "+", "COUNT", "x");
        both.Same("XRANGE", s, "-", "+", "LIMIT", "1");
        both.Same("XRANGE", s, "-", "+", "count", "1", "COUNT", "3");
        both.Same("XDEL", s, "5-0", "99-1", "5-0");
        both.Same("XDEL", s, "1-1", "bad");
        both.Same("XDEL", p + "none", "bad");
        both.Same("XRANGE", s, "-", "+");
        both.Same("XDEL", s, "1-1", "1-2", "7-1", "9-18446744073709551615", "10-0");
        both.Same("XLEN", s);
        both.Same("XRANGE", s, "-", "+");
        both.Same("EXISTS", s);
        both.Same("TYPE", s);
        both.Same("OBJECT", "ENCODING", s);
        both.Same("SET", p + "str", "v");
        foreach (string command in new[] { "XLEN", "XADD", "XRANGE", "XDEL", "XTRIM", "XSETID" })
        {
            string[] args = command switch
            {
                "XLEN" => [command, p + "str"],
                "XADD" => [command, p + "str", "*", "a", "b"],
                "XRANGE" => [command, p + "str", "-", "+"],
                "XDEL" => [command, p + "str", "1-1"],
                "XTRIM" => [command, p + "str", "MAXLEN", "1"],
                _ => [command, p + "str", "1-1"],
            };
            both.Same(args);
        }
    }

    [Fact]
    public void AddAndTrimOptions_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string s = p + "s";
        for (int i = 1; i <= 20; i++)
        {
            both.Same("XADD", s, i.ToString(CultureInfo.InvariantCulture) + "-0", "f", "v");
        }

        string[][] commands =
        [
            ["XADD", s, "NOMKSTREAM", "30-0", "a", "b"],
            ["XADD", p + "none", "NOMKSTREAM", "*", "a", "b"],
            ["XADD", s, "MAXLEN", "18", "31-0", "a", "b"],
            ["XADD", s, "MAXLEN", "=", "17", "32-0", "a", "b"],
            ["XADD", s, "maxlen", "~", "1", "33-0", "a", "b"],
            ["XADD", s, "MINID", "5", "34-0", "a", "b"],
            ["XADD", s, "MINID", "=", "7-0", "35-0", "a", "b"],
            ["XADD", s, "MINID", "~", "9", "LIMIT", "0", "36-0", "a", "b"],
            ["XADD", s, "MAXLEN", "2", "MINID", "1", "*", "a", "b"],
            ["XADD", s, "LIMIT", "5", "*", "a", "b"],
            ["XADD", s, "LIMIT", "0", "*", "a", "b"],
            ["XADD", s, "MAXLEN", "5", "LIMIT", "5", "*", "a", "b"],
            ["XADD", s, "MAXLEN", "-1", "*", "a", "b"],
            ["XADD", s, "MAXLEN", "x", "*", "a", "b"],
            ["XADD", s, "MAXLEN", "~", "*", "a", "b"],
            ["XADD", s, "MINID", "x", "*", "a", "b"],
            ["XADD", s, "LIMIT", "-1", "*", "a", "b"],
            ["XADD", s, "LIMIT", "x", "*", "a", "b"],
            ["XADD", s, "MAXLEN", "~", "5", "LIMIT", "x", "*", "a", "b"],
            ["XADD", s, "FOO", "a", "b"],
            ["XADD", s, "*", "a"],
            ["XADD", s, "*", "a", "b", "c"],
            ["XADD", s, "NOMKSTREAM", "MAXLEN", "100"],
            ["XADD", s, "MAXLEN", "100", "NOMKSTREAM", "1-0", "a", "b"],
            ["XTRIM", s, "MAXLEN", "100"],
            ["XTRIM", s, "MAXLEN", "~", "2"],
            ["XTRIM", s, "MAXLEN", "=", "8"],
            ["XTRIM", s, "MINID", "35"],
            ["XTRIM", s, "MINID", "~", "40", "LIMIT", "1"],
            ["XTRIM", s, "MAXLEN", "1", "LIMIT", "1"],
            ["XTRIM", s, "LIMIT", "1"],
            ["XTRIM", s, "LIMIT", "0", "MAXLEN", "1"],
            ["XTRIM", s],
            ["XTRIM", s, "MAXLEN"],
            ["XTRIM", s, "FOO", "1"],
            ["XTRIM", s, "MAXLEN", "1", "MINID", "1"],
            ["XTRIM", s, "NOMKSTREAM", "MAXLEN", "1"],
            ["XTRIM", p + "none", "MAXLEN", "1"],
            ["XTRIM", p + "none", "MAXLEN", "x"],
            ["XTRIM", s, "MAXLEN", "0"],
            ["XLEN", s],
            ["XRANGE", s, "-", "+"],
            ["XADD", s, "MAXLEN", "0", "100-0", "a", "b"],
            ["XLEN", s],
            ["EXISTS", s],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        SameInfo(both, "XINFO", "STREAM", s);
    }

    [Fact]
    public void SetIdAndInfo_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string s = p + "s";
        both.Same("XSETID", s, "1-1");
        both.Same("XADD", s, "5-1", "a", "b");
        both.Same("XADD", s, "6-1", "c", "d", "e", "f");
        both.Same("XDEL", s, "6-1");
        string[][] commands =
        [
            ["XSETID", s, "1-1"],
            ["XSETID", s, "5-0"],
            ["XSETID", s, "5-1"],
            ["XSETID", s, "6-0"],
            ["XSETID", s, "7", "ENTRIESADDED", "1"],
            ["XSETID", s, "7", "ENTRIESADDED", "-1"],
            ["XSETID", s, "7", "ENTRIESADDED", "x"],
            ["XSETID", s, "7", "MAXDELETEDID", "8"],
            ["XSETID", s, "7", "MAXDELETEDID", "+"],
            ["XSETID", s, "7", "FOO"],
            ["XSETID", s, "7", "ENTRIESADDED"],
            ["XSETID", s, "+"],
            ["XSETID", s, "10-5", "ENTRIESADDED", "9", "MAXDELETEDID", "10-1"],
            ["XADD", s, "10-5", "a", "b"],
            ["XADD", s, "10-*", "a", "b"],
            ["XSETID", s, "18446744073709551615-18446744073709551615"],
            ["XADD", s, "*", "a", "b"],
            ["XINFO", "GROUPS", s],
            ["XINFO", "CONSUMERS", s, "g"],
            ["XINFO", "GROUPS", p + "none"],
            ["XINFO", "STREAM", p + "none"],
            ["XINFO", "STREAM", s, "FULL", "COUNT"],
            ["XINFO", "STREAM", s, "FULL", "COUNT", "x"],
            ["XINFO", "STREAM", s, "FULL", "x"],
            ["XINFO", "STREAM", s, "foo"],
            ["XINFO", "STREAM"],
            ["XINFO", "GROUPS"],
            ["XINFO", "FOO", s],
            ["XINFO", "HELP"],
            ["XINFO", "help", "x"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        SameInfo(both, "XINFO", "STREAM", s);
        SameInfo(both, "XINFO", "STREAM", s, "FULL");
        SameInfo(both, "XINFO", "STREAM", s, "full", "count", "0");
        SameInfo(both, "XINFO", "STREAM", s, "FULL", "COUNT", "-4");
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        SameInfo(both, "XINFO", "STREAM", s);
        SameInfo(both, "XINFO", "STREAM", s, "FULL");
        both.Same("XINFO", "CONSUMERS", s, "g");
    }

    /// <summary>
    /// A random mix of adds (field sets alike and not, numbers, long values), deletes and trims, with Redis's node
    /// limits lowered and raised: XTRIM with ~ and LIMIT removes the same whole nodes, and XINFO counts the same nodes.
    /// </summary>
    [Theory]
    [InlineData(1, "100", "4096")]
    [InlineData(2, "7", "4096")]
    [InlineData(3, "100", "300")]
    [InlineData(4, "0", "0")]
    public void RandomWorkload_MatchesRedisNodeByNode(int seed, string maxEntries, string maxBytes)
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("CONFIG", "SET", "stream-node-max-entries", maxEntries, "stream-node-max-bytes", maxBytes);
        try
        {
            var random = new Random(seed);
            string s = p + "s";
            long ms = 1;
            string[][] fieldSets = [["name", "value"], ["a", "1", "b", "2"], ["temperature", "x", "humidity", "y", "wind", "z"]];
            for (int step = 0; step < 700; step++)
            {
                int roll = random.Next(100);
                if (roll < 70)
                {
                    ms += random.Next(3);
                    string[] fields = [.. fieldSets[random.Next(fieldSets.Length)]];
                    for (int f = 1; f < fields.Length; f += 2)
                    {
                        fields[f] = random.Next(4) switch
                        {
                            0 => random.Next(-100000, 100000).ToString(CultureInfo.InvariantCulture),
                            1 => new string('v', random.Next(1, 90)),
                            2 => random.Next(20) == 0 ? new string('L', random.Next(4000, 5000)) : "x",
                            _ => "0" + random.Next(10).ToString(CultureInfo.InvariantCulture),
                        };
                    }

                    both.Same(["XADD", s, ms.ToString(CultureInfo.InvariantCulture) + "-*", .. fields]);
                }
                else if (roll < 85)
                {
                    both.Same("XDEL", s, RandomId(random, ms), RandomId(random, ms));
                }
                else if (roll < 95)
                {
                    string threshold = random.Next(2) == 0
                        ? random.Next(0, 300).ToString(CultureInfo.InvariantCulture)
                        : RandomId(random, ms);
                    string strategy = threshold.Contains('-', StringComparison.Ordinal) ? "MINID" : "MAXLEN";
                    List<string> command = ["XTRIM", s, strategy];
                    if (random.Next(2) == 0)
                    {
                        command.Add("~");
                        command.Add(threshold);
                        if (random.Next(2) == 0)
                        {
                            command.AddRange(["LIMIT", random.Next(0, 200).ToString(CultureInfo.InvariantCulture)]);
                        }
                    }
                    else
                    {
                        command.Add(threshold);
                    }

                    both.Same([.. command]);
                }
                else
                {
                    string start = RandomId(random, ms);
                    string end = RandomId(random, ms);
                    string count = random.Next(1, 30).ToString(CultureInfo.InvariantCulture);
                    both.Same("XRANGE", s, start, end, "COUNT", count);
                    both.Same("XREVRANGE", s, end, start, "COUNT", count);
                    both.Same("XRANGE", s, "(" + start, "+", "COUNT", count);
                    both.Same("XREAD", "COUNT", count, "STREAMS", s, start);
                }

                if (step % 50 == 0)
                {
                    SameInfo(both, "XINFO", "STREAM", s);
                }
            }

            both.Same("XLEN", s);
            both.Same("XRANGE", s, "-", "+");
            both.Same("XREVRANGE", s, "+", "-");
            SameInfo(both, "XINFO", "STREAM", s, "FULL", "COUNT", "0");
        }
        finally
        {
            both.Same("CONFIG", "SET", "stream-node-max-entries", "100", "stream-node-max-bytes", "4096");
        }
    }

    [Fact]
    public void Read_MatchesRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string a = p + "a";
        string b = p + "b";
        for (int i = 1; i <= 5; i++)
        {
            both.Same("XADD", a, i + "-1", "n", i.ToString(CultureInfo.InvariantCulture));
            both.Same("XADD", b, i + "-2", "m", i.ToString(CultureInfo.InvariantCulture));
        }

        both.Same("XDEL", a, "5-1");
        both.Same("SET", p + "str", "v");
        string[][] commands =
        [
            ["XREAD", "STREAMS", a, "0"],
            ["XREAD", "COUNT", "2", "STREAMS", a, b, "2", "0-0"],
            ["XREAD", "COUNT", "0", "STREAMS", a, b, "(", "0"],
            ["XREAD", "COUNT", "-1", "STREAMS", a, b, "3-1", "3-2"],
            ["XREAD", "STREAMS", a, b, "4-1", "5-2"],
            ["XREAD", "STREAMS", a, b, "$", "$"],
            ["XREAD", "STREAMS", p + "none", a, "0", "0"],
            ["XREAD", "STREAMS", a, p + "str", "0", "0"],
            ["XREAD", "STREAMS", a, "+"],
            ["XREAD", "STREAMS", a, "-"],
            ["XREAD", "STREAMS", a, ">"],
            ["XREAD", "STREAMS", a],
            ["XREAD", "STREAMS", a, b, "0"],
            ["XREAD", "COUNT", "x", "STREAMS", a, "0"],
            ["XREAD", "BLOCK", "x", "STREAMS", a, "0"],
            ["XREAD", "BLOCK", "-1", "STREAMS", a, "0"],
            ["XREAD", "BLOCK", "9223372036854775807", "STREAMS", a, "0"],
            ["XREAD", "BLOCK", "10", "STREAMS", a, "0"],
            ["XREAD", "BLOCK", "10", "STREAMS", a, "$"],
            ["XREAD", "GROUP", "g", "c", "STREAMS", a, "0"],
            ["XREAD", "NOACK", "STREAMS", a, "0"],
            ["XREAD", "FOO", "STREAMS", a, "0"],
            ["XREAD", "COUNT", "1", "BLOCK"],
            ["XREAD", "COUNT", "1", "2", "3"],
            ["COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", a, b, "0", "0"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        both.Same("XREAD", "COUNT", "2", "STREAMS", a, b, "2", "0-0");
        both.Same("XREAD", "STREAMS", a, "$");
        both.Same("XREAD", "BLOCK", "10", "STREAMS", a, "$");
        both.Same("XRANGE", a, "-", "+", "COUNT", "0");
    }

    // A stream's node and root are records: an entry that would take one past the largest record is refused with the
    // error every write gets there, and the stream (its length, last ID and entries) is as it was.
    [Fact]
    public void XAdd_PastTheLargestRecord_IsRefusedAndChangesNothing()
    {
        using RespTestClient client = servers.Durable.Connect();
        string s = servers.NewPrefix() + "s";
        string big = new('v', 9 << 20);
        Assert.StartsWith("-ERR value of ", client.Call("XADD", s, "1-1", "f", big), StringComparison.Ordinal);
        Assert.Equal(":0\r\n", client.Call("EXISTS", s));
        Assert.Equal("$3\r\n1-1\r\n", client.Call("XADD", s, "1-1", "f", "small"));
        string before = client.Call("XINFO", "STREAM", s);
        Assert.StartsWith("-ERR value of ", client.Call("XADD", s, "2-1", "f", big), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value of ", client.Call("XADD", s, "*", "f", "x", "g", big), StringComparison.Ordinal);
        Assert.Equal(before, client.Call("XINFO", "STREAM", s));
        Assert.Equal("$3\r\n2-1\r\n", client.Call("XADD", s, "2-1", "f", "next"));
        Assert.Equal(":2\r\n", client.Call("XLEN", s));
    }

    [Fact]
    public void BlockedReaders_AreAllServedByOneAdd_InEachDatabase()
    {
        string p = servers.NewPrefix();
        string s = p + "s";
        using RespTestClient writer = servers.Durable.Connect();
        using RespTestClient first = servers.Durable.Connect();
        using RespTestClient second = servers.Durable.Connect();
        using RespTestClient other = servers.Durable.Connect();
        writer.Call("XADD", s, "1-1", "old", "entry");
        other.Call("SELECT", "1");
        string[] readers = [.. new[] { first, second, other }.Select(r => r.Call("CLIENT", "ID")[1..^2])];
        first.Send("XREAD", "BLOCK", "0", "STREAMS", p + "empty", s, "0", "$");
        second.Send("XREAD", "COUNT", "1", "BLOCK", "60000", "STREAMS", s, "1-5");
        other.Send("XREAD", "BLOCK", "300", "STREAMS", s, "$");
        StreamTestReplies.WaitForBlocked(writer, readers);
        writer.Call("XADD", s, "2-1", "new", "entry");
        string expected = $"*1\r\n*2\r\n${s.Length}\r\n{s}\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$3\r\nnew\r\n$5\r\nentry\r\n";
        Assert.Equal(expected, first.ReadReply());
        Assert.Equal(expected, second.ReadReply());

        // Another database's reader is not served by this key, and times out with a null array.
        Assert.Equal("*-1\r\n", other.ReadReply());

        // Inside MULTI, BLOCK answers at once, as at a timeout; a script may not block.
        using ReplyComparison both = servers.Compare();
        both.Same("MULTI");
        both.Same("XREAD", "BLOCK", "0", "STREAMS", s, "$");
        both.Same("EXEC");
        both.Same("EVAL", "return redis.call('xread', 'BLOCK', '0', 'STREAMS', KEYS[1], '$')", "1", s);
        both.Same("EVAL", "return redis.call('XREAD', 'STREAMS', KEYS[1], '$')", "1", s);
    }

    [Fact]
    public void GenericCommands_OnStreams()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string s = p + "s";
        for (int i = 1; i <= 250; i++)
        {
            both.Same("XADD", s, i + "-0", "field", "value" + i);
        }

        both.Same("TYPE", s);
        both.Same("OBJECT", "ENCODING", s);
        both.Same("SET", p + "str", "v");
        Assert.Equal([s], ScanAll(both.Durable, p + "*", "stream"));
        Assert.Equal([p + "str"], ScanAll(both.Durable, p + "*", "string"));
        both.Same("COPY", s, p + "copy");
        both.Same("XDEL", p + "copy", "1-0", "100-0");
        both.Same("RENAME", p + "copy", p + "renamed");
        both.Same("XRANGE", p + "renamed", "-", "+", "COUNT", "3");
        both.Same("XLEN", p + "renamed");
        both.Same("XLEN", s);
        both.Same("EXPIRE", s, "1000");
        both.Same("XADD", s, "300-0", "a", "b");
        both.Same("TTL", s);
        both.Same("SORT", s);
        both.Same("LPUSH", s, "x");
        both.Same("DEL", s, p + "renamed");
        both.Same("EXISTS", s, p + "renamed");

    }

    /// <summary>
    /// DUMP and RESTORE both ways: a stream of several nodes with deleted entries, a trimmed head and consumer groups,
    /// dumped by Redis and restored by Durable, and dumped by Durable and restored by Redis, reads back the same.
    /// </summary>
    [Fact]
    public void DumpAndRestore_MoveStreamsBothWays()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string s = p + "s";
        for (int i = 1; i <= 400; i++)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            both.Same("XADD", s, n + "-1", "field", "value-" + n, i % 3 == 0 ? "other" : "n", n);
        }

        both.Same("XDEL", s, "50-1", "51-1", "399-1");
        both.Same("XTRIM", s, "MAXLEN", "~", "250");
        both.Same("XGROUP", "CREATE", s, "workers", "0");
        both.Same("XGROUP", "CREATE", s, "late", "$", "ENTRIESREAD", "-1");
        both.Same("XREADGROUP", "GROUP", "workers", "w1", "COUNT", "20", "STREAMS", s, ">");
        both.Same("XREADGROUP", "GROUP", "workers", "w2", "COUNT", "5", "STREAMS", s, ">");
        both.Same("XGROUP", "CREATECONSUMER", s, "workers", "idle");
        both.Same("XCLAIM", s, "workers", "w3", "0", "200-1", "FORCE", "TIME", "1700000000000", "RETRYCOUNT", "4", "JUSTID");
        both.Same("PEXPIRE", s, "100000000");

        // Redis's payload into Durable, Durable's into Redis: the same stream each time (the delivery and seen times,
        // being stored, move with it).
        string redisPayload = both.Redis.Call("DUMP", s);
        string durablePayload = both.Durable.Call("DUMP", s);
        Assert.StartsWith("$", durablePayload, StringComparison.Ordinal);
        string[] full = ["XINFO", "STREAM", s, "FULL", "COUNT", "0"];
        string inRedis = StreamTestReplies.MaskRadixNodes(both.Redis.Call(full));
        string inDurable = StreamTestReplies.MaskRadixNodes(both.Durable.Call(full));
        Assert.Equal("+OK\r\n", both.Durable.Call("RESTORE", p + "from-redis", "0", Bulk(redisPayload)));
        Assert.Equal("+OK\r\n", both.Redis.Call("RESTORE", p + "from-durable", "0", Bulk(durablePayload)));
        full[2] = p + "from-redis";
        Assert.Equal(inRedis, StreamTestReplies.MaskRadixNodes(both.Durable.Call(full)));
        full[2] = p + "from-durable";
        Assert.Equal(inDurable, StreamTestReplies.MaskRadixNodes(both.Redis.Call(full)));

        // The restored stream goes on as Redis's: the same nodes take the next entries, ~ trims the same.
        foreach (string key in new[] { p + "from-redis", p + "from-durable" })
        {
            both.Durable.Call("RESTORE", key, "0", Bulk(key.EndsWith("redis", StringComparison.Ordinal) ? redisPayload : durablePayload), "REPLACE");
            both.Redis.Call("RESTORE", key, "0", Bulk(redisPayload), "REPLACE");
            both.Same("XADD", key, "500-1", "field", "after");
            both.Same("XTRIM", key, "MAXLEN", "~", "100");
            SameInfo(both, "XINFO", "STREAM", key);
            both.Same("XRANGE", key, "-", "+", "COUNT", "5");
        }

        both.Same("RESTORE", p + "bad", "0", "\x13\x00");
    }

    // A bulk reply's bytes as a command argument (Latin-1, as RespTestClient sends strings).
    private static string Bulk(string reply) => reply[(reply.IndexOf('\n', StringComparison.Ordinal) + 1)..^2];

    // The keys a whole SCAN with MATCH and TYPE returns (the server is shared: cursors are not comparable with Redis's).
    private static List<string> ScanAll(RespTestClient client, string pattern, string type)
    {
        List<string> keys = [];
        string cursor = "0";
        do
        {
            string[] lines = client.Call("SCAN", cursor, "MATCH", pattern, "TYPE", type, "COUNT", "1000").Split("\r\n");
            cursor = lines[2];
            keys.AddRange(lines.Skip(4).Where((line, i) => i % 2 == 1));
        }
        while (cursor != "0");
        return keys;
    }

    private static string RandomId(Random random, long maxMs) =>
        random.Next(1, (int)maxMs + 2).ToString(CultureInfo.InvariantCulture) + "-" + random.Next(0, 4).ToString(CultureInfo.InvariantCulture);

    private static void SameInfo(ReplyComparison both, params string[] command) =>
        Assert.Equal(StreamTestReplies.MaskRadixNodes(both.Redis.Call(command)), StreamTestReplies.MaskRadixNodes(both.Durable.Call(command)));
}
