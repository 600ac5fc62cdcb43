using System.Globalization;
using Durable.Testing;
using static Durable.Server.Tests.BlockingTranscripts;

namespace Durable.Server.Tests;

/// <summary>
/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP: each scenario runs against Durable and against redis-server, with the
/// same connections and order of events, and the transcripts of replies must be identical.
/// </summary>
public sealed class ListBlockingTests(ReferenceServers servers)
{
    private static readonly string[] s_protocols = ["2", "3"];
    private static readonly string[] s_values = ["x", "y", "z"];

    [Fact]
    public void BLPop_WokenByPushFromAnotherConnection_MatchesRedis() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        using RespTestClient blocked = connect();
        using RespTestClient pusher = connect();
        Block(blocked, pusher, "BLPOP", k + "other", k, "0");
        transcript.Add(pusher.Call("RPUSH", k, "a", "b"));
        transcript.Add(blocked.ReadReply());
        transcript.Add(pusher.Call("LRANGE", k, "0", "-1"));
        transcript.Add(pusher.Call("DEL", k));
        Block(blocked, pusher, "BRPOP", k + "other", k, "0");
        transcript.Add(pusher.Call("LPUSH", k + "other", "x"));
        transcript.Add(blocked.ReadReply());
        transcript.Add(pusher.Call("LRANGE", k, "0", "-1"));
    });

    [Fact]
    public void BLPop_ThreeWaiters_ServedInArrivalOrder() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        using RespTestClient pusher = connect();
        RespTestClient[] waiters = [connect(), connect(), connect()];
        try
        {
            foreach (RespTestClient waiter in waiters)
            {
                Block(waiter, pusher, "BLPOP", k, "0");
            }

            transcript.Add(pusher.Call("RPUSH", k, "a", "b", "c", "d"));
            transcript.AddRange(waiters.Select(w => w.ReadReply()));
            transcript.Add(pusher.Call("LPOP", k));
            foreach (RespTestClient waiter in waiters)
            {
                Block(waiter, pusher, "BRPOP", k, k + "2", "0");
            }

            // One push at a time, each read by its waiter first: Redis serves a waiter before the next command runs,
            // Durable right after the write (see WaiterBeatenToElement_KeepsItsPlace).
            for (int i = 0; i < waiters.Length; i++)
            {
                transcript.Add(pusher.Call("RPUSH", k + "2", s_values[i]));
                transcript.Add(waiters[i].ReadReply());
            }
        }
        finally
        {
            Array.ForEach(waiters, w => w.Dispose());
        }
    });

    [Fact]
    public void Timeouts_NullReplies_MatchRedisInBothProtocols() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        foreach (string protocol in s_protocols)
        {
            using RespTestClient client = connect();
            client.Call("HELLO", protocol);
            transcript.Add(client.Call("BLPOP", k, "0.01"));
            transcript.Add(client.Call("BRPOP", k, k + "2", "0.02"));
            transcript.Add(client.Call("BLMOVE", k, k + "d", "LEFT", "RIGHT", "0.01"));
            transcript.Add(client.Call("BRPOPLPUSH", k, k + "d", "0.01"));
            transcript.Add(client.Call("BLMPOP", "0.01", "2", k, k + "2", "LEFT", "COUNT", "5"));
            transcript.Add(client.Call("BLPOP", k, "1e-400"));
            transcript.Add(client.Call("BLPOP", k, "0x1p-6"));
            transcript.Add(client.Call("EXISTS", k + "d"));
        }
    });

    [Fact]
    public void ClientUnblock_TimeoutAndError_MatchRedisInBothProtocols() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        using RespTestClient admin = connect();
        transcript.Add(admin.Call("CLIENT", "UNBLOCK", "1", "FOO"));
        transcript.Add(admin.Call("CLIENT", "UNBLOCK", "x"));
        transcript.Add(admin.Call("CLIENT", "UNBLOCK", "x", "error"));
        transcript.Add(admin.Call("CLIENT", "UNBLOCK", "1", "timeout", "extra"));
        transcript.Add(admin.Call("CLIENT", "UNBLOCK", ClientId(admin).ToString(CultureInfo.InvariantCulture)));
        foreach (string protocol in s_protocols)
        {
            using RespTestClient waiter = connect();
            waiter.Call("HELLO", protocol);
            string id = ClientId(waiter).ToString(CultureInfo.InvariantCulture);
            Block(waiter, admin, "BLPOP", k, "0");
            transcript.Add(admin.Call("CLIENT", "UNBLOCK", id));
            transcript.Add(waiter.ReadReply());
            Block(waiter, admin, "BZPOPMIN", k, "0");
            transcript.Add(admin.Call("CLIENT", "UNBLOCK", id, "ERROR"));
            transcript.Add(waiter.ReadReply());
            transcript.Add(admin.Call("CLIENT", "UNBLOCK", id, "ERROR"));

            // The connection goes on as before, and a later push is not taken by the unblocked command.
            transcript.Add(admin.Call("RPUSH", k, "a"));
            transcript.Add(waiter.Call("LPOP", k));
        }
    });

    [Fact]
    public void TimeoutArguments_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = Key("k");
        foreach (string timeout in new[] { "x", "", " 1", "1 ", "-1", "-0.5", "inf", "-inf", "+inf", "nan", "1e16", "1e4933", "1e-5000", "9223372036854775807" })
        {
            both.Same("BLPOP", k, timeout);
            both.Same("BLMOVE", k, k, "LEFT", "LEFT", timeout);
            both.Same("BRPOPLPUSH", k, k, timeout);
            both.Same("BLMPOP", timeout, "1", k, "LEFT");
        }

        // The other arguments are checked first, except for BLPOP and BRPOPLPUSH, whose timeout comes first.
        both.Same("BLMOVE", k, k, "UP", "LEFT", "x");
        both.Same("BLMPOP", "x", "0", k, "LEFT");
        both.Same("BLMPOP", "x", "1", k, "UP");
        both.Same("BLMPOP", "x", "1", k, "LEFT", "COUNT", "0");
        both.Same("BLMPOP", "-1", "2", k);
        both.Same("BLMPOP", "0", "1", k);
    }

    [Fact]
    public void NegativeZeroTimeout_BlocksForever_AsRedis() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        using RespTestClient blocked = connect();
        using RespTestClient pusher = connect();
        Block(blocked, pusher, "BLPOP", k, "-0.0001");
        transcript.Add(pusher.Call("RPUSH", k, "v"));
        transcript.Add(blocked.ReadReply());
    });

    [Fact]
    public void BLMove_MovesToListAnotherClientReads_MatchesRedis() => OnBoth((connect, transcript, p) =>
    {
        string src = p + "src";
        string dst = p + "dst";
        using RespTestClient blocked = connect();
        using RespTestClient other = connect();
        transcript.Add(other.Call("RPUSH", dst, "old"));
        Block(blocked, other, "BLMOVE", src, dst, "RIGHT", "LEFT", "0");
        transcript.Add(other.Call("RPUSH", src, "1", "2"));
        transcript.Add(blocked.ReadReply());
        transcript.Add(other.Call("LRANGE", dst, "0", "-1"));
        transcript.Add(other.Call("LRANGE", src, "0", "-1"));
        transcript.Add(other.Call("DEL", src));
        Block(blocked, other, "BRPOPLPUSH", src, src, "0");
        transcript.Add(other.Call("LPUSH", src, "only"));
        transcript.Add(blocked.ReadReply());
        transcript.Add(other.Call("LRANGE", src, "0", "-1"));
    });

    [Fact]
    public void BLMPop_WokenWithCount_MatchesRedisInBothProtocols() => OnBoth((connect, transcript, p) =>
    {
        foreach (string protocol in s_protocols)
        {
            string k = p + protocol + "k";
            using RespTestClient blocked = connect();
            using RespTestClient pusher = connect();
            blocked.Call("HELLO", protocol);
            Block(blocked, pusher, "BLMPOP", "0", "2", k, k + "2", "RIGHT", "COUNT", "2");
            transcript.Add(pusher.Call("RPUSH", k + "2", "a", "b", "c"));
            transcript.Add(blocked.ReadReply());
            Block(blocked, pusher, "BLPOP", k, "0");
            transcript.Add(pusher.Call("RPUSH", k, "z"));
            transcript.Add(blocked.ReadReply());
            transcript.Add(pusher.Call("LRANGE", k + "2", "0", "-1"));
        }
    });

    [Fact]
    public void OtherWrites_WakeWaiters_MatchRedis() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        using RespTestClient blocked = connect();
        using RespTestClient writer = connect();
        Block(blocked, writer, "BLPOP", k, "0");
        transcript.Add(writer.Call("RPUSH", k + "tmp", "renamed"));
        transcript.Add(writer.Call("RENAME", k + "tmp", k));
        transcript.Add(blocked.ReadReply());
        Block(blocked, writer, "BLPOP", k, "0");
        transcript.Add(writer.Call("RPUSH", k + "src", "copied"));
        transcript.Add(writer.Call("COPY", k + "src", k));
        transcript.Add(blocked.ReadReply());
        Block(blocked, writer, "BLPOP", k, "0");
        transcript.Add(writer.Call("LMOVE", k + "src", k, "LEFT", "LEFT"));
        transcript.Add(blocked.ReadReply());

        // Redis 7.0 serves a blocked client only from a list: a string under the key leaves it blocked.
        Block(blocked, writer, "BLPOP", k, "0");
        transcript.Add(writer.Call("SET", k, "string"));
        transcript.Add(writer.Call("DEL", k));
        transcript.Add(writer.Call("LPUSH", k, "after"));
        transcript.Add(blocked.ReadReply());
    });

    [Fact]
    public void BLMove_WokenWithDestinationOfAnotherType_RepliesWrongTypeAndKeepsElement_AsRedis() => OnBoth((connect, transcript, p) =>
    {
        using RespTestClient blocked = connect();
        using RespTestClient other = connect();
        transcript.Add(other.Call("SET", p + "dst", "string"));
        Block(blocked, other, "BLMOVE", p + "src", p + "dst", "LEFT", "LEFT", "0");
        transcript.Add(other.Call("RPUSH", p + "src", "a"));
        transcript.Add(blocked.ReadReply());
        transcript.Add(other.Call("LRANGE", p + "src", "0", "-1"));
        transcript.Add(blocked.Call("PING"));
    });

    // Durable wakes a waiter after the write and the waiter then retries, so a command right behind the push (LPOP in the
    // same pipeline) may take the element first; the waiter then waits again ahead of later waiters (Redis would have
    // served it before the LPOP ran: either way, waiters are served in arrival order). The LPOP's own wake-up must not
    // wake the second waiter while the first is still awake: the second could then take the next push's first element.
    [Fact]
    public void WaiterBeatenToElement_KeepsItsPlace()
    {
        string k = Key("k");
        using RespTestClient first = servers.Durable.Connect();
        using RespTestClient second = servers.Durable.Connect();
        using RespTestClient other = servers.Durable.Connect();
        Block(first, other, "BLPOP", k, "0");
        Block(second, other, "BLPOP", k, "0");
        other.SendRaw([.. RespTestClient.Encode("RPUSH", k, "x"), .. RespTestClient.Encode("LPOP", k)]);
        Assert.Equal(":1\r\n", other.ReadReply());
        string popped = other.ReadReply();
        Assert.Equal(":2\r\n", other.Call("RPUSH", k, "y", "z"));
        string expectFirst = popped == "$1\r\nx\r\n" ? "y" : "x";
        Assert.Equal($"*2\r\n${k.Length}\r\n{k}\r\n$1\r\n{expectFirst}\r\n", first.ReadReply());
        Assert.Equal($"*2\r\n${k.Length}\r\n{k}\r\n$1\r\n{(expectFirst == "y" ? "z" : "y")}\r\n", second.ReadReply());
    }

    [Fact]
    public void Pipeline_CommandsAfterBlockedOneWaitForIt_MatchesRedis() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        using RespTestClient blocked = connect();
        using RespTestClient pusher = connect();
        long id = ClientId(blocked);
        blocked.SendRaw([.. RespTestClient.Encode("BLPOP", k, "0"), .. RespTestClient.Encode("RPUSH", k + "log", "after"), .. RespTestClient.Encode("PING")]);
        WaitUntilBlocked(pusher, id);
        transcript.Add(pusher.Call("LLEN", k + "log"));
        blocked.Send("ECHO", "sent while blocked");
        transcript.Add(pusher.Call("RPUSH", k, "v"));
        transcript.Add(blocked.ReadReply());
        transcript.Add(blocked.ReadReply());
        transcript.Add(blocked.ReadReply());
        transcript.Add(blocked.ReadReply());
        transcript.Add(pusher.Call("LRANGE", k + "log", "0", "-1"));
    });

    [Fact]
    public void DisconnectWhileBlocked_RemovesWaiter_MatchesRedis() => OnBoth((connect, transcript, p) =>
    {
        string k = p + "k";
        using RespTestClient other = connect();
        RespTestClient blocked = connect();
        long id = ClientId(blocked);
        Block(blocked, other, "BLPOP", k, "0");
        blocked.Dispose();
        WaitUntil(() => !other.Call("CLIENT", "LIST", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Contains("id=", StringComparison.Ordinal));
        transcript.Add(other.Call("RPUSH", k, "kept"));
        transcript.Add(other.Call("LRANGE", k, "0", "-1"));
    });

    [Fact]
    public void BlockedClient_DoesNotStopOthers_AndIsCounted()
    {
        using RespTestClient blocked = servers.Durable.Connect();
        using RespTestClient other = servers.Durable.Connect();
        string k = Key("k");
        long id = ClientId(blocked);
        Block(blocked, other, "BLPOP", k, "0");
        Assert.Equal("+PONG\r\n", other.Call("PING"));
        Assert.Equal("+OK\r\n", other.Call("SET", k + "s", "v"));
        Assert.Equal("$1\r\nv\r\n", other.Call("GET", k + "s"));
        Assert.Contains(" flags=b ", other.Call("CLIENT", "LIST", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)), StringComparison.Ordinal);
        Assert.Matches("blocked_clients:[1-9]", other.Call("INFO", "clients"));
        Assert.Equal(":1\r\n", other.Call("RPUSH", k, "v"));
        Assert.Equal($"*2\r\n${k.Length}\r\n{k}\r\n$1\r\nv\r\n", blocked.ReadReply());
        Assert.DoesNotContain(" flags=b ", other.Call("CLIENT", "LIST", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientKillAndShutdown_EndBlockedClients()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient blocked = server.Connect();
        using RespTestClient other = server.Connect();
        long id = ClientId(blocked);
        Block(blocked, other, "BLPOP", "k", "0");
        Assert.Equal(":1\r\n", other.Call("CLIENT", "KILL", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(blocked.IsClosedByServer());
        WaitUntil(() => other.Call("INFO", "clients").Contains("blocked_clients:0", StringComparison.Ordinal));
        Assert.Equal(":1\r\n", other.Call("RPUSH", "k", "v"));
        Assert.Equal(":1\r\n", other.Call("LLEN", "k"));
    }

    private string Key(string name) => servers.NewPrefix() + name;

    /// <summary>Runs the scenario on Durable and on Redis (same key names) and compares the transcripts.</summary>

    private void OnBoth(BlockingTranscripts.Scenario scenario) => BlockingTranscripts.OnBoth(servers, scenario);
}
