using System.Diagnostics;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Every list write, blocked pops served by a wake-up included, survives SIGKILL and restart (appendfsync always).</summary>
public sealed class ListRecoveryTests : IDisposable
{
    private static readonly string[] s_keys = ["pushed", "edited", "trimmed", "popped", "moved", "mpopped", "blocked", "blmoved", "expiring", "rotated"];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ListWrites_SurviveSigkill()
    {
        string[] before = new string[s_keys.Length];
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "4mb", "--appendfsync", "always"))
        {
            using RespTestClient client = server.Connect();
            using RespTestClient blocked = server.Connect();
            client.Call("RPUSH", "pushed", "a", "b", "c");
            client.Call("LPUSH", "pushed", "z");
            client.Call("RPUSHX", "pushed", "tail");
            client.Call("LPUSHX", "pushed", "head");
            client.Call("RPUSH", "edited", "1", "2", "3", "2", "1");
            client.Call("LSET", "edited", "0", "first");
            client.Call("LINSERT", "edited", "AFTER", "3", "three");
            client.Call("LREM", "edited", "-1", "2");
            client.Call("RPUSH", "trimmed", "a", "b", "c", "d", "e");
            client.Call("LTRIM", "trimmed", "1", "-2");
            client.Call("RPUSH", "popped", "a", "b", "c", "d", "e", "f");
            client.Call("LPOP", "popped");
            client.Call("RPOP", "popped", "2");
            client.Call("RPUSH", "source", "x", "y", "z");
            client.Call("LMOVE", "source", "moved", "LEFT", "RIGHT");
            client.Call("RPOPLPUSH", "source", "moved");
            client.Call("RPUSH", "mpopped", "1", "2", "3");
            client.Call("LMPOP", "2", "none", "mpopped", "RIGHT", "COUNT", "2");
            client.Call("RPUSH", "rotated", "1", "2", "3");
            client.Call("LMOVE", "rotated", "rotated", "LEFT", "RIGHT");
            client.Call("RPUSH", "expiring", "e");
            client.Call("EXPIRE", "expiring", "100000");

            // Served after blocking: the pop is logged by the waiter's retry.
            blocked.Send("BLPOP", "blocked", "0");
            WaitUntilBlocked(client);
            client.Call("RPUSH", "blocked", "b1", "b2");
            Assert.Equal("*2\r\n$7\r\nblocked\r\n$2\r\nb1\r\n", blocked.ReadReply());
            blocked.Send("BLMOVE", "empty", "blmoved", "LEFT", "LEFT", "0");
            WaitUntilBlocked(client);
            client.Call("RPUSH", "empty", "m");
            Assert.Equal("$1\r\nm\r\n", blocked.ReadReply());
            for (int i = 0; i < s_keys.Length; i++)
            {
                before[i] = client.Call("LRANGE", s_keys[i], "0", "-1");
            }

            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "4mb");
        using RespTestClient reader = again.Connect();
        for (int i = 0; i < s_keys.Length; i++)
        {
            Assert.Equal(before[i], reader.Call("LRANGE", s_keys[i], "0", "-1"));
        }

        Assert.Equal(":0\r\n", reader.Call("EXISTS", "empty"));
        Assert.Equal("*1\r\n$1\r\ny\r\n", reader.Call("LRANGE", "source", "0", "-1"));
        Assert.Equal(":1\r\n", reader.Call("EXISTS", "expiring"));
        Assert.NotEqual(":-1\r\n", reader.Call("TTL", "expiring"));
        Assert.Equal("$9\r\nquicklist\r\n", reader.Call("OBJECT", "ENCODING", "pushed"));
    }

    /// <summary>Writes to a chunked list (thousands of elements: root and chunk records in one WAL entry per command) survive SIGKILL.</summary>
    [Fact]
    public async Task ChunkedListWrites_SurviveSigkill()
    {
        string before;
        string moved;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "4mb", "--appendfsync", "always"))
        {
            using RespTestClient client = server.Connect();
            client.Call(["RPUSH", "big", .. Enumerable.Range(0, 5000).Select(i => "e" + (i % 100).ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            for (int i = 0; i < 200; i++)
            {
                string n = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                client.Call("LPUSH", "big", "l" + n);
                client.Call("RPUSH", "big", "r" + n);
                if (i % 3 == 0)
                {
                    client.Call("LPOP", "big");
                    client.Call("RPOP", "big", "2");
                }
            }

            client.Call("LSET", "big", "2500", "set");
            client.Call("LINSERT", "big", "AFTER", "e50", "after-e50");
            client.Call("LINSERT", "big", "BEFORE", "e99", "before-e99");
            client.Call("LREM", "big", "-3", "e7");
            client.Call("LREM", "big", "0", "e8");
            client.Call("LTRIM", "big", "30", "-40");
            client.Call("LMOVE", "big", "small", "LEFT", "RIGHT");
            client.Call("LMOVE", "big", "small", "RIGHT", "RIGHT");
            client.Call("EXPIRE", "big", "100000");
            before = client.Call("LRANGE", "big", "0", "-1");
            moved = client.Call("LRANGE", "small", "0", "-1");
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "4mb");
        using RespTestClient reader = again.Connect();
        Assert.Equal(before, reader.Call("LRANGE", "big", "0", "-1"));
        Assert.Equal(moved, reader.Call("LRANGE", "small", "0", "-1"));
        Assert.NotEqual(":-1\r\n", reader.Call("TTL", "big"));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static void WaitUntilBlocked(RespTestClient observer)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (!observer.Call("INFO", "clients").Contains("blocked_clients:1", StringComparison.Ordinal))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the client did not block");
            Thread.Yield();
        }
    }
}
