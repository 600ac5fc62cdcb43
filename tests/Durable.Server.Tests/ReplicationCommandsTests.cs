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
    public void ReplConf_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("REPLCONF");
        both.Same("REPLCONF", "listening-port");
        both.Same("REPLCONF", "listening-port", "x");
        both.Same("REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "psync2", "capa", "unknown");
        both.Same("REPLCONF", "ip-address", "10.0.0.1");
        both.Same("REPLCONF", "ip-address", new string('a', 255));
        both.Same("REPLCONF", "ip-address", new string('a', 256));
        both.Same("REPLCONF", "rdb-only", "x");
        both.Same("REPLCONF", "rdb-only", "2");
        both.Same("REPLCONF", "rdb-only", "0");
        both.Same("REPLCONF", "Foo", "bar");
        both.Same("REPLCONF", "listening-port", "1", "foo", "bar");
        both.Same("SYNC", "x");
        both.Same("PSYNC", "?");
        both.Same("MULTI");
        both.Same("SYNC");
        both.Same("DISCARD");

        // ACK from a client that is not a replica, and GETACK to a primary, get no reply at all.
        foreach (string[] silent in new[] { new[] { "REPLCONF", "ACK", "10" }, ["REPLCONF", "GETACK", "*"], ["REPLCONF", "ACK", "x", "FACK", "1"] })
        {
            both.Durable.Send(silent);
            both.Redis.Send(silent);
        }

        Assert.Equal("+PONG\r\n", both.Same("PING"));
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
