using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>SPOP and SRANDMEMBER: errors byte for byte, random replies by their properties.</summary>
public sealed class SetRandomCommandsTests(ReferenceServers servers)
{
    [Theory]
    [InlineData("-1")]
    [InlineData("x")]
    [InlineData("")]
    [InlineData("1.5")]
    [InlineData("-9223372036854775808")]
    [InlineData("9223372036854775808")]
    [InlineData("+1")]
    public void Counts_Invalid_ErrorsMatchRedis(string count)
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "str", "v");
        both.Same("SADD", p + "s", "1", "2");
        foreach (string key in new[] { p + "s", p + "missing", p + "str" })
        {
            both.Same("SPOP", key, count);
            if (count != "-1")
            {
                // SRANDMEMBER takes negative counts (picks with repeats).
                both.Same("SRANDMEMBER", key, count);
            }
        }

        both.Same("SMEMBERS", p + "s");
    }

    [Fact]
    public void SPop_WholeSetOrNothing_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SADD", p + "i", "5", "1", "3");
        both.Same("SPOP", p + "i", "0");
        both.Same("SPOP", p + "i", "3");
        both.Same("EXISTS", p + "i");
        both.Same("SADD", p + "i", "5", "1", "3");
        both.Same("SPOP", p + "i", "9223372036854775807");
        both.Same("EXISTS", p + "i");
        both.Same("SPOP", p + "i");
        both.Same("SPOP", p + "i", "1");
        both.Same("SADD", p + "one", "only");
        both.Same("SPOP", p + "one");
        both.Same("EXISTS", p + "one");
        both.Same("SADD", p + "h", "a", "b", "1");
        SetReplies.SameUnordered(both, "SPOP", p + "h", "10");
        both.Same("EXISTS", p + "h");

        // A hashtable of integers popped whole is replied as the new set Redis builds of it: an intset, in order.
        both.Same(["SADD", p + "big", .. SetReplies.Numbers(1, 520)]);
        both.Same(["SREM", p + "big", .. SetReplies.Numbers(6, 520)]);
        both.Same("SPOP", p + "big", "5");
    }

    [Fact]
    public void SPop_Some_RemovesExactlyWhatItReturns()
    {
        using RespTestClient client = servers.Durable.Connect();
        string p = servers.NewPrefix();
        foreach (bool integers in new[] { true, false })
        {
            string key = p + integers;
            HashSet<string> model = [.. SetReplies.Numbers(1, 40).Select(m => integers ? m : "m" + m)];
            client.Call(["SADD", key, .. model]);
            foreach (int count in new[] { 1, 3, 0, 10, 2 })
            {
                List<string> popped = SetReplies.Members(client.Call("SPOP", key, count.ToString(CultureInfo.InvariantCulture)));
                Assert.Equal(count, popped.Count);
                Assert.Equal(count, popped.Distinct().Count());
                Assert.All(popped, m => Assert.True(model.Remove(m), m));
                Assert.Equal(model.Order(StringComparer.Ordinal), SetReplies.Members(client.Call("SMEMBERS", key)).Order(StringComparer.Ordinal));
            }

            string single = client.Call("SPOP", key);
            Assert.True(model.Remove(single.Split("\r\n")[1]));
            Assert.Equal(model.Count.ToString(CultureInfo.InvariantCulture), client.Call("SCARD", key)[1..^2]);
        }
    }

    [Fact]
    public void SPop_FewRemain_RebuildsTheSetAsRedisDoes()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        // Case 3 of Redis's spopWithCountCommand: at most a fifth as many remain as are popped, so the remaining members
        // form a new set, which is an intset again when they are integers.
        both.Same(["SADD", p + "big", .. SetReplies.Numbers(1, 600)]);
        both.Same(["SADD", p + "mixed", .. SetReplies.Numbers(1, 20), "a"]);
        both.Same(["SADD", p + "stays", .. SetReplies.Numbers(1, 600)]);
        foreach (RespTestClient client in new[] { both.Durable, both.Redis })
        {
            client.Call("SPOP", p + "big", "590");
            client.Call("SPOP", p + "stays", "100");
        }

        both.Same("OBJECT", "ENCODING", p + "big");
        both.Same("SCARD", p + "big");
        both.Same("OBJECT", "ENCODING", p + "stays");
        both.Same("SCARD", p + "stays");

        List<string> popped = SetReplies.Members(both.Durable.Call("SPOP", p + "mixed", "19"));
        List<string> left = SetReplies.Members(both.Durable.Call("SMEMBERS", p + "mixed"));
        Assert.Equal(2, left.Count);
        Assert.Equal(left.Contains("a") ? "$9\r\nhashtable\r\n" : "$6\r\nintset\r\n", both.Durable.Call("OBJECT", "ENCODING", p + "mixed"));
        Assert.Equal(21, popped.Concat(left).Distinct().Count());
    }

    [Fact]
    public void SRandMember_Counts_HaveRedisShapes()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SADD", p + "i", "5", "1", "3", "7");
        both.Same("SRANDMEMBER", p + "i", "0");
        both.Same("SRANDMEMBER", p + "i", "4");
        both.Same("SRANDMEMBER", p + "i", "100");
        both.Same("SRANDMEMBER", p + "missing", "-5");
        both.Same("SRANDMEMBER", p + "missing", "5");
        both.Same("SRANDMEMBER", p + "missing");
        both.Same("SADD", p + "h", "a", "b", "c");
        SetReplies.SameUnordered(both, "SRANDMEMBER", p + "h", "3");
        SetReplies.SameUnordered(both, "SRANDMEMBER", p + "h", "10");

        using RespTestClient client = servers.Durable.Connect();
        HashSet<string> members = ["1", "3", "5", "7"];
        for (int round = 0; round < 20; round++)
        {
            Assert.Contains(client.Call("SRANDMEMBER", p + "i").Split("\r\n")[1], members);
            List<string> distinct = SetReplies.Members(client.Call("SRANDMEMBER", p + "i", "3"), out char type);
            Assert.Equal('*', type);
            Assert.Equal(3, distinct.Distinct().Count());
            Assert.All(distinct, m => Assert.Contains(m, members));
            List<string> repeats = SetReplies.Members(client.Call("SRANDMEMBER", p + "i", "-10"));
            Assert.Equal(10, repeats.Count);
            Assert.All(repeats, m => Assert.Contains(m, members));
            Assert.Single(SetReplies.Members(client.Call("SRANDMEMBER", p + "i", "1")));
        }

        // Over many picks every member turns up, both with and without repeats.
        List<string> many = SetReplies.Members(client.Call("SRANDMEMBER", p + "i", "-400"));
        Assert.Equal(members.Order(), many.Distinct().Order());
        HashSet<string> seen = [];
        for (int round = 0; round < 200 && seen.Count < 4; round++)
        {
            seen.UnionWith(SetReplies.Members(client.Call("SRANDMEMBER", p + "i", "2")));
        }

        Assert.Equal(4, seen.Count);
        Assert.Equal("*4\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$1\r\n7\r\n", client.Call("SMEMBERS", p + "i"));
    }
}
