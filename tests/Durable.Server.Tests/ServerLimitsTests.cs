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

    /// <summary>
    /// Timeouts past what .NET's timers take (about 49.7 days) wait as Redis waits: BLPOP until CLIENT UNBLOCK, a write
    /// under CLIENT PAUSE until UNPAUSE, WAIT and WAITAOF for a replica for as long; each once closed the connection.
    /// </summary>
    [Fact]
    public async Task TimeoutsPastTheTimersLimit_Wait_InsteadOfClosingTheConnection()
    {
        const string Years = "99999999999";
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient control = server.Connect();

        using RespTestClient popper = server.Connect();
        string id = popper.Call("CLIENT", "ID")[1..^2];
        popper.Send("BLPOP", "nothing", Years);
        using RespTestClient waiter = server.Connect();
        waiter.Send("WAIT", "1", Years);
        using RespTestClient aofWaiter = server.Connect();
        aofWaiter.Send("WAITAOF", "0", "1", Years);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        string clients = control.Call("CLIENT", "LIST");
        Assert.Contains("cmd=wait ", clients, StringComparison.Ordinal);
        Assert.Contains("cmd=waitaof ", clients, StringComparison.Ordinal);
        Assert.Equal(":1\r\n", control.Call("CLIENT", "UNBLOCK", id));
        Assert.Equal("*-1\r\n", popper.ReadReply());

        Assert.Equal("+OK\r\n", control.Call("CLIENT", "PAUSE", Years, "WRITE"));
        using RespTestClient writer = server.Connect();
        writer.Send("SET", "k", "v");
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal("+OK\r\n", control.Call("CLIENT", "UNPAUSE"));
        Assert.Equal("+OK\r\n", writer.ReadReply());
    }
}
