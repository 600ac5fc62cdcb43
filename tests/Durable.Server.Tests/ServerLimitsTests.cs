using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class ServerLimitsTests
{
    [Fact]
    public async Task MaxClients_ThirdClient_GetsRedisErrorAndIsClosed()
    {
        await using TestServer server = await TestServer.StartAsync(config => config.MaxClients = 2);
        using RespTestClient first = server.Connect();
        using RespTestClient second = server.Connect();
        Assert.Equal("+PONG\r\n", first.Call("PING"));
        Assert.Equal("+PONG\r\n", second.Call("PING"));

        using RespTestClient third = server.Connect();
        Assert.Equal("-ERR max number of clients reached\r\n", third.ReadReply());
        Assert.True(third.IsClosedByServer());
        Assert.Contains("rejected_connections:1\r\n", first.Call("INFO", "stats"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdleTimeout_IdleClient_IsClosed()
    {
        await using TestServer server = await TestServer.StartAsync(config => config.IdleTimeoutSeconds = 1);
        using RespTestClient idle = server.Connect();
        Assert.Equal("+PONG\r\n", idle.Call("PING"));
        Assert.True(idle.IsClosedByServer());
    }
}
