using System.Diagnostics;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Pub/sub against redis-server, byte for byte: subscriptions, messages, the RESP2 subscribed state, RESP3 pushes.</summary>
public sealed class PubSubCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void SubscribePublishUnsubscribe_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison subscriber = servers.Compare();
        using ReplyComparison publisher = servers.Compare();

        SameReplies(subscriber, 2, "SUBSCRIBE", p + "news", p + "sport");
        SameReplies(subscriber, 1, "SUBSCRIBE", p + "news");
        // One matching pattern: Redis walks its patterns in hash order.
        SameReplies(subscriber, 2, "PSUBSCRIBE", p + "n[aeiou]*", p + "x*");
        publisher.Same("PUBLISH", p + "news", "hello");
        publisher.Same("PUBLISH", p + "nothing", "x");
        publisher.Same("PUBLISH", "other", "x");
        SameMessages(subscriber, 3);

        // In RESP2 a subscribed client may only (un)subscribe, ping, quit and reset.
        subscriber.Same("GET", "k");
        subscriber.Same("CLIENT", "LIST");
        subscriber.Same("PING");
        subscriber.Same("PING", "there");
        subscriber.Same("PING", "a", "b");
        publisher.Same("PUBSUB", "NUMSUB", p + "news", p + "sport", p + "none");
        publisher.Same("PUBSUB", "CHANNELS", p + "s*");
        publisher.Same("PUBSUB", "CHANNELS", p + "s*", "ignored");
        publisher.Same("PUBSUB", "CHANNELS", p + "nomatch*");

        SameReplies(subscriber, 2, "UNSUBSCRIBE", p + "sport", p + "never");
        SameReplies(subscriber, 1, "PUNSUBSCRIBE", p + "n[aeiou]*");
        SameReplies(subscriber, 1, "PUNSUBSCRIBE");
        SameReplies(subscriber, 1, "UNSUBSCRIBE");
        SameReplies(subscriber, 1, "UNSUBSCRIBE");
        SameReplies(subscriber, 1, "PUNSUBSCRIBE");

        // No subscription left: back to normal.
        subscriber.Same("PING");
        subscriber.Same("SET", p + "k", "v");
        publisher.Same("PUBLISH", p + "news", "nobody");
        publisher.Same("PUBSUB", "NUMSUB", p + "news");
    }

    [Fact]
    public void ShardChannels_AreANamespaceOfTheirOwn()
    {
        string p = servers.NewPrefix();
        using ReplyComparison subscriber = servers.Compare();
        using ReplyComparison publisher = servers.Compare();

        SameReplies(subscriber, 1, "SUBSCRIBE", p + "ch");
        SameReplies(subscriber, 2, "SSUBSCRIBE", p + "ch", p + "other");
        publisher.Same("SPUBLISH", p + "ch", "sharded");
        publisher.Same("PUBLISH", p + "ch", "plain");
        SameMessages(subscriber, 2);
        publisher.Same("PUBSUB", "SHARDNUMSUB", p + "ch", p + "none");
        publisher.Same("PUBSUB", "SHARDCHANNELS", p + "o*");
        SameReplies(subscriber, 1, "SUNSUBSCRIBE", p + "other");
        SameReplies(subscriber, 1, "SUNSUBSCRIBE");
        SameReplies(subscriber, 1, "SUNSUBSCRIBE");
        SameReplies(subscriber, 1, "UNSUBSCRIBE", p + "ch");
    }

    [Fact]
    public void Resp3_PushesMessages_AndAllowsEveryCommand()
    {
        string p = servers.NewPrefix();
        using ReplyComparison subscriber = servers.Compare();
        using ReplyComparison publisher = servers.Compare();

        subscriber.Durable.Call("HELLO", "3");
        subscriber.Redis.Call("HELLO", "3");
        SameReplies(subscriber, 1, "SUBSCRIBE", p + "ch");
        SameReplies(subscriber, 1, "PSUBSCRIBE", p + "*");
        subscriber.Same("SET", p + "k", "v");
        subscriber.Same("GET", p + "k");
        publisher.Same("PUBLISH", p + "ch", "hello");
        SameMessages(subscriber, 2);
        SameReplies(subscriber, 1, "UNSUBSCRIBE");
        SameReplies(subscriber, 1, "PUNSUBSCRIBE");
        SameReplies(subscriber, 1, "UNSUBSCRIBE");
    }

    [Fact]
    public void OneMessage_ReachesSubscribersOfBothProtocols()
    {
        string p = servers.NewPrefix();
        using ReplyComparison resp2 = servers.Compare();
        using ReplyComparison resp3 = servers.Compare();
        using ReplyComparison publisher = servers.Compare();
        resp3.Durable.Call("HELLO", "3");
        resp3.Redis.Call("HELLO", "3");
        foreach (ReplyComparison subscriber in new[] { resp2, resp3 })
        {
            SameReplies(subscriber, 1, "SUBSCRIBE", p + "ch");
            SameReplies(subscriber, 1, "PSUBSCRIBE", p + "c*");
        }

        publisher.Same("PUBLISH", p + "ch", "to both");
        SameMessages(resp2, 2);
        SameMessages(resp3, 2);
    }

    [Fact]
    public void ErrorsAndHelp_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("SUBSCRIBE");
        both.Same("PSUBSCRIBE");
        both.Same("SSUBSCRIBE");
        both.Same("PUBLISH", "ch");
        both.Same("PUBLISH", "ch", "a", "b");
        both.Same("SPUBLISH", "ch");
        both.Same("PUBSUB");
        both.Same("PUBSUB", "NOSUCH");
        both.Same("PUBSUB", "NUMPAT", "x");
        both.Same("PUBSUB", "HELP");
        both.Same("PUBSUB", "NUMSUB");
        both.Same("PUBSUB", "SHARDNUMSUB");
    }

    [Fact]
    public void Reset_EndsTheSubscriptions()
    {
        string p = servers.NewPrefix();
        using ReplyComparison subscriber = servers.Compare();
        using ReplyComparison publisher = servers.Compare();
        SameReplies(subscriber, 1, "SUBSCRIBE", p + "ch");
        subscriber.Same("RESET");
        subscriber.Same("GET", p + "k");
        publisher.Same("PUBLISH", p + "ch", "gone");
        publisher.Same("PUBSUB", "NUMSUB", p + "ch");
    }

    [Fact]
    public void ClientList_AndInfo_CountSubscriptions()
    {
        string p = servers.NewPrefix();
        using RespTestClient subscriber = servers.Durable.Connect();
        using RespTestClient other = servers.Durable.Connect();
        string id = subscriber.Call("CLIENT", "ID")[1..^2];
        subscriber.Send("SUBSCRIBE", p + "a", p + "b");
        subscriber.ReadReply();
        subscriber.ReadReply();
        subscriber.Send("PSUBSCRIBE", p + "*");
        subscriber.ReadReply();
        subscriber.Send("SSUBSCRIBE", p + "s");
        subscriber.ReadReply();

        string line = other.Call("CLIENT", "LIST").Split('\n').Single(l => l.Contains(" flags=P ", StringComparison.Ordinal));
        Assert.Contains(" sub=2 psub=1 ssub=1 ", line, StringComparison.Ordinal);
        Assert.True(other.InfoNumber("stats", "pubsub_channels") >= 2);
        Assert.True(other.InfoNumber("stats", "pubsub_patterns") >= 1);
        Assert.True(other.InfoNumber("stats", "pubsubshard_channels") >= 1);

        // Redis's client types: a client with subscriptions is of type pubsub.
        Assert.Contains($"id={id} ", other.Call("CLIENT", "LIST", "TYPE", "pubsub"), StringComparison.Ordinal);
        Assert.DoesNotContain($"id={id} ", other.Call("CLIENT", "LIST", "TYPE", "normal"), StringComparison.Ordinal);
        Assert.Equal(":1\r\n", other.Call("CLIENT", "KILL", "ID", id, "TYPE", "pubsub"));
        Assert.True(subscriber.IsClosedByServer());
    }

    [Fact]
    public async Task ASubscriberThatDoesNotRead_IsDisconnectedPastTheOutputLimit()
    {
        string p = servers.NewPrefix();
        using RespTestClient subscriber = servers.Durable.Connect();
        using RespTestClient publisher = servers.Durable.Connect();
        subscriber.Send("SUBSCRIBE", p + "flood");
        Assert.StartsWith("*3\r\n$9\r\nsubscribe\r\n", subscriber.ReadReply(), StringComparison.Ordinal);

        // 1 MiB messages nobody reads: past 32 MiB queued (beyond what the sockets hold), the server drops the subscriber.
        string message = new('m', 1 << 20);
        Stopwatch watch = Stopwatch.StartNew();
        int published = 0;
        while (publisher.Call("PUBLISH", p + "flood", message) == ":1\r\n")
        {
            published++;
            Assert.True(published < 1000 && watch.Elapsed < TimeSpan.FromSeconds(60), $"still subscribed after {published} messages");
        }

        Assert.InRange(published, 32, 999);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(":0\r\n", publisher.Call("PUBLISH", p + "flood", "after"));
        Assert.Equal("+PONG\r\n", publisher.Call("PING"));
    }

    [Fact]
    public async Task ASubscriberPastTheSoftLimitForLongerThanItsSeconds_IsDisconnected()
    {
        // A server of its own: the limit is server-wide, and other tests share the reference servers.
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient subscriber = server.Connect();
        using RespTestClient publisher = server.Connect();
        Assert.Equal("+OK\r\n", publisher.Call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 4mb 1"));
        subscriber.Send("SUBSCRIBE", "flood");
        Assert.StartsWith("*3\r\n$9\r\nsubscribe\r\n", subscriber.ReadReply(), StringComparison.Ordinal);

        // 1 MiB messages nobody reads: past 4 MiB queued (beyond what the sockets hold) the soft limit is reached, and a
        // message more than a second later, still past it, drops the subscriber; there is no hard limit.
        string message = new('m', 1 << 20);
        Stopwatch watch = Stopwatch.StartNew();
        int published = 0;
        while (publisher.Call("PUBLISH", "flood", message) == ":1\r\n")
        {
            published++;
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"still subscribed after {published} messages");
            await Task.Delay(published > 4 ? 100 : 0, TestContext.Current.CancellationToken);
        }

        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(1), $"dropped after {watch.Elapsed}, before the soft limit's second");
        Assert.Equal(":0\r\n", publisher.Call("PUBLISH", "flood", "after"));
    }

    // Sends a command to both; each answers with `replies` replies (one per channel), compared one by one.
    private static void SameReplies(ReplyComparison both, int replies, params string[] command)
    {
        both.Redis.Send(command);
        both.Durable.Send(command);
        SameMessages(both, replies, string.Join(' ', command));
    }

    private static void SameMessages(ReplyComparison both, int count, string what = "messages")
    {
        for (int i = 0; i < count; i++)
        {
            string expected = both.Redis.ReadReply();
            string actual = both.Durable.ReadReply();
            Assert.True(expected == actual, $"{what} #{i}\nredis:   {Show(expected)}\ndurable: {Show(actual)}");
        }
    }

    private static string Show(string reply) => reply.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
