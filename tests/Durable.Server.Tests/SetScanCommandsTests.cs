using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class SetScanCommandsTests(ReferenceServers servers)
{
    private static string[] Members(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture))];

    [Fact]
    public void SScan_IntSet_WholeSetInOneReply()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "i";
        both.Same("SADD", k, "30", "1", "-2", "10", "11", "100");
        both.Same("SSCAN", k, "0");
        both.Same("SSCAN", k, "12345");
        both.Same("SSCAN", k, "0", "COUNT", "1");
        both.Same("SSCAN", k, "0", "MATCH", "1*");
        both.Same("SSCAN", k, "0", "match", "*", "count", "2");
        both.Same("SSCAN", k, "0", "MATCH", "1*", "MATCH", "-*");
        both.Same("SSCAN", k, "0", "MATCH", "nothing");
        both.Same("SSCAN", k, "-1");
        both.Same("SSCAN", k, "");
    }

    [Theory]
    [InlineData("x")]
    [InlineData("1.5")]
    [InlineData(" 1")]
    [InlineData("18446744073709551616")]
    [InlineData("-")]
    public void SScan_BadCursor_ErrorsBeforeTheKeyIsLookedAt(string cursor)
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "str", "v");
        both.Same("SSCAN", p + "missing", cursor);
        both.Same("SSCAN", p + "str", cursor);
    }

    [Fact]
    public void SScan_Options_CheckedAfterTheKeyAsRedisDoes()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "str", "v");
        both.Same("SADD", p + "s", "1", "a");
        string[][] options =
        [
            ["COUNT"], ["COUNT", "0"], ["COUNT", "-1"], ["COUNT", "x"], ["MATCH"], ["TYPE", "set"], ["NOVALUES"], ["COUNT", "1", "BAD", "1"],
        ];
        foreach (string[] option in options)
        {
            both.Same(["SSCAN", p + "missing", "0", .. option]);
            both.Same(["SSCAN", p + "str", "0", .. option]);
            both.Same(["SSCAN", p + "s", "0", .. option]);
        }
    }

    [Fact]
    public void SScan_Hashtable_ReturnsEveryMemberInAboutCountPerCall()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        string[] members = Members("m", 200);
        both.Same(["SADD", k, .. members]);
        Assert.Equal(members.Order(StringComparer.Ordinal), SetReplies.ScanAll(both.Redis, k).Distinct().Order(StringComparer.Ordinal));
        foreach (string count in new[] { "1", "7", "10", "1000" })
        {
            List<string> scanned = SetReplies.ScanAll(both.Durable, k, "COUNT", count);
            Assert.Equal(members.Order(StringComparer.Ordinal), scanned.Order(StringComparer.Ordinal));
        }

        Assert.Equal(
            SetReplies.ScanAll(both.Redis, k, "MATCH", "m1*").Distinct().Order(StringComparer.Ordinal),
            SetReplies.ScanAll(both.Durable, k, "MATCH", "m1*", "COUNT", "3").Order(StringComparer.Ordinal));

        string reply = both.Durable.Call("SSCAN", k, "0");
        int returned = SetReplies.Members(reply[reply.IndexOf("\r\n*", StringComparison.Ordinal)..].TrimStart('\r', '\n')).Count;
        Assert.InRange(returned, 10, 12);
    }

    [Fact]
    public void SScan_WhileMembersComeAndGo_ReturnsEveryMemberPresentThroughout()
    {
        using RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix() + "h";
        string[] stable = Members("stable", 100);
        string[] churn = Members("churn", 300);
        client.Call(["SADD", k, .. stable, .. churn]);
        HashSet<string> seen = [];
        string cursor = "0";
        int round = 0;
        do
        {
            string reply = client.Call("SSCAN", k, cursor, "COUNT", "5");
            int bulk = reply.IndexOf("\r\n*", StringComparison.Ordinal) + 2;
            cursor = reply.Split("\r\n")[2];
            List<string> batch = SetReplies.Members(reply[bulk..]);
            seen.UnionWith(batch);

            // The usual pattern, deleting what was just scanned, plus members removed and added elsewhere.
            client.Call(["SREM", k, .. batch.Where(m => m.StartsWith("churn", StringComparison.Ordinal))]);
            client.Call("SREM", k, churn[(round * 7) % churn.Length]);
            client.Call("SADD", k, "new" + round.ToString(CultureInfo.InvariantCulture));
            round++;
        }
        while (cursor != "0");

        Assert.All(stable, member => Assert.Contains(member, seen));
    }
}
