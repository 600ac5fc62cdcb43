using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Stream writes (root and chunk records, several chunks on disk; consumer groups) survive SIGKILL and restart, before and after a checkpoint.</summary>
public sealed class StreamRecoveryTests : IDisposable
{
    private static readonly string[] s_keys = ["big", "small", "emptied", "expiring"];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task StreamWrites_SurviveSigkill_BeforeAndAfterACheckpoint()
    {
        string[] before;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "4mb", "--appendfsync", "always"))
        {
            using RespTestClient client = server.Connect();
            for (int i = 1; i <= 3000; i++)
            {
                string n = i.ToString(CultureInfo.InvariantCulture);
                client.Call("XADD", "big", n + "-*", "field", "value-" + n, "n", n);
                if (i % 7 == 0)
                {
                    client.Call("XDEL", "big", (i - 3).ToString(CultureInfo.InvariantCulture) + "-0");
                }
            }

            client.Call("XTRIM", "big", "MAXLEN", "~", "2500");
            client.Call("XTRIM", "big", "MINID", "700-0");
            client.Call("XADD", "small", "MAXLEN", "2", "*", "a", "1");
            client.Call("XADD", "small", "MAXLEN", "2", "*", "b", "2");
            client.Call("XADD", "small", "MAXLEN", "2", "*", "c", "3");
            client.Call("XADD", "emptied", "1-1", "a", "b");
            client.Call("XDEL", "emptied", "1-1");
            client.Call("XSETID", "emptied", "5-5", "ENTRIESADDED", "9");
            client.Call("XADD", "expiring", "*", "a", "b");
            client.Call("EXPIRE", "expiring", "100000");
            client.Call("XGROUP", "CREATE", "big", "workers", "0");
            client.Call("XGROUP", "CREATE", "big", "audit", "$", "ENTRIESREAD", "10");
            client.Call("XREADGROUP", "GROUP", "workers", "w1", "COUNT", "50", "STREAMS", "big", ">");
            client.Call("XREADGROUP", "GROUP", "workers", "w2", "COUNT", "20", "STREAMS", "big", ">");
            client.Call("XACK", "big", "workers", "705-0", "706-0");
            client.Call("XCLAIM", "big", "workers", "w3", "0", "708-0", "RETRYCOUNT", "4");
            client.Call("XGROUP", "CREATECONSUMER", "big", "workers", "idle");
            before = Snapshot(client);
            await server.KillAsync();
        }

        await using (ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "4mb", "--appendfsync", "always"))
        {
            using RespTestClient client = again.Connect();
            Assert.Equal(before, Snapshot(client));
            Assert.NotEqual(":-1\r\n", client.Call("TTL", "expiring"));
            client.Call("SAVE");
            for (int i = 3001; i <= 3300; i++)
            {
                client.Call("XADD", "big", i.ToString(CultureInfo.InvariantCulture) + "-0", "after", "checkpoint");
            }

            client.Call("XDEL", "big", "3100-0", "800-0");
            client.Call("XTRIM", "big", "MAXLEN", "1000");
            client.Call("XADD", "emptied", "6-0", "x", "y");
            client.Call("XREADGROUP", "GROUP", "workers", "w1", "COUNT", "5", "STREAMS", "big", ">");
            client.Call("XAUTOCLAIM", "big", "workers", "w2", "0", "0", "COUNT", "3");
            client.Call("XGROUP", "DELCONSUMER", "big", "workers", "idle");
            before = Snapshot(client);
            await again.KillAsync();
        }

        await using ServerProcess third = await ServerProcess.StartAsync(_directory, "--memory", "4mb");
        using RespTestClient reader = third.Connect();
        Assert.Equal(before, Snapshot(reader));
        Assert.Equal(":1000\r\n", reader.Call("XLEN", "big"));
    }

    // Entries, the stream's counters, and its groups with their pending entries (delivery times included: they are stored).
    private static string[] Snapshot(RespTestClient client) =>
        [.. s_keys.SelectMany(key => new[] { client.Call("XRANGE", key, "-", "+"), client.Call("XINFO", "STREAM", key, "FULL", "COUNT", "0") })];

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
