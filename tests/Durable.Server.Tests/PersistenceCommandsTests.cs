using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class PersistenceCommandsTests(ReferenceServers servers)
{
    [Fact]
    public async Task Save_WritesCheckpointAndMovesLastSave()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        Assert.Equal("+OK\r\n", client.Call("SET", "k", "v"));
        int before = server.State.Store.GetStatistics().CheckpointsTaken;
        Assert.Equal("+OK\r\n", client.Call("SAVE"));
        Assert.Equal(before + 1, server.State.Store.GetStatistics().CheckpointsTaken);
        string lastSave = client.Call("LASTSAVE");
        Assert.StartsWith(":", lastSave, StringComparison.Ordinal);
        Assert.InRange(long.Parse(lastSave.AsSpan(1, lastSave.Length - 3), System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal("+PONG\r\n", client.Call("PING"));
    }

    [Fact]
    public async Task Bgsave_RepliesAtOnceAndCheckpoints()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        Assert.Equal("+Background saving started\r\n", client.Call("BGSAVE"));
        Assert.Equal("-ERR syntax error\r\n", client.Call("BGSAVE", "NOW"));
        await AssertCheckpointTakenAsync(server);
    }

    [Fact]
    public async Task BgRewriteAof_RepliesAsRedisAndCheckpoints()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RedisReference redis = await RedisReference.StartAsync();
        using ReplyComparison both = new(server.Connect(), redis.Connect());
        both.Same("BGREWRITEAOF", "SCHEDULE");
        Assert.Equal("+Background append only file rewriting started\r\n", both.Durable.Call("BGREWRITEAOF"));
        await AssertCheckpointTakenAsync(server);
    }

    private static async Task AssertCheckpointTakenAsync(TestServer server)
    {
        for (int i = 0; i < 600 && server.State.Store.GetStatistics().CheckpointsTaken == 0; i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.True(server.State.Store.GetStatistics().CheckpointsTaken > 0);
    }

    [Fact]
    public async Task WaitAof_WithoutTimeout_UnderEverysec_WaitsForTheCommit()
    {
        // Timeout 0 waits as long as the commit takes (Redis: until satisfied), rather than answering what is there now.
        await using TestServer server = await TestServer.StartAsync(config => config.AppendFsync = "everysec");
        using RespTestClient client = server.Connect();
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("+OK\r\n", client.Call("SET", $"k{i}", "v"));
            Assert.Equal("*2\r\n:1\r\n:0\r\n", client.Call("WAITAOF", "1", "0", "0"));
        }
    }

    [Fact]
    public void WaitAof_AfterWrite_ReportsLocalFsync()
    {
        using RespTestClient client = servers.Durable.Connect();
        string key = servers.NewPrefix() + "w";
        Assert.Equal("+OK\r\n", client.Call("SET", key, "v"));
        Assert.Equal("*2\r\n:1\r\n:0\r\n", client.Call("WAITAOF", "1", "0", "0"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", client.Call("WAITAOF", "x", "0", "0"));
        Assert.Equal("-ERR timeout is negative\r\n", client.Call("WAITAOF", "1", "0", "-1"));
    }
}
