using Durable.Testing;
using StackExchange.Redis;

namespace Durable.Server.Tests;

public sealed class StackExchangeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StackExchangeRedis_ConnectsWithAllowAdmin_AndRunsCommands()
    {
        await using TestServer server = await TestServer.StartAsync();
        ConfigurationOptions options = new()
        {
            EndPoints = { { "127.0.0.1", server.Port } },
            AllowAdmin = true,
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
        };
        using StringWriter log = new();
        ConnectionMultiplexer redis;
        try
        {
            redis = await ConnectionMultiplexer.ConnectAsync(options, log);
        }
        finally
        {
            // The handshake, so that commands SE.Redis sends and Durable lacks are visible in the test output.
            output.WriteLine(log.ToString());
        }

        await using (redis)
        {
            IDatabase db = redis.GetDatabase();
            Assert.True(await db.StringSetAsync("se:key", "hello"));
            Assert.Equal("hello", (string?)await db.StringGetAsync("se:key"));
            Assert.True(await db.KeyExistsAsync("se:key"));
            Assert.Equal(1, (long)await db.ExecuteAsync("DEL", "se:key"));
            Assert.True((await db.PingAsync()) >= TimeSpan.Zero);

            IServer admin = redis.GetServer("127.0.0.1", server.Port);
            Assert.Equal(new Version(7, 0, 15), admin.Version);
            IGrouping<string, KeyValuePair<string, string>>[] info = await admin.InfoAsync();
            Assert.Contains(info, section => section.Key == "Server");
            Assert.NotEmpty(await admin.ConfigGetAsync("maxclients"));
            Assert.Contains(await admin.ClientListAsync(), client => client.Id > 0);
            DateTime time = await admin.TimeAsync();
            Assert.InRange(time, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
            Assert.Equal(0, await admin.DatabaseSizeAsync(1));
            Assert.Contains("redis_version:7.0.15", (string?)await db.ExecuteAsync("INFO", "server"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StackExchangeRedis_TransactionsWithConditions_CommitOrAbortAsRedis()
    {
        // SE.Redis turns conditions into WATCH plus a read of each watched key, then MULTI ... EXEC (or UNWATCH when a
        // condition already fails).
        await using TestServer server = await TestServer.StartAsync();
        await using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{server.Port}");
        IDatabase db = redis.GetDatabase();

        ITransaction first = db.CreateTransaction();
        first.AddCondition(Condition.KeyNotExists("se:tx:lock"));
        Task<bool> set = first.StringSetAsync("se:tx:lock", "owner");
        Task<long> counted = first.StringIncrementAsync("se:tx:count");
        Assert.True(await first.ExecuteAsync());
        Assert.True(await set);
        Assert.Equal(1, await counted);

        ITransaction second = db.CreateTransaction();
        second.AddCondition(Condition.KeyNotExists("se:tx:lock"));
        _ = second.StringIncrementAsync("se:tx:count");
        Assert.False(await second.ExecuteAsync());

        ITransaction third = db.CreateTransaction();
        third.AddCondition(Condition.StringEqual("se:tx:lock", "owner"));
        _ = third.KeyDeleteAsync("se:tx:lock");
        Task<long> again = third.StringIncrementAsync("se:tx:count");
        Assert.True(await third.ExecuteAsync());
        Assert.Equal(2, await again);
        Assert.False(await db.KeyExistsAsync("se:tx:lock"));
    }

    [Fact]
    public async Task StackExchangeRedis_Resp3_HandshakesWithHello()
    {
        await using TestServer server = await TestServer.StartAsync();
        ConfigurationOptions options = new()
        {
            EndPoints = { { "127.0.0.1", server.Port } },
            Protocol = RedisProtocol.Resp3,
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
        };
        using StringWriter log = new();
        try
        {
            await using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(options, log);
            IDatabase db = redis.GetDatabase();
            Assert.True(await db.StringSetAsync("se3:key", "three"));
            Assert.Equal("three", (string?)await db.StringGetAsync("se3:key"));
            Assert.True((await db.StringGetAsync("se3:missing")).IsNull);
            Assert.Equal(RedisProtocol.Resp3, redis.GetServer("127.0.0.1", server.Port).Protocol);
        }
        finally
        {
            output.WriteLine(log.ToString());
        }
    }
}
