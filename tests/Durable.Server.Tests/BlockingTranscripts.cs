using System.Diagnostics;
using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Runs a blocking-command scenario against redis-server and against Durable, with the same connections and order of
/// events, and asserts that the transcripts of replies are identical; helpers to block a connection and wait on it.
/// </summary>
internal static class BlockingTranscripts
{
    public delegate void Scenario(Func<RespTestClient> connect, List<string> transcript, string prefix);

    public static void OnBoth(ReferenceServers servers, Scenario scenario)
    {
        List<string> redis = [];
        List<string> durable = [];
        string prefix = servers.NewPrefix();
        scenario(servers.Redis.Connect, redis, prefix);
        scenario(servers.Durable.Connect, durable, prefix);
        Assert.Equal(redis, durable);
    }

    public static long ClientId(RespTestClient client) => long.Parse(client.Call("CLIENT", "ID").AsSpan(1).Trim(), CultureInfo.InvariantCulture);

    /// <summary>Sends a blocking command and waits until the server shows the connection blocked.</summary>
    public static void Block(RespTestClient client, RespTestClient observer, params string[] command)
    {
        long id = ClientId(client);
        client.Send(command);
        WaitUntilBlocked(observer, id);
    }

    public static void WaitUntilBlocked(RespTestClient observer, long id) =>
        WaitUntil(() => observer.Call("CLIENT", "LIST", "ID", id.ToString(CultureInfo.InvariantCulture)).Contains(" flags=b ", StringComparison.Ordinal));

    /// <summary>Polls the server (each poll is a round trip, so this waits on the server, not on a clock) for up to 10 seconds.</summary>
    public static void WaitUntil(Func<bool> condition)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "condition not reached in 10 s");
            Thread.Yield();
        }
    }
}
