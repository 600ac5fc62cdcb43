using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// MIGRATE from Durable and from redis-server to a third server (a redis-server), reply for reply, with the target's
/// state set the same before each; and MIGRATE from redis-server into Durable, how a Redis user moves data over.
/// </summary>
public sealed class MigrateTests
{
    [Fact]
    public async Task Migrate_RepliesAndMovesKeysAsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        await using RedisReference target = await RedisReference.StartAsync();
        using ReplyComparison both = pair.Compare();
        using RespTestClient onTarget = target.Connect();
        string port = target.Port.ToString(CultureInfo.InvariantCulture);
        both.Same("SET", "k1", "v1");
        both.Same("SET", "k2", "v2", "PX", "100000");
        both.Same("SET", "k3", "v3");
        both.Same("RPUSH", "list", "a", "b", "c");

        string[][] calls =
        [
            ["MIGRATE", "127.0.0.1", port, "k1", "0", "1000"], ["EXISTS", "k1"], ["MIGRATE", "127.0.0.1", port, "nokey", "0", "1000"],
            ["MIGRATE", "127.0.0.1", port, "", "0", "1000", "KEYS", "k2", "k3", "list"], ["EXISTS", "k2", "k3", "list"],
            ["MIGRATE", "127.0.0.1", port, "k3", "0", "1000", "REPLACE", "COPY"], ["EXISTS", "k3"],
            ["MIGRATE", "127.0.0.1", port, "k3", "x", "1000"], ["MIGRATE", "127.0.0.1", port, "k3", "0", "x"],
            ["MIGRATE", "127.0.0.1", port, "k3", "0", "1000", "KEYS", "a"], ["MIGRATE", "127.0.0.1", port, "", "0", "1000", "KEYS"],
            ["MIGRATE", "127.0.0.1", port, "k3", "0", "1000", "BOGUS"], ["MIGRATE", "127.0.0.1", port, "k3", "0", "1000", "AUTH"],
            ["MIGRATE", "127.0.0.1", port, "k3", "0", "1000", "AUTH", "pw"], ["MIGRATE", "127.0.0.1", port, "k3", "0", "1000", "AUTH2", "u", "pw"],
            ["MIGRATE", "127.0.0.1", port, "k3", "99", "1000", "REPLACE"], ["EXISTS", "k3"], ["MIGRATE", "127.0.0.1", port, "k3", "5", "-5", "REPLACE", "COPY"],
            ["MIGRATE", "127.0.0.1", port], ["MIGRATE", "127.0.0.1", "1", "k3", "0", "1000"],
        ];
        foreach (string[] call in calls)
        {
            // Each source meets the target as the other did: k3 there already, nothing else.
            Reset(onTarget);
            string expected = both.Redis.Call(call);
            string targetAfterRedis = Snapshot(onTarget);
            Reset(onTarget);
            string actual = both.Durable.Call(call);
            Assert.True(expected == actual, $"{string.Join(' ', call)}\nredis:   {expected}\ndurable: {actual}");
            Assert.Equal(targetAfterRedis, Snapshot(onTarget));
        }
    }

    [Fact]
    public async Task MigrateFromRedis_IntoDurable_CollectionsOfEveryType()
    {
        await using TestServer durable = await TestServer.StartAsync();
        await using RedisReference redis = await RedisReference.StartAsync();
        using RespTestClient source = redis.Connect();
        using RespTestClient destination = durable.Connect();
        for (int i = 0; i < 700; i++)
        {
            source.Call("HSET", "hash", "f" + i, "v" + i);
            source.Call("SADD", "set", "m" + i);
            source.Call("ZADD", "zset", i.ToString(CultureInfo.InvariantCulture), "m" + i);
            source.Call("RPUSH", "list", "e" + i);
        }

        source.Call("SET", "string", "value", "EX", "1000");
        Assert.Equal("+OK\r\n", source.Call("MIGRATE", "127.0.0.1", durable.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", "hash", "set", "zset", "list", "string"));
        Assert.Equal(":0\r\n", source.Call("DBSIZE"));
        Assert.Equal(":700\r\n", destination.Call("HLEN", "hash"));
        Assert.Equal(":700\r\n", destination.Call("SCARD", "set"));
        Assert.Equal(":700\r\n", destination.Call("ZCARD", "zset"));
        Assert.Equal(":700\r\n", destination.Call("LLEN", "list"));
        Assert.Equal("$4\r\nv699\r\n", destination.Call("HGET", "hash", "f699"));
        Assert.Equal("$4\r\ne350\r\n", destination.Call("LINDEX", "list", "350"));
        Assert.Equal("$3\r\n699\r\n", destination.Call("ZSCORE", "zset", "m699"));
        Assert.InRange(long.Parse(destination.Call("TTL", "string")[1..].TrimEnd(), CultureInfo.InvariantCulture), 990, 1000);

        // And back: Durable's keys into Redis.
        Assert.Equal("+OK\r\n", destination.Call("MIGRATE", "127.0.0.1", redis.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", "hash", "set", "zset", "list", "string"));
        Assert.Equal(":0\r\n", destination.Call("DBSIZE"));
        Assert.Equal(":700\r\n", source.Call("HLEN", "hash"));
        Assert.Equal(":700\r\n", source.Call("ZCARD", "zset"));
    }

    private static void Reset(RespTestClient target)
    {
        target.Call("FLUSHALL");
        target.Call("SET", "k3", "there");
    }

    private static readonly string[] s_keys = ["k1", "k2", "k3", "list"];

    // The target's keys as DUMP gives them, and their expiry (a migrated key's TTL, less what passed, rounded to seconds).
    private static string Snapshot(RespTestClient target) =>
        string.Join("|", s_keys.Select(k => target.Call("DUMP", k) + (long.Parse(target.Call("PTTL", k)[1..].TrimEnd(), CultureInfo.InvariantCulture) / 10_000)));
}
