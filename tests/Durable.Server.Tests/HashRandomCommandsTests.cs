namespace Durable.Server.Tests;

public sealed class HashRandomCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void HRandField_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("HSET", p + "h", "a", "1", "b", "2", "c", "3");
        both.Same("SET", p + "s", "x");
        string[][] commands =
        [
            ["HRANDFIELD", p + "h", "x"], ["HRANDFIELD", p + "h", "1.5"], ["HRANDFIELD", p + "h", "9223372036854775808"],
            ["HRANDFIELD", p + "h", "-9223372036854775808"], ["HRANDFIELD", p + "h", "1", "WITHVALUE"], ["HRANDFIELD", p + "h", "1", "WITHVALUES", "x"],
            ["HRANDFIELD", p + "h", "4611686018427387904", "WITHVALUES"], ["HRANDFIELD", p + "h", "-4611686018427387904", "WITHVALUES"],
            ["HRANDFIELD", p + "s", "x"], ["HRANDFIELD", p + "s", "1", "foo"], ["HRANDFIELD", p + "s", "-4611686018427387904", "WITHVALUES"],
            ["HRANDFIELD", p + "s"], ["HRANDFIELD", p + "s", "0"], ["HRANDFIELD", p + "s", "-1"], ["HRANDFIELD", p + "missing", "x"],
            ["HRANDFIELD", p + "missing", "1", "foo"], ["HRANDFIELD", p + "missing", "0"], ["HRANDFIELD", p + "missing", "-5", "WITHVALUES"],
            ["HRANDFIELD", p + "h", "0"], ["HRANDFIELD", p + "h", "0", "WITHVALUES"], ["HRANDFIELD", p + "h", "9223372036854775807"],
            ["HRANDFIELD", p + "h", "4611686018427387903", "withvalues"], ["HRANDFIELD", p + "h", "3", "WithValues\0junk"], ["HRANDFIELD", p + "h", "3"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }
    }

    [Fact]
    public void HRandField_Listpack_PositiveCountGivesDistinctFieldsInHashOrder()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix() + "h";
        string[] fields = [.. Enumerable.Range(0, 20).Select(i => $"f{i}")];
        client.Call(["HSET", k, .. fields.SelectMany(f => new[] { f, "v" + f })]);
        HashSet<string> seen = [];
        for (int round = 0; round < 200; round++)
        {
            List<string> picked = HashReplies.Strings(client.Call("HRANDFIELD", k, "5"));
            Assert.Equal(5, picked.Count);
            Assert.Equal(picked.OrderBy(f => Array.IndexOf(fields, f)), picked);
            Assert.Equal(5, picked.Distinct().Count());
            seen.UnionWith(picked);

            List<string> pairs = HashReplies.Strings(client.Call("HRANDFIELD", k, "3", "WITHVALUES"));
            Assert.Equal(6, pairs.Count);
            for (int i = 0; i < pairs.Count; i += 2)
            {
                Assert.Equal("v" + pairs[i], pairs[i + 1]);
            }
        }

        Assert.Equal(fields.Length, seen.Count);
    }

    [Fact]
    public void HRandField_NegativeCount_MayRepeatAndCoversEveryField()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix() + "h";
        client.Call("HSET", k, "a", "1", "b", "2", "c", "3");
        List<string> picked = HashReplies.Strings(client.Call("HRANDFIELD", k, "-300"));
        Assert.Equal(300, picked.Count);
        Assert.Equal(["a", "b", "c"], picked.Distinct().Order(StringComparer.Ordinal));
        List<string> pairs = HashReplies.Strings(client.Call("HRANDFIELD", k, "-50", "WITHVALUES"));
        Assert.Equal(100, pairs.Count);
        for (int i = 0; i < pairs.Count; i += 2)
        {
            Assert.Equal(pairs[i] switch { "a" => "1", "b" => "2", _ => "3" }, pairs[i + 1]);
        }

        Assert.Equal("*1\r\n", client.Call("HRANDFIELD", k, "-1")[..4]);
        HashSet<string> single = [];
        for (int i = 0; i < 100; i++)
        {
            single.Add((string)HashReplies.Parse(client.Call("HRANDFIELD", k))!);
        }

        Assert.Equal(3, single.Count);
    }

    [Fact]
    public void HRandField_Resp3_PairsAreTwoElementArrays()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Redis.Call("HELLO", "3");
        both.Durable.Call("HELLO", "3");
        both.Same("HSET", k, "a", "1", "b", "2");
        both.Same("HRANDFIELD", k, "2", "WITHVALUES");
        both.Same("HRANDFIELD", k, "5", "withvalues");
        string one = both.Durable.Call("HRANDFIELD", k, "-3", "WITHVALUES");
        List<object?> elements = HashReplies.Elements(one);
        Assert.StartsWith("*3\r\n*2\r\n$1\r\n", one, StringComparison.Ordinal);
        Assert.All(elements, e => Assert.Equal(2, ((List<object?>)e!).Count));
        Assert.Equal("*1\r\n*2\r\n", both.Durable.Call("HRANDFIELD", k, "1", "WITHVALUES")[..8]);
        Assert.Equal(2, HashReplies.Strings(both.Durable.Call("HRANDFIELD", k, "-2")).Count);
    }

    [Fact]
    public void HRandField_HashTable_CountAtLeastSizeGivesWholeHash()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        string[] fields = [.. Enumerable.Range(0, 600).Select(i => $"f{i}")];
        both.Same(["HSET", k, .. fields.SelectMany(f => new[] { f, "v" + f })]);
        both.Same("OBJECT", "ENCODING", k);
        Assert.Equal(
            HashReplies.SortedPairs(both.Redis.Call("HRANDFIELD", k, "600", "WITHVALUES")),
            HashReplies.SortedPairs(both.Durable.Call("HRANDFIELD", k, "600", "WITHVALUES")));
        List<string> some = HashReplies.Strings(both.Durable.Call("HRANDFIELD", k, "450"));
        Assert.Equal(450, some.Distinct().Count());
        Assert.All(some, f => Assert.Contains(f, fields));
        Assert.Equal(1000, HashReplies.Strings(both.Durable.Call("HRANDFIELD", k, "-1000")).Count);
    }

    [Fact]
    public void HRandField_HugeNegativeCount_RefusedInsteadOfAnUnboundedReply()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix() + "h";
        client.Call("HSET", k, "a", "1");
        Assert.StartsWith("-ERR HRANDFIELD reply of 9223372036854775807 fields would exceed proto-max-bulk-len", client.Call("HRANDFIELD", k, "-9223372036854775807"), StringComparison.Ordinal);
        Assert.StartsWith("-ERR HRANDFIELD reply of ", client.Call("HRANDFIELD", k, "-4611686018427387903", "WITHVALUES"), StringComparison.Ordinal);
        Assert.Equal("*1\r\n$1\r\na\r\n", client.Call("HRANDFIELD", k, "9223372036854775807"));
        Assert.Equal("+PONG\r\n", client.Call("PING"));
    }
}
