using System.Globalization;
using System.Text;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Pipelines over a data set mostly on disk (a 1 MiB budget): every reply is exactly what running the commands one by
/// one gives, for reads, writes, deletes, multi-key reads and a SELECT in the middle of the batch.
/// </summary>
public sealed class ColdPipelineTests
{
    private const int Keys = 20_000;

    private static string Value(int i, string version) => $"{version}:{i}:" + new string('x', 100);

    private static string Bulk(string? value) => value is null ? "$-1\r\n" : $"${Encoding.ASCII.GetByteCount(value)}\r\n{value}\r\n";

    [Fact]
    public async Task PipelineOfColdKeys_MixedCommands_RepliesExact()
    {
        await using TestServer server = await TestServer.StartAsync(c => c.MemoryBytes = 1L << 20);
        using RespTestClient client = server.Connect();
        StringBuilder load = new();
        for (int i = 0; i < Keys; i++)
        {
            client.Send("SET", $"key:{i}", Value(i, "v1"));
        }

        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal("+OK\r\n", client.ReadReply());
        }

        Durable.Storage.StoreStatistics loaded = server.State.Store.GetStatistics();
        Assert.True(loaded.LogHeadAddress - loaded.LogBeginAddress > (loaded.LogTailAddress - loaded.LogBeginAddress) / 2, "most keys are on disk only");
        long pendingBefore = loaded.PendingReads;

        // One pipeline over the oldest (coldest) keys, with the replies a one-by-one run gives.
        StringBuilder expected = new();
        List<byte[]> frames = [];
        void Add(string reply, params string[] args)
        {
            frames.Add(RespTestClient.Encode(args));
            expected.Append(reply);
        }

        for (int i = 0; i < 300; i += 3)
        {
            string key = $"key:{i}";
            Add(Bulk(Value(i, "v1")), "GET", key);
            Add("+OK\r\n", "SET", key, Value(i, "v2"));
            Add(Bulk(Value(i, "v2")), "GET", key);
            Add(":1\r\n", "DEL", $"key:{i + 1}");
            Add("+OK\r\n", "SELECT", "1");
            Add(Bulk(null), "GET", key);
            Add("+OK\r\n", "SELECT", "0");
            Add($"*3\r\n{Bulk(Value(i, "v2"))}{Bulk(null)}{Bulk(Value(i + 2, "v1"))}", "MGET", key, $"key:{i + 1}", $"key:{i + 2}");
            Add(":" + Encoding.ASCII.GetByteCount(Value(i + 2, "v1")).ToString(CultureInfo.InvariantCulture) + "\r\n", "STRLEN", $"key:{i + 2}");
        }

        client.SendRaw([.. frames.SelectMany(f => f)]);
        StringBuilder actual = new();
        for (int i = 0; i < frames.Count; i++)
        {
            actual.Append(client.ReadReply());
        }

        Assert.Equal(expected.ToString(), actual.ToString());
        Assert.True(server.State.Store.GetStatistics().PendingReads > pendingBefore, "the pipeline read cold keys from disk");
        Assert.Equal(":" + (Keys - 100).ToString(CultureInfo.InvariantCulture) + "\r\n", client.Call("DBSIZE"));
        Assert.Equal(Bulk(Value(5000, "v1")), client.Call("GET", "key:5000"));
    }
}
