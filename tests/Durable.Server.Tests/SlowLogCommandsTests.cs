using System.Text.RegularExpressions;

namespace Durable.Server.Tests;

public sealed class SlowLogCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void SlowLog_ErrorsAndHelp_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("SLOWLOG");
        both.Same("SLOWLOG", "NOSUCH");
        both.Same("SLOWLOG", "GET", "x");
        both.Same("SLOWLOG", "GET", "-2");
        both.Same("SLOWLOG", "GET", "1", "2");
        both.Same("SLOWLOG", "LEN", "x");
        both.Same("SLOWLOG", "RESET", "x");
        both.Same("SLOWLOG", "HELP");
    }

    [Fact]
    public async Task SlowLog_GetLenReset_MatchRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("CONFIG", "SET", "slowlog-log-slower-than", "0");
        both.Same("SLOWLOG", "RESET");
        both.Same("SET", "k", new string('v', 200));
        both.Same("AUTH", "default", "secret");
        both.Same("SLOWLOG", "LEN");
        both.Same("SLOWLOG", "GET", "0");

        string redis = both.Redis.Call("SLOWLOG", "GET", "4");
        string durable = both.Durable.Call("SLOWLOG", "GET", "4");
        Assert.Equal(Normalize(redis), Normalize(durable));
        Assert.Contains("*3\r\n$4\r\nAUTH\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n", durable, StringComparison.Ordinal);
        Assert.Contains("$3\r\nSET\r\n$1\r\nk\r\n$147\r\n" + new string('v', 128) + "... (72 more bytes)\r\n", durable, StringComparison.Ordinal);
        both.Same("CONFIG", "SET", "slowlog-log-slower-than", "-1");
        both.Same("SLOWLOG", "RESET");
        both.Same("SLOWLOG", "LEN");
        both.Same("SLOWLOG", "GET");
    }

    // Timestamps, durations and client ports legitimately differ.
    private static string Normalize(string reply) =>
        Regex.Replace(Regex.Replace(reply, @"\*6\r\n:(\d+)\r\n:\d+\r\n:\d+\r\n", "*6\r\n:$1\r\n:T\r\n:D\r\n"), @"\$\d+\r\n127\.0\.0\.1:\d+\r\n", "ADDR\r\n");
}
