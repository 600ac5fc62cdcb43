using System.Diagnostics;

namespace Durable.Server.Tests;

/// <summary>ROLE and WAIT as a Redis master without replicas answers them.</summary>
public sealed class ReplicationCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void RoleAndWait_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("ROLE");
        both.Same("ROLE", "x");
        both.Same("WAIT", "0", "0");
        both.Same("WAIT", "-1", "10");
        both.Same("WAIT", "1", "20");
        both.Same("WAIT", "0", "-1");
        both.Same("WAIT", "a", "1");
        both.Same("WAIT", "1", "a");
        both.Same("WAIT", "1", "1.5");
        both.Same("WAIT", "99999999999999999999", "1");
        both.Same("WAIT", "1", "99999999999999999999");
        both.Same("WAIT", "1");
        both.Same("MULTI");
        both.Same("WAIT", "1", "100000");
        both.Same("EXEC");
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        both.Same("ROLE");
    }

    [Fact]
    public void Wait_ForAReplica_WaitsOutItsTimeout_WithoutHoldingOtherClients()
    {
        using ReplyComparison both = servers.Compare();
        Stopwatch watch = Stopwatch.StartNew();
        both.Durable.Send("WAIT", "1", "300");
        Assert.Equal("+PONG\r\n", servers.Compare().Durable.Call("PING"));
        Assert.Equal(":0\r\n", both.Durable.ReadReply());
        Assert.True(watch.ElapsedMilliseconds >= 290, $"WAIT replied after {watch.ElapsedMilliseconds} ms");
    }
}
