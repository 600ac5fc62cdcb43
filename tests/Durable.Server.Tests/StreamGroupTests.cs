using System.Globalization;
using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Consumer groups against redis-server, byte for byte: XGROUP, XREADGROUP (new entries, history, NOACK, blocking),
/// XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO GROUPS/CONSUMERS/STREAM FULL, the groups' read counters and lag. Times
/// (idle, seen and delivery times) differ by the milliseconds between the two servers and are masked, as is XINFO's
/// radix-tree-nodes (Durable's is an estimate).
/// </summary>
public sealed partial class StreamGroupTests(ReferenceServers servers)
{
    [Fact]
    public void GroupCommands_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string s = p + "s";
        string none = p + "none";
        both.Same("SET", p + "str", "v");
        string[][] commands =
        [
            ["XGROUP", "CREATE", s, "g", "$"],
            ["XGROUP", "CREATE", p + "str", "g", "$"],
            ["XGROUP", "CREATE", s, "g", "$", "MKSTREAM"],
            ["XGROUP", "CREATE", s, "g", "$", "MKSTREAM"],
            ["XGROUP", "CREATE", s, "g2", "0", "ENTRIESREAD", "5"],
            ["XGROUP", "CREATE", s, "g3", "0", "ENTRIESREAD", "-2"],
            ["XGROUP", "CREATE", s, "g3", "0", "ENTRIESREAD", "x"],
            ["XGROUP", "CREATE", s, "g3", "0", "FOO"],
            ["XGROUP", "CREATE", s, "g3", "-"],
            ["XGROUP", "CREATE", s, "g3", "bad"],
            ["XGROUP", "CREATE", s, "g3", "0", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"],
            ["XGROUP", "CREATE", s],
            ["XADD", s, "1-1", "a", "1"],
            ["XADD", s, "2-1", "b", "2"],
            ["XADD", s, "3-1", "c", "3"],
            ["XINFO", "GROUPS", s],
            ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", s, ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, ">"],
            ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", s, ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, "0"],
            ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", s, "1-1"],
            ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", s, "0"],
            ["XREADGROUP", "GROUP", "nog", "c1", "STREAMS", s, ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, "$"],
            ["XREADGROUP", "STREAMS", s, ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", none, ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", p + "str", ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, s, ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, "bad"],
            ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "-1", "STREAMS", s, ">"],
            ["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "10", "STREAMS", s, ">"],
            ["XREAD", "STREAMS", s, ">"],
            ["XINFO", "GROUPS", s],
            ["XPENDING", s, "g"],
            ["XPENDING", s, "g2"],
            ["XPENDING", s, "g", "IDLE"],
            ["XPENDING", s, "g", "foo", "bar"],
            ["XPENDING", s, "g", "IDLE", "x", "-", "+", "10"],
            ["XPENDING", s, "g", "IDLE", "10", "-", "+"],
            ["XPENDING", s, "g", "-", "+", "x"],
            ["XPENDING", s, "g", "(-", "+", "10"],
            ["XPENDING", s, "g", "-", "(0-0", "10"],
            ["XPENDING", s, "g", "-", "+", "10", "nobody"],
            ["XPENDING", s, "g", "-", "+", "0"],
            ["XPENDING", s, "nog"],
            ["XPENDING", none, "g"],
            ["XPENDING", p + "str", "g"],
            ["XACK", s, "g", "1-1", "9-9", "1-1"],
            ["XACK", s, "g", "bad"],
            ["XACK", s, "nog", "bad"],
            ["XACK", none, "g", "1-1"],
            ["XACK", p + "str", "g", "1-1"],
            ["XPENDING", s, "g"],
            ["XGROUP", "SETID", s, "g", "0"],
            ["XINFO", "GROUPS", s],
            ["XREADGROUP", "GROUP", "g", "c3", "NOACK", "STREAMS", s, ">"],
            ["XINFO", "GROUPS", s],
            ["XPENDING", s, "g"],
            ["XGROUP", "SETID", s, "g", "1-1", "ENTRIESREAD", "1"],
            ["XGROUP", "SETID", s, "g", "+", "ENTRIESREAD"],
            ["XGROUP", "SETID", s, "g", "+", "FOO", "1"],
            ["XGROUP", "SETID", s, "g", "bad"],
            ["XINFO", "GROUPS", s],
            ["XDEL", s, "2-1"],
            ["XINFO", "GROUPS", s],
            ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, "0"],
            ["XGROUP", "CREATECONSUMER", s, "g", "c9"],
            ["XGROUP", "CREATECONSUMER", s, "g", "c9"],
            ["XGROUP", "DELCONSUMER", s, "g", "c1"],
            ["XGROUP", "DELCONSUMER", s, "g", "nobody"],
            ["XGROUP", "DESTROY", s, "g2"],
            ["XGROUP", "DESTROY", s, "g2"],
            ["XGROUP", "SETID", s, "nog", "0"],
            ["XGROUP", "CREATECONSUMER", none, "g", "c"],
            ["XGROUP", "DESTROY", none, "g"],
            ["XGROUP", "HELP"],
            ["XGROUP", "FOO"],
            ["XGROUP", "FOO", s, "g"],
            ["XCLAIM", s, "g", "c5", "0", "3-1", "JUSTID"],
            ["XCLAIM", s, "g", "c5", "0", "3-1", "FOO"],
            ["XCLAIM", s, "g", "c5", "x", "3-1"],
            ["XCLAIM", s, "g", "c5", "0", "3-1", "IDLE", "x"],
            ["XCLAIM", s, "g", "c5", "0", "3-1", "TIME", "x"],
            ["XCLAIM", s, "g", "c5", "0", "3-1", "RETRYCOUNT", "x"],
            ["XCLAIM", s, "g", "c5", "0", "3-1", "LASTID", "x"],
            ["XCLAIM", s, "nog", "c5", "0", "3-1"],
            ["XCLAIM", none, "g", "c5", "0", "3-1"],
            ["XCLAIM", s, "g", "c5", "0", "1-1", "FORCE", "RETRYCOUNT", "7"],
            ["XCLAIM", s, "g", "c5", "0", "2-1", "FORCE"],
            ["XCLAIM", s, "g", "c5", "3600000", "1-1", "3-1"],
            ["XCLAIM", s, "g", "c4", "0", "1-1", "3-1", "LASTID", "5-0"],
            ["XINFO", "GROUPS", s],
            ["XAUTOCLAIM", s, "g", "c6", "0", "0", "COUNT", "0"],
            ["XAUTOCLAIM", s, "g", "c6", "0", "0", "COUNT", "x"],
            ["XAUTOCLAIM", s, "g", "c6", "x", "0"],
            ["XAUTOCLAIM", s, "g", "c6", "0", "bad"],
            ["XAUTOCLAIM", s, "g", "c6", "0", "(18446744073709551615-18446744073709551615"],
            ["XAUTOCLAIM", s, "g", "c6", "0", "0", "COUNT", "1"],
            ["XAUTOCLAIM", s, "g", "c6", "0", "0", "JUSTID"],
            ["XAUTOCLAIM", s, "g", "c6", "3600000", "0"],
            ["XAUTOCLAIM", s, "g", "c6", "0", "(0", "FOO"],
            ["XAUTOCLAIM", s, "nog", "c6", "0", "0"],
            ["XDEL", s, "3-1"],
            ["XAUTOCLAIM", s, "g", "c7", "0", "0"],
            ["XPENDING", s, "g"],
            ["XGROUP", "CREATE", p + "s2", "g", "0", "MKSTREAM"],
            ["XINFO", "GROUPS", p + "s2"],
            ["XADD", p + "s2", "1-1", "a", "b"],
            ["XINFO", "GROUPS", p + "s2"],
            ["XINFO", "CONSUMERS", s, "nog"],
            ["XINFO", "CONSUMERS", none, "g"],
            ["XINFO", "GROUPS", p + "str"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        SameMasked(both, "XINFO", "CONSUMERS", s, "g");
        SameMasked(both, "XPENDING", s, "g", "-", "+", "10");
        SameMasked(both, "XPENDING", s, "g", "IDLE", "0", "-", "+", "10", "c6");
        SameMasked(both, "XINFO", "STREAM", s, "FULL");
        SameMasked(both, "XINFO", "STREAM", s, "FULL", "COUNT", "1");
        SameMasked(both, "XINFO", "STREAM", s);
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        both.Same("XREADGROUP", "GROUP", "g", "c1", "STREAMS", s, "0");
        both.Same("XINFO", "GROUPS", s);
        both.Same("XPENDING", s, "g");
        both.Same("XPENDING", s, "g2");
        SameMasked(both, "XINFO", "STREAM", s, "FULL");
        SameMasked(both, "XINFO", "CONSUMERS", s, "g");
    }

    /// <summary>
    /// Random adds, deletes, trims, group reads (new entries and history, NOACK), acknowledgements, claims and SETIDs
    /// over two groups of three consumers: the pending lists, read counters and lags stay Redis's.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomGroupWorkload_MatchesRedis(int seed)
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        var random = new Random(seed);
        string s = p + "s";
        string[] groups = ["ga", "gb"];
        string[] consumers = ["c1", "c2", "c3"];
        both.Same("XGROUP", "CREATE", s, "ga", "0", "MKSTREAM");
        both.Same("XGROUP", "CREATE", s, "gb", "$", "ENTRIESREAD", "0");
        long ms = 1;
        for (int step = 0; step < 600; step++)
        {
            string group = groups[random.Next(groups.Length)];
            string consumer = consumers[random.Next(consumers.Length)];
            int roll = random.Next(100);
            if (roll < 35)
            {
                ms += random.Next(1, 3);
                both.Same("XADD", s, ms.ToString(CultureInfo.InvariantCulture) + "-*", "f", random.Next(1000).ToString(CultureInfo.InvariantCulture));
            }
            else if (roll < 55)
            {
                List<string> command = ["XREADGROUP", "GROUP", group, consumer];
                if (random.Next(2) == 0)
                {
                    command.AddRange(["COUNT", random.Next(1, 6).ToString(CultureInfo.InvariantCulture)]);
                }

                if (random.Next(6) == 0)
                {
                    command.Add("NOACK");
                }

                command.AddRange(["STREAMS", s, random.Next(4) == 0 ? RandomId(random, ms) : ">"]);
                both.Same([.. command]);
            }
            else if (roll < 68)
            {
                both.Same("XACK", s, group, RandomId(random, ms), RandomId(random, ms), RandomId(random, ms));
            }
            else if (roll < 75)
            {
                both.Same("XDEL", s, RandomId(random, ms));
            }
            else if (roll < 80)
            {
                both.Same("XCLAIM", s, group, consumer, "0", RandomId(random, ms), RandomId(random, ms), "JUSTID");
            }
            else if (roll < 84)
            {
                both.Same("XAUTOCLAIM", s, group, consumer, "0", RandomId(random, ms), "COUNT", random.Next(1, 4).ToString(CultureInfo.InvariantCulture), "JUSTID");
            }
            else if (roll < 87)
            {
                both.Same(random.Next(2) == 0
                    ? ["XGROUP", "SETID", s, group, RandomId(random, ms)]
                    : ["XGROUP", "SETID", s, group, RandomId(random, ms), "ENTRIESREAD", random.Next(-1, 20).ToString(CultureInfo.InvariantCulture)]);
            }
            else if (roll < 90)
            {
                both.Same("XTRIM", s, "MAXLEN", random.Next(5, 40).ToString(CultureInfo.InvariantCulture));
            }
            else if (roll < 92)
            {
                both.Same("XGROUP", "DELCONSUMER", s, group, consumer);
            }
            else
            {
                both.Same("XINFO", "GROUPS", s);
                both.Same("XPENDING", s, group);
                SameMasked(both, "XPENDING", s, group, "-", "+", "100", consumer);
            }
        }

        both.Same("XINFO", "GROUPS", s);
        SameMasked(both, "XINFO", "STREAM", s, "FULL", "COUNT", "0");
    }

    [Fact]
    public void BlockedGroupReaders_AreServedOnceEach_AndToldWhenTheGroupOrKeyGoes()
    {
        string p = servers.NewPrefix();
        string s = p + "s";
        using RespTestClient writer = servers.Durable.Connect();
        using RespTestClient first = servers.Durable.Connect();
        using RespTestClient second = servers.Durable.Connect();
        using RespTestClient other = servers.Durable.Connect();
        writer.Call("XGROUP", "CREATE", s, "g", "$", "MKSTREAM");
        writer.Call("XGROUP", "CREATE", s, "h", "$");
        string[] ids = [.. new[] { first, second, other }.Select(r => r.Call("CLIENT", "ID")[1..^2])];
        first.Send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", s, ">");
        second.Send("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", s, ">");
        other.Send("XREADGROUP", "GROUP", "h", "carol", "BLOCK", "0", "STREAMS", s, ">");
        StreamTestReplies.WaitForBlocked(writer, ids);
        writer.Call("XADD", s, "1-1", "job", "one");

        // One consumer of g gets the entry; h's consumer gets it too; g's other consumer waits for the next.
        string entry = $"*1\r\n*2\r\n${s.Length}\r\n{s}\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$3\r\njob\r\n$3\r\none\r\n";
        Assert.Equal(entry, other.ReadReply());
        // The woken readers retry on their own: wait until g's consumer has taken the entry.
        string pending = writer.Call("XPENDING", s, "g");
        for (int i = 0; i < 500 && pending.StartsWith("*4\r\n:0\r\n", StringComparison.Ordinal); i++)
        {
            Thread.Sleep(10);
            pending = writer.Call("XPENDING", s, "g");
        }

        bool aliceFirst = pending.Contains("alice", StringComparison.Ordinal);
        RespTestClient served = aliceFirst ? first : second;
        RespTestClient waiting = aliceFirst ? second : first;
        Assert.Equal(entry, served.ReadReply());
        writer.Call("XADD", s, "2-1", "job", "two");
        Assert.Contains("2-1", waiting.ReadReply(), StringComparison.Ordinal);
        Assert.Equal(":2\r\n", writer.Call("XLEN", s));

        // A reader blocked on a group that is destroyed, or on a key that is deleted, is told so.
        Assert.Contains("2-1", other.Call("XREADGROUP", "GROUP", "h", "carol", "STREAMS", s, ">"), StringComparison.Ordinal);
        other.Send("XREADGROUP", "GROUP", "h", "carol", "BLOCK", "0", "STREAMS", s, ">");
        first.Send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", s, ">");
        StreamTestReplies.WaitForBlocked(writer, [ids[0], ids[2]]);
        writer.Call("XGROUP", "DESTROY", s, "h");
        Assert.Equal("-NOGROUP the consumer group this client was blocked on no longer exists\r\n", other.ReadReply());
        writer.Call("DEL", s);
        Assert.Equal("-UNBLOCKED the stream key no longer exists\r\n", first.ReadReply());
    }

    private static string RandomId(Random random, long maxMs) =>
        random.Next(0, (int)maxMs + 2).ToString(CultureInfo.InvariantCulture) + "-" + random.Next(0, 2).ToString(CultureInfo.InvariantCulture);

    // Times differ between the servers by the milliseconds between the two calls: idle times, seen times and delivery
    // times (XPENDING's, XINFO CONSUMERS' and XINFO STREAM FULL's) are masked; everything else must be equal.
    private static void SameMasked(ReplyComparison both, params string[] command)
    {
        Assert.Equal(Mask(both.Redis.Call(command)), Mask(both.Durable.Call(command)));
    }

    private static string Mask(string reply)
    {
        reply = Timestamp().Replace(reply, ":T\r\n");
        reply = StreamTestReplies.MaskRadixNodes(reply);
        reply = Idle().Replace(reply, "idle\r\n:I\r\n");
        return PendingIdle().Replace(reply, "$1:I\r\n");
    }

    [GeneratedRegex(":[0-9]{13}\r\n")]
    private static partial Regex Timestamp();

    [GeneratedRegex("idle\r\n:[0-9]+\r\n")]
    private static partial Regex Idle();

    // XPENDING's extended form: ID, consumer, idle milliseconds, deliveries.
    [GeneratedRegex("(\\*4\r\n\\$[0-9]+\r\n[0-9]+-[0-9]+\r\n\\$[0-9]+\r\n[^\r]*\r\n):[0-9]+\r\n")]
    private static partial Regex PendingIdle();
}
