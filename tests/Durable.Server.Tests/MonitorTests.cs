using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed partial class MonitorTests
{
    [Fact]
    public async Task Monitor_OtherClientsCommands_StreamedAsRedisFormatsThem()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using RespTestClient durableMonitor = pair.Durable.Connect();
        using RespTestClient redisMonitor = pair.Redis.Connect();
        Assert.Equal("+OK\r\n", durableMonitor.Call("MONITOR"));
        Assert.Equal("+OK\r\n", redisMonitor.Call("MONITOR"));

        using ReplyComparison both = pair.Compare();
        both.Same("SET", "k", "a b\"c\\d\r\n\t\u0007\u0008\u0001\u00ff");
        both.Same("CONFIG", "GET", "timeout");
        both.Same("SELECT", "2");
        both.Same("GET", "k");
        both.Same("AUTH", "default", "secret");

        for (int i = 0; i < 4; i++)
        {
            string redis = redisMonitor.ReadReply();
            string durable = durableMonitor.ReadReply();
            Assert.Matches(@"^\+\d{10}\.\d{6} \[\d+ 127\.0\.0\.1:\d+\] ", durable);
            Assert.Equal(Normalize(redis), Normalize(durable));
        }
    }

    [Fact]
    public async Task Monitor_OwnCommands_KeyspaceRefusedOthersShown()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("MONITOR");
        both.Same("GET", "k");
        both.Same("SET", "k", "v");
        both.Same("PING");
        Assert.Equal(Normalize(both.Redis.ReadReply()), Normalize(both.Durable.ReadReply()));
        both.Same("RESET");
        both.Same("GET", "k");
    }

    [Fact]
    public async Task Monitor_ScriptCommands_ShownAsTheLuaClients()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using RespTestClient durableMonitor = pair.Durable.Connect();
        using RespTestClient redisMonitor = pair.Redis.Connect();
        Assert.Equal("+OK\r\n", durableMonitor.Call("MONITOR"));
        Assert.Equal("+OK\r\n", redisMonitor.Call("MONITOR"));

        using ReplyComparison both = pair.Compare();
        both.Same("EVAL", "redis.call('select', 3); return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v");
        both.Same("ECHO", "after");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(Normalize(redisMonitor.ReadReply()), Normalize(durableMonitor.ReadReply()));
        }
    }

    [Fact]
    public async Task Monitor_Reset_StopsTheStream()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient monitor = server.Connect();
        using RespTestClient client = server.Connect();
        Assert.Equal("+OK\r\n", monitor.Call("MONITOR"));
        client.Call("ECHO", "seen");
        Assert.EndsWith("\"ECHO\" \"seen\"\r\n", monitor.ReadReply(), StringComparison.Ordinal);
        Assert.Equal("+RESET\r\n", monitor.Call("RESET"));
        client.Call("ECHO", "unseen");
        Assert.Equal("+PONG\r\n", monitor.Call("PING"));
    }

    // The time and a client's address differ between the servers; a script's commands name the "lua" client in both.
    private static string Normalize(string line) => Stamp().Replace(line, "+T [$1 $2] ");

    [GeneratedRegex(@"^\+\d+\.\d{6} \[(\d+) (?:127\.0\.0\.1:\d+|(lua))\] ")]
    private static partial Regex Stamp();
}
