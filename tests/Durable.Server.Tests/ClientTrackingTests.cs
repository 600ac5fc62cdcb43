using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// CLIENT TRACKING, TRACKINGINFO, CACHING and GETREDIR against redis-server: the same scenario on both servers, its
/// replies and the invalidation messages each connection receives (read up to the reply of a PING that follows, so that
/// what arrived in between is in order), compared byte for byte with the client ids made alike.
/// </summary>
public sealed class ClientTrackingTests
{
    [Fact]
    public async Task Tracking_DefaultBroadcastOptInAndRedirect_AsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        List<string> redis = Scenario(pair.Redis.Connect);
        List<string> durable = Scenario(pair.Durable.Connect);
        for (int i = 0; i < Math.Max(redis.Count, durable.Count); i++)
        {
            Assert.True(i < redis.Count && i < durable.Count && redis[i] == durable[i], $"step {i}\nredis:   {(i < redis.Count ? redis[i] : "-")}\ndurable: {(i < durable.Count ? durable[i] : "-")}");
        }
    }

    // Past tracking-table-max-keys the oldest key is let go and its reader told (Redis picks one at random).
    [Fact]
    public async Task TrackingTable_PastItsMaxKeys_LetsGoOfTheOldest()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        client.Call("HELLO", "3");
        Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", "tracking-table-max-keys", "2"));
        Assert.Equal("+OK\r\n", client.Call("CLIENT", "TRACKING", "on"));
        Assert.Equal("", Exchange(client, ["GET", "a"]).Replace("_\r\n", "", StringComparison.Ordinal));
        Exchange(client, ["GET", "b"]);
        // The message is sent after the batch that read c, as Redis sends it outside the command.
        Assert.Equal("_\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n", Exchange(client, ["GET", "c"]) + Exchange(client, ["PING"]));
        Assert.Equal(2, client.InfoNumber("stats", "tracking_total_keys"));
        Assert.Equal(2, client.InfoNumber("stats", "tracking_total_items"));
        Assert.Equal(1, client.InfoNumber("clients", "tracking_clients"));
    }

    private static List<string> Scenario(Func<RespTestClient> connect)
    {
        List<string> transcript = [];
        List<string> ids = [];
        using RespTestClient a = connect();
        using RespTestClient b = connect();
        using RespTestClient sink = connect();
        using RespTestClient gone = connect();

        void Step(RespTestClient client, params string[] command)
        {
            string replies = Exchange(client, command);
            string text = string.Join(' ', command.Select((part, i) => i > 0 && command[i - 1] == "REDIRECT" ? "ID" : part));

            // Client ids differ between the servers: they are made alike where a reply carries one.
            if (command is ["CLIENT", "GETREDIR" or "TRACKINGINFO"] || replies.Contains("tracking-redir-broken", StringComparison.Ordinal))
            {
                foreach (string id in ids)
                {
                    replies = replies.Replace($":{id}\r\n", ":ID\r\n", StringComparison.Ordinal);
                }
            }

            transcript.Add(text + " => " + replies);
        }

        string IdOf(RespTestClient client)
        {
            string id = client.Call("CLIENT", "ID")[1..].TrimEnd();
            ids.Add(id);
            return id;
        }

        // Default mode, RESP3: a key read is invalidated once when another client (or the client itself) changes it.
        IdOf(a);
        a.Call("HELLO", "3"); // its reply tells the client's id
        Step(a, "CLIENT", "TRACKINGINFO");
        Step(a, "CLIENT", "GETREDIR");
        Step(a, "CLIENT", "TRACKING", "on");
        Step(a, "GET", "k1");
        Step(a, "MGET", "k2", "k3");
        Step(b, "SET", "k1", "v");
        Step(a, "PING");
        Step(b, "SET", "k1", "again");
        Step(a, "PING");
        Step(a, "GET", "k1");
        Step(a, "SET", "k1", "mine");
        Step(b, "MSET", "k2", "1", "k3", "2");
        Step(a, "PING");
        Step(a, "CLIENT", "TRACKINGINFO");
        Step(a, "CLIENT", "GETREDIR");
        Step(a, "GET", "k4");
        Step(b, "FLUSHALL");
        Step(a, "PING");

        // Option checks.
        foreach (string[] bad in new[]
        {
            new[] { "CLIENT", "TRACKING", "on", "BCAST" }, ["CLIENT", "TRACKING", "on", "REDIRECT", "999999"], ["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
            ["CLIENT", "TRACKING", "on", "PREFIX", "x"], ["CLIENT", "TRACKING", "on", "BOGUS"], ["CLIENT", "TRACKING", "maybe"], ["CLIENT", "TRACKING"],
            ["CLIENT", "CACHING", "yes"], ["CLIENT", "CACHING", "no"], ["CLIENT", "CACHING", "maybe"], ["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
        })
        {
            Step(a, bad);
        }

        // NOLOOP and BCAST with prefixes.
        Step(a, "CLIENT", "TRACKING", "off");
        Step(a, "CLIENT", "TRACKING", "on", "BCAST", "OPTIN");
        Step(a, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "abc");
        Step(a, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "y", "NOLOOP");
        Step(a, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "xz");
        Step(b, "MSET", "x1", "1", "y1", "2", "z1", "3");
        Step(a, "PING");
        Step(a, "SET", "x2", "mine");
        Step(b, "DEL", "x1", "x2");
        Step(a, "PING");
        Step(a, "CLIENT", "TRACKINGINFO");
        Step(a, "CLIENT", "TRACKING", "off");
        Step(a, "CLIENT", "TRACKING", "on", "BCAST");
        Step(a, "CLIENT", "TRACKINGINFO");
        Step(b, "SET", "anything", "1");
        Step(a, "PING");
        Step(a, "CLIENT", "TRACKING", "off");

        // OPTIN: only what is read right after CLIENT CACHING YES; OPTOUT: all but what follows CLIENT CACHING NO.
        Step(a, "CLIENT", "TRACKING", "on", "OPTIN");
        Step(a, "CLIENT", "CACHING", "no");
        Step(a, "GET", "o1");
        Step(a, "CLIENT", "CACHING", "yes");
        Step(a, "CLIENT", "TRACKINGINFO");
        Step(a, "GET", "o2");
        Step(a, "GET", "o3");
        Step(b, "MSET", "o1", "1", "o2", "2", "o3", "3");
        Step(a, "PING");
        Step(a, "CLIENT", "TRACKING", "on", "OPTOUT");
        Step(a, "CLIENT", "TRACKING", "off");
        Step(a, "CLIENT", "TRACKING", "on", "OPTOUT");
        Step(a, "CLIENT", "CACHING", "no");
        Step(a, "GET", "o1");
        Step(a, "GET", "o2");
        Step(b, "MSET", "o1", "1", "o2", "2");
        Step(a, "PING");
        Step(a, "CLIENT", "TRACKING", "off");

        // REDIRECT to a RESP2 subscriber of __redis__:invalidate, and to a client that has gone.
        string sinkId = IdOf(sink);
        Step(sink, "SUBSCRIBE", "__redis__:invalidate");
        Step(a, "CLIENT", "TRACKING", "on", "REDIRECT", sinkId);
        Step(a, "CLIENT", "GETREDIR");
        Step(a, "CLIENT", "TRACKING", "on", "REDIRECT", sinkId, "REDIRECT", sinkId);
        Step(a, "GET", "r1");
        Step(b, "SET", "r1", "v");
        Step(sink, "PING");
        Step(b, "FLUSHDB");
        Step(sink, "PING");
        Step(a, "CLIENT", "TRACKING", "off");
        string goneId = IdOf(gone);
        Step(a, "CLIENT", "TRACKING", "on", "REDIRECT", goneId);
        Step(a, "GET", "r2");
        gone.Dispose();
        Thread.Sleep(200);
        Step(b, "SET", "r2", "v");
        Step(a, "PING");
        Step(a, "CLIENT", "TRACKINGINFO");

        // A RESP2 connection without REDIRECT may track, but has nowhere to be told.
        Step(b, "CLIENT", "TRACKING", "on");
        Step(b, "GET", "r3");
        Step(a, "SET", "r3", "1");
        Step(b, "PING");
        Step(b, "RESET");
        Step(b, "CLIENT", "TRACKINGINFO");
        return transcript;
    }

    // Sends the command and a PING, and returns every reply and message up to the PING's reply.
    private static string Exchange(RespTestClient client, string[] command)
    {
        client.Send(command);
        if (command is not ["PING"])
        {
            client.Send("PING");
        }

        System.Text.StringBuilder replies = new();
        while (true)
        {
            string reply = client.ReadReply();
            if (reply is "+PONG\r\n" or "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
            {
                return replies.ToString();
            }

            replies.Append(reply);
        }
    }
}
