using Durable.Testing;
using static Durable.Server.Tests.BlockingTranscripts;

namespace Durable.Server.Tests;

/// <summary>BZPOPMIN, BZPOPMAX, BZMPOP: the same scenarios against Durable and redis-server give identical transcripts.</summary>
public sealed class SortedSetBlockingTests(ReferenceServers servers)
{
    private static readonly string[] s_protocols = ["2", "3"];

    [Fact]
    public void ImmediateErrorsAndTimeouts_MatchRedisInBothProtocols() => BlockingTranscripts.OnBoth(servers, (connect, transcript, p) =>
    {
        string k = p + "z";
        foreach (string protocol in s_protocols)
        {
            using RespTestClient client = connect();
            client.Call("HELLO", protocol);
            transcript.Add(client.Call("ZADD", k, "1", "a", "2", "b", "3", "c", "-0.5", "d"));
            transcript.Add(client.Call("BZPOPMIN", k + "missing", k, "0"));
            transcript.Add(client.Call("BZPOPMAX", k, "0.01"));
            transcript.Add(client.Call("BZMPOP", "0", "2", k + "missing", k, "MIN", "COUNT", "5"));
            transcript.Add(client.Call("EXISTS", k));
            transcript.Add(client.Call("BZPOPMIN", k, "0.01"));
            transcript.Add(client.Call("BZPOPMAX", k, k + "2", "0.02"));
            transcript.Add(client.Call("BZMPOP", "0.01", "1", k, "MAX"));
            transcript.Add(client.Call("SET", k + "s", "string"));
            transcript.Add(client.Call("BZPOPMIN", k, k + "s", "0"));
            transcript.Add(client.Call("BZMPOP", "0", "2", k, k + "s", "MIN"));
            transcript.Add(client.Call("BZPOPMIN", k, "-1"));
            transcript.Add(client.Call("BZPOPMIN", k, "abc"));
            transcript.Add(client.Call("BZMPOP", "abc", "1", k, "MIN"));
            transcript.Add(client.Call("BZMPOP", "0", "0", k, "MIN"));
            transcript.Add(client.Call("BZMPOP", "0", "1", k, "MIDDLE"));
            transcript.Add(client.Call("BZMPOP", "0", "1", k, "MIN", "COUNT", "0"));
            transcript.Add(client.Call("BZMPOP", "0", "1", k, "MIN", "COUNT", "1", "COUNT", "2"));
            transcript.Add(client.Call("BZMPOP", "0", "3", k, "MIN"));
            transcript.Add(client.Call("BZPOPMIN", k));
            transcript.Add(client.Call("COMMAND", "GETKEYS", "BZMPOP", "0", "2", "a", "b", "MIN"));
            transcript.Add(client.Call("COMMAND", "GETKEYS", "BZPOPMAX", "a", "b", "0"));
            transcript.Add(client.Call("DEL", k + "s"));
        }
    });

    [Fact]
    public void Waiters_WokenByWritesFromOtherConnections_InArrivalOrder() => BlockingTranscripts.OnBoth(servers, (connect, transcript, p) =>
    {
        string k = p + "z";
        using RespTestClient writer = connect();
        using RespTestClient first = connect();
        using RespTestClient second = connect();
        Block(first, writer, "BZPOPMIN", k + "other", k, "0");
        Block(second, writer, "BZPOPMAX", k, "0");
        transcript.Add(writer.Call("ZADD", k, "5", "five"));
        transcript.Add(first.ReadReply());
        transcript.Add(writer.Call("ZADD", k, "7", "seven", "9", "nine"));
        transcript.Add(second.ReadReply());
        transcript.Add(writer.Call("ZRANGE", k, "0", "-1", "WITHSCORES"));

        Block(first, writer, "BZMPOP", "0", "2", k + "a", k + "b", "MAX", "COUNT", "2");
        transcript.Add(writer.Call("ZADD", k + "src", "1", "x", "2", "y", "3", "w"));
        transcript.Add(writer.Call("RENAME", k + "src", k + "b"));
        transcript.Add(first.ReadReply());
        transcript.Add(writer.Call("ZRANGE", k + "b", "0", "-1"));

        // A waiter stays blocked while its key holds another type, and is served once it holds a sorted set again.
        Block(second, writer, "BZPOPMIN", k + "t", "0");
        transcript.Add(writer.Call("SET", k + "t", "string"));
        transcript.Add(writer.Call("DEL", k + "t"));
        transcript.Add(writer.Call("ZADD", k + "t", "1", "m"));
        transcript.Add(second.ReadReply());
    });
}
