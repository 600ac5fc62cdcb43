using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class ServerCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void Time_TwoBulkStrings_Now()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("TIME", "x");
        string[] parts = both.Durable.Call("TIME").Split("\r\n");
        Assert.Equal("*2", parts[0]);
        long seconds = long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        long micros = long.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.InRange(micros, 0, 999_999);
    }

    [Fact]
    public void SwapDb_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("SWAPDB", "x", "1");
        both.Same("SWAPDB", "1", "x");
        both.Same("SWAPDB", "0", "99");
        both.Same("SWAPDB", "-1", "0");
        both.Same("SWAPDB", "0");
    }

    [Fact]
    public async Task SwapDb_ExchangesDatabases_MatchesRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("SET", "in0", "zero");
        both.Same("SELECT", "1");
        both.Same("SET", "in1", "one");
        both.Same("SWAPDB", "0", "1");
        both.Same("GET", "in0");
        both.Same("GET", "in1");
        both.Same("DBSIZE");
        both.Same("SWAPDB", "1", "1");
        both.Same("SELECT", "0");
        both.Same("GET", "in1");
    }

    [Fact]
    public async Task Shutdown_Errors_MatchRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("SHUTDOWN", "ABORT");
        both.Same("SHUTDOWN", "FOO");
        both.Same("SHUTDOWN", "SAVE", "NOSAVE");
        both.Same("SHUTDOWN", "NOW", "ABORT");
    }

    [Fact]
    public async Task Shutdown_NoSave_ClosesConnectionAndStopsServer()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        client.Send("SHUTDOWN", "NOSAVE", "NOW");
        Assert.True(client.IsClosedByServer());
        Assert.True(server.State.ShuttingDown);
    }
}
