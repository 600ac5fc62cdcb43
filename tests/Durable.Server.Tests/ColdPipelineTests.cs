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
        Load(client);
        Durable.Storage.StoreStatistics loaded = server.State.Store.GetStatistics();
        Assert.True(loaded.LogHeadAddress - loaded.LogBeginAddress > (loaded.LogTailAddress - loaded.LogBeginAddress) / 2, "most keys are on disk only");
        long pendingBefore = loaded.PendingReads;

        // One pipeline over the oldest (coldest) keys, with the replies a one-by-one run gives.
        Pipeline pipeline = new();
        for (int i = 0; i < 300; i += 3)
        {
            string key = $"key:{i}";
            pipeline.Add(Bulk(Value(i, "v1")), "GET", key);
            pipeline.Add("+OK\r\n", "SET", key, Value(i, "v2"));
            pipeline.Add(Bulk(Value(i, "v2")), "GET", key);
            pipeline.Add(":1\r\n", "DEL", $"key:{i + 1}");
            pipeline.Add("+OK\r\n", "SELECT", "1");
            pipeline.Add(Bulk(null), "GET", key);
            pipeline.Add("+OK\r\n", "SELECT", "0");
            pipeline.Add($"*3\r\n{Bulk(Value(i, "v2"))}{Bulk(null)}{Bulk(Value(i + 2, "v1"))}", "MGET", key, $"key:{i + 1}", $"key:{i + 2}");
            pipeline.Add(Integer(Encoding.ASCII.GetByteCount(Value(i + 2, "v1"))), "STRLEN", $"key:{i + 2}");
        }

        pipeline.RunAndCompare(client);
        Assert.True(server.State.Store.GetStatistics().PendingReads > pendingBefore, "the pipeline read cold keys from disk");
        Assert.Equal(Integer(Keys - 100), client.Call("DBSIZE"));
        Assert.Equal(Bulk(Value(5000, "v1")), client.Call("GET", "key:5000"));
    }

    // A write that reads a key after another write of the same pipeline must not be answered from the record the batch
    // prefetched before the first write (the stripe's write count moved on).
    [Fact]
    public async Task PipelineOfWritesToOneColdKey_EachReadsTheWriteBefore()
    {
        await using TestServer server = await TestServer.StartAsync(c => c.MemoryBytes = 1L << 20);
        using RespTestClient client = server.Connect();
        Load(client);
        long pendingBefore = server.State.Store.GetStatistics().PendingReads;
        Pipeline pipeline = new();
        for (int i = 0; i < 100; i++)
        {
            string key = $"key:{i}";
            pipeline.Add(Bulk(Value(i, "v1")), "GET", key);
            pipeline.Add("+OK\r\n", "SET", key, Value(i, "v2"));
            pipeline.Add(Bulk(Value(i, "v2")), "SET", key, Value(i, "v3"), "GET");
            pipeline.Add(Integer(Encoding.ASCII.GetByteCount(Value(i, "v3")) + 1), "APPEND", key, "!");
            pipeline.Add(Bulk(Value(i, "v3") + "!"), "GET", key);
        }

        pipeline.RunAndCompare(client);
        Assert.True(server.State.Store.GetStatistics().PendingReads > pendingBefore, "the pipeline read cold keys from disk");
    }

    private static string Integer(long value) => ":" + value.ToString(CultureInfo.InvariantCulture) + "\r\n";

    // Keys 0..Keys-1 with their "v1" values: under a 1 MiB budget most of them end up on disk only.
    private static void Load(RespTestClient client)
    {
        for (int i = 0; i < Keys; i++)
        {
            client.Send("SET", $"key:{i}", Value(i, "v1"));
        }

        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal("+OK\r\n", client.ReadReply());
        }
    }

    // Commands sent as one pipeline, with the replies a one-by-one run gives.
    private sealed class Pipeline
    {
        private readonly StringBuilder _expected = new();
        private readonly List<byte[]> _frames = [];

        public void Add(string reply, params string[] args)
        {
            _frames.Add(RespTestClient.Encode(args));
            _expected.Append(reply);
        }

        public void RunAndCompare(RespTestClient client)
        {
            client.SendRaw([.. _frames.SelectMany(f => f)]);
            StringBuilder actual = new();
            for (int i = 0; i < _frames.Count; i++)
            {
                actual.Append(client.ReadReply());
            }

            Assert.Equal(_expected.ToString(), actual.ToString());
        }
    }
}
