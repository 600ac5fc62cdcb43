using System.Globalization;

namespace Durable.Server.Tests;

public sealed class HashScanCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void HScan_ErrorsAndOptionOrder_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("HSET", p + "h", "a", "1", "b", "2");
        both.Same("SET", p + "s", "x");
        string[][] commands =
        [
            ["HSCAN", p + "h", "x"], ["HSCAN", p + "h", " 1"], ["HSCAN", p + "h", "18446744073709551616"], ["HSCAN", p + "missing", "x"],
            ["HSCAN", p + "missing", "0", "COUNT", "x"], ["HSCAN", p + "missing", "0", "BOGUS"], ["HSCAN", p + "s", "0", "COUNT", "0"],
            ["HSCAN", p + "s", "x"], ["HSCAN", p + "h", "0", "COUNT", "x"], ["HSCAN", p + "h", "0", "COUNT", "0"], ["HSCAN", p + "h", "0", "COUNT", "-1"],
            ["HSCAN", p + "h", "0", "COUNT"], ["HSCAN", p + "h", "0", "MATCH"], ["HSCAN", p + "h", "0", "TYPE", "string"], ["HSCAN", p + "h", "0", "NOVALUES"],
            ["HSCAN", p + "h", "0", "MATCH", "a", "COUNT", "0"], ["HSCAN", p + "h", "0", "COUNT", "9223372036854775808"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }
    }

    [Fact]
    public void HScan_Listpack_WholeHashInOneReplyWhateverCount()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Same(["HSET", k, .. HashCommandsTests.Fields(0, 100)]);
        both.Same("HSET", k, "", "empty", "a*b", "star");
        both.Same("HSCAN", k, "0");
        both.Same("HSCAN", k, "0", "COUNT", "1");
        both.Same("HSCAN", k, "17", "COUNT", "1");
        both.Same("HSCAN", k, "-1");
        foreach (string cursor in new[] { "", "+0", "-0", "00", "0\0junk", "18446744073709551615" })
        {
            both.Same("HSCAN", k, cursor, "COUNT", "5");
        }
        both.Same("HSCAN", k, "0", "MATCH", "f1*");
        both.Same("HSCAN", k, "0", "MATCH", "f?", "COUNT", "2");
        both.Same("HSCAN", k, "0", "MATCH", "f1*", "MATCH", "f2*");
        both.Same("HSCAN", k, "0", "COUNT", "1", "COUNT", "1000");
        both.Same("HSCAN", k, "0", "MATCH", "*");
        both.Same("HSCAN", k, "0", "MATCH", "v*");
        both.Same("HSCAN", k, "0", "MATCH", "a\\*b");
        both.Same("HSCAN", k, "0", "match", "[a-e]*", "count", "3");
        both.Same("HSCAN", k, "0", "COUNT\0junk", "3", "MATCH\0junk", "f9*");
    }

    [Theory]
    [InlineData("1")]
    [InlineData("7")]
    [InlineData("10")]
    [InlineData("1000")]
    public void HScan_HashTable_VisitsEveryFieldOnceAboutCountPerCall(string count)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Same(["HSET", k, .. HashCommandsTests.Fields(0, 600)]);
        both.Same("OBJECT", "ENCODING", k);
        (List<(string Field, string Value)> redis, _) = HashReplies.ScanAll(both.Redis, k, "COUNT", count);
        (List<(string Field, string Value)> durable, int calls) = HashReplies.ScanAll(both.Durable, k, "COUNT", count);
        Assert.Equal(redis.Distinct().Order(), durable.Order());
        int perCall = int.Parse(count, CultureInfo.InvariantCulture);
        Assert.Equal((600 + perCall - 1) / perCall, calls);

        (List<(string Field, string Value)> matched, _) = HashReplies.ScanAll(both.Durable, k, "MATCH", "f1*", "COUNT", count);
        (List<(string Field, string Value)> matchedRedis, _) = HashReplies.ScanAll(both.Redis, k, "MATCH", "f1*", "COUNT", count);
        Assert.Equal(matchedRedis.Distinct().Order(), matched.Order());
    }

    [Fact]
    public void HScan_HashTable_FieldPresentThroughoutIsReturnedWhileOthersChange()
    {
        using Durable.Testing.RespTestClient scanner = servers.Durable.Connect();
        using Durable.Testing.RespTestClient writer = servers.Durable.Connect();
        string k = servers.NewPrefix() + "h";
        Random random = new(42);
        List<string> churn = [];
        for (int i = 0; i < 1200; i++)
        {
            string field = (i % 2 == 0 ? "stable:" : "churn:") + i.ToString(CultureInfo.InvariantCulture);
            writer.Call("HSET", k, field, "v");
            if (i % 2 == 1)
            {
                churn.Add(field);
            }
        }

        HashSet<string> seen = [];
        string cursor = "0";
        int next = 1200;
        do
        {
            List<object?> reply = HashReplies.Elements(scanner.Call("HSCAN", k, cursor, "COUNT", "9"));
            cursor = (string)reply[0]!;
            List<object?> items = (List<object?>)reply[1]!;
            for (int i = 0; i < items.Count; i += 2)
            {
                seen.Add((string)items[i]!);
            }

            // Between calls: delete some churning fields (before and after the cursor) and add new ones.
            for (int j = 0; j < 3 && churn.Count > 0; j++)
            {
                int victim = random.Next(churn.Count);
                Assert.Equal(":1\r\n", writer.Call("HDEL", k, churn[victim]));
                churn.RemoveAt(victim);
            }

            string added = "new:" + next++.ToString(CultureInfo.InvariantCulture);
            writer.Call("HSET", k, added, "v");
            churn.Add(added);
        }
        while (cursor != "0");

        for (int i = 0; i < 1200; i += 2)
        {
            Assert.Contains("stable:" + i.ToString(CultureInfo.InvariantCulture), seen);
        }
    }
}
