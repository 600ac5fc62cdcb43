using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// <c>cold-read-io</c> through a real server under a 1 MiB budget: with either path, every key of a data set mostly on
/// disk reads back as written, one GET at a time and in pipelines (the batch prefetch), and INFO says which path served
/// the reads (io_uring: its reads counted; faster: none through the ring).
/// </summary>
public sealed class ColdReadIoTests
{
    private const int Keys = 3000;

    private static string Key(int i) => "key:" + i.ToString(CultureInfo.InvariantCulture);

    private static string Value(int i) => i.ToString(CultureInfo.InvariantCulture) + ":" + new string((char)('a' + (i % 26)), 1000);

    private static string Bulk(string value) => $"${value.Length}\r\n{value}\r\n";

    /// <summary>Where the kernel refuses io_uring (a container's seccomp profile) the uring case is skipped; the storage tests cover the fallback.</summary>
    private static void RequireRing()
    {
        try
        {
            new Storage.Faster.IoUring(2).Dispose();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            Assert.Skip($"io_uring is unavailable here ({exception.Message})");
        }
    }

    [Theory]
    [InlineData("uring", "io_uring")]
    [InlineData("faster", "faster")]
    public async Task DataSetMostlyOnDisk_EveryKeyReadsBack_InfoSaysWhichPath(string setting, string reported)
    {
        if (setting == "uring")
        {
            RequireRing();
        }

        await using TestServer server = await TestServer.StartAsync(c =>
        {
            c.MemoryBytes = 1L << 20;
            c.ColdReadIo = setting;
        });
        using RespTestClient client = server.Connect();
        for (int i = 0; i < Keys; i++)
        {
            client.Send("SET", Key(i), Value(i));
        }

        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal("+OK\r\n", client.ReadReply());
        }

        long pendingBefore = client.InfoNumber("memory", "durable_pending_reads");
        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal(Bulk(Value(i)), client.Call("GET", Key(i)));
        }

        for (int first = 0; first < Keys; first += 50)
        {
            int last = Math.Min(Keys, first + 50);
            for (int i = first; i < last; i++)
            {
                client.Send("GET", Key(i));
            }

            for (int i = first; i < last; i++)
            {
                Assert.Equal(Bulk(Value(i)), client.ReadReply());
            }
        }

        Assert.True(client.InfoNumber("memory", "durable_pending_reads") - pendingBefore > Keys, "most GETs went to disk");
        Assert.Contains($"durable_cold_read_io:{reported}\r\n", client.Call("INFO", "memory"), StringComparison.Ordinal);
        long direct = client.InfoNumber("memory", "durable_direct_reads");
        Assert.True(setting == "uring" ? direct > Keys : direct == 0, $"{direct} reads through io_uring");
        Assert.Equal(0, client.InfoNumber("memory", "durable_direct_read_fallbacks"));
        Assert.Equal($"*2\r\n$12\r\ncold-read-io\r\n${setting.Length}\r\n{setting}\r\n", client.Call("CONFIG", "GET", "cold-read-io"));
    }
}
