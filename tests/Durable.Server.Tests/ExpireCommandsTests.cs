using System.Globalization;
using Durable.Storage;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class ExpireCommandsTests(ReferenceServers servers)
{
    // 2100-01-01T00:00:00.123Z: far enough ahead that absolute expiries compare byte for byte.
    private const string FutureMs = "4102444800123";
    private const string FutureSeconds = "4102444800";

    [Fact]
    public void ExpireAndTtl_RelativeSeconds_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("EXPIRE", p + "none", "100");
        both.Same("TTL", p + "none");
        both.Same("PTTL", p + "none");
        both.Same("EXPIRETIME", p + "none");
        both.Same("PEXPIRETIME", p + "none");
        both.Same("SET", p + "k", "v");
        both.Same("TTL", p + "k");
        both.Same("PTTL", p + "k");
        both.Same("EXPIRETIME", p + "k");
        both.Same("PEXPIRETIME", p + "k");
        both.Same("EXPIRE", p + "k", "100");
        both.Same("TTL", p + "k");
        both.Same("PEXPIRE", p + "k", "200000");
        both.Same("TTL", p + "k");
    }

    [Fact]
    public void Pttl_AfterPExpire_IsWithinRequestedTime()
    {
        using RespTestClient client = servers.Durable.Connect();
        string key = servers.NewPrefix() + "k";
        client.Call("SET", key, "v");
        client.Call("PEXPIRE", key, "50000");

        long pttl = long.Parse(client.Call("PTTL", key).AsSpan(1).TrimEnd("\r\n"), CultureInfo.InvariantCulture);

        Assert.InRange(pttl, 40_000, 50_000);
    }

    [Fact]
    public void ExpireAt_Absolute_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "k", "v");
        both.Same("PEXPIREAT", p + "k", FutureMs);
        both.Same("PEXPIRETIME", p + "k");
        both.Same("EXPIRETIME", p + "k");
        both.Same("EXPIREAT", p + "k", FutureSeconds);
        both.Same("PEXPIRETIME", p + "k");
        both.Same("PEXPIREAT", p + "k", "9223372036854775807");
        both.Same("PEXPIRETIME", p + "k");
        both.Same("EXPIRETIME", p + "k");
        both.Same("EXPIREAT", p + "k", "9223372036854775");
        both.Same("PEXPIRETIME", p + "k");
    }

    [Fact]
    public void Expire_TimeInPast_DeletesKey()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string[][] deletes = [["EXPIRE", "0"], ["EXPIRE", "-5"], ["PEXPIRE", "-1"], ["EXPIREAT", "1"], ["PEXPIREAT", "0"], ["EXPIREAT", "-9223372036854775"], ["PEXPIREAT", "-9223372036854775808"]];
        foreach (string[] command in deletes)
        {
            both.Same("SET", p + "k", "v");
            both.Same(command[0], p + "k", command[1]);
            both.Same("EXISTS", p + "k");
            both.Same("TTL", p + "k");
        }
    }

    [Fact]
    public void Expire_Conditions_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "k", "v");
        both.Same("PEXPIREAT", p + "k", "4102444800500", "XX");
        both.Same("PEXPIREAT", p + "k", "4102444800500", "GT");
        both.Same("PEXPIREAT", p + "k", "4102444800500", "LT");
        both.Same("PEXPIRETIME", p + "k");
        both.Same("PEXPIREAT", p + "k", "4102444800500", "NX");
        both.Same("PEXPIREAT", p + "k", "4102444800400", "nx");
        both.Same("PEXPIREAT", p + "k", "4102444800400", "xx");
        both.Same("PEXPIRETIME", p + "k");
        both.Same("PEXPIREAT", p + "k", "4102444800400", "GT");
        both.Same("PEXPIREAT", p + "k", "4102444800401", "GT");
        both.Same("PEXPIRETIME", p + "k");
        both.Same("PEXPIREAT", p + "k", "4102444800401", "LT");
        both.Same("PEXPIREAT", p + "k", "4102444800300", "lt");
        both.Same("PEXPIRETIME", p + "k");
        both.Same("PEXPIREAT", p + "k", "4102444800200", "XX", "LT");
        both.Same("PEXPIREAT", p + "k", "4102444800900", "GT", "XX", "gt");
        both.Same("PEXPIRETIME", p + "k");
        both.Same("EXPIRE", p + "k", "-1", "GT");
        both.Same("EXPIRE", p + "k", "-1", "LT");
        both.Same("EXISTS", p + "k");
        both.Same("EXPIRE", p + "none", "10", "XX");
    }

    [Fact]
    public void Expire_OptionAndNumberErrors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "k", "v");
        both.Same("EXPIRE", p + "k", "10", "foo");
        both.Same("EXPIRE", p + "k", "abc", "foo");
        both.Same("EXPIRE", p + "k", "10", "a\r\nb");
        both.Same("EXPIRE", p + "k", "10", "foo\r\n");
        both.Same("EXPIRE", p + "k", "10", "\n");
        both.Same("EXPIRE", p + "k", "10", "fo\0o");
        both.Same("EXPIRE", p + "k", "10", "NX", "XX");
        both.Same("EXPIRE", p + "k", "10", "NX", "GT");
        both.Same("EXPIRE", p + "k", "10", "LT", "NX");
        both.Same("EXPIRE", p + "k", "10", "GT", "LT");
        both.Same("EXPIRE", p + "k", "10", "GT", "LT", "NX");
        both.Same("EXPIRE", p + "k", "abc", "NX");
        both.Same("EXPIRE", p + "k", "1.5");
        both.Same("EXPIRE", p + "k", " 1");
        both.Same("EXPIRE", p + "none", "abc");
        both.Same("EXPIRE", p + "k", "9223372036854775807");
        both.Same("EXPIRE", p + "k", "9223372036854776");
        both.Same("EXPIRE", p + "k", "-9223372036854776");
        both.Same("PEXPIRE", p + "k", "9223372036854775807");
        both.Same("EXPIREAT", p + "k", "9223372036854776");
        both.Same("PEXPIREAT", p + "k", "9223372036854775808");
        both.Same("TTL", p + "k");
        both.Same("EXPIRE", p + "k");
        both.Same("PEXPIREAT");
        both.Same("TTL", p + "k", "x");
        both.Same("PERSIST");
    }

    [Fact]
    public void Persist_AllCases_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("PERSIST", p + "none");
        both.Same("SET", p + "k", "v");
        both.Same("PERSIST", p + "k");
        both.Same("EXPIRE", p + "k", "100");
        both.Same("PERSIST", p + "k");
        both.Same("TTL", p + "k");
        both.Same("PERSIST", p + "k");
        both.Same("GET", p + "k");
    }

    [Fact]
    public async Task PExpire_ShortTtl_KeyInvisibleOnceExpired()
    {
        using RespTestClient client = servers.Durable.Connect();
        string key = servers.NewPrefix() + "k";
        client.Call("SET", key, "v");
        DateTime sent = DateTime.UtcNow;
        Assert.Equal(":1\r\n", client.Call("PEXPIRE", key, "100"));
        // The server set the expiry between these two instants, so it lies in [sent + 100, replied + 100].
        DateTime latestExpiry = DateTime.UtcNow.AddMilliseconds(101);

        while (true)
        {
            DateTime asked = DateTime.UtcNow;
            if (client.Call("EXISTS", key) == ":0\r\n")
            {
                break;
            }

            Assert.True(asked < latestExpiry, "key still visible after its expiry time");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        Assert.True(DateTime.UtcNow - sent >= TimeSpan.FromMilliseconds(99), "key vanished before its expiry time");
        Assert.Equal("$-1\r\n", client.Call("GET", key));
        Assert.Equal(":-2\r\n", client.Call("TTL", key));
        Assert.Equal(":0\r\n", client.Call("PERSIST", key));
        Assert.Equal(":0\r\n", client.Call("EXPIRE", key, "100"));
    }

    [Fact]
    public async Task ExpiredKeysReadByACommand_NoLongerCounted_AsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("HSET", "hash", "f", "v");
        both.Same("PEXPIRE", "hash", "30");
        await SetExpiringKeysAsync(both, 100);
        // Redis deletes an expired key that a command touches: DBSIZE drops at once, whatever its expiry cycle has done.
        for (int i = 0; i < 100; i++)
        {
            both.Same(i % 2 == 0 ? "GET" : "EXISTS", "k" + i.ToString(CultureInfo.InvariantCulture));
        }

        both.Same("HGET", "hash", "f");
        both.Same("DBSIZE");
        both.Same("GET", "kept");
    }

    [Fact]
    public async Task ExpiredKeysMetByScan_NoLongerCounted_AsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        await SetExpiringKeysAsync(both, 20);
        // Cursors and batches differ (README): each server's scan runs to its end, then both count the same keys.
        foreach (RespTestClient client in new[] { both.Redis, both.Durable })
        {
            string cursor = "0";
            do
            {
                string reply = client.Call("SCAN", cursor, "COUNT", "1000");
                cursor = reply.Split("\r\n")[2];
            }
            while (cursor != "0");
        }

        both.Same("DBSIZE");
    }

    // Keys k0 .. k(count - 1) that expire 30 ms from now and "kept" without a TTL, on both servers; returns once they have expired.
    private static async Task SetExpiringKeysAsync(ReplyComparison both, int count)
    {
        for (int i = 0; i < count; i++)
        {
            both.Same("SET", "k" + i.ToString(CultureInfo.InvariantCulture), "v", "PX", "30");
        }

        both.Same("SET", "kept", "v");
        await Task.Delay(60, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ExpiryCycle_ShortTtls_DeletesKeysCountsThemAndDbSizeDropsToZero()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        long expiredBefore = server.State.Store.GetStatistics().ExpiredKeys;
        for (int i = 0; i < 200; i++)
        {
            string key = "k" + i.ToString(CultureInfo.InvariantCulture);
            client.Call("SET", key, "v");
            client.Call("PEXPIRE", key, "50");
        }

        client.Call("SET", "kept", "v");

        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (client.Call("DBSIZE") != ":1\r\n")
        {
            Assert.True(DateTime.UtcNow < deadline, "expired keys were not deleted in the background: DBSIZE " + client.Call("DBSIZE"));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(200, server.State.Store.GetStatistics().ExpiredKeys - expiredBefore);
        Assert.Equal(0, server.State.Store.ExpiringKeyCount(0));
        Assert.Equal("$1\r\nv\r\n", client.Call("GET", "kept"));
    }

    [Fact]
    public async Task ExpiryCycle_ExpiredKeysEvictedToDisk_AreDeletedAndCounted()
    {
        await using TestServer server = await TestServer.StartAsync(config => config.MemoryBytes = 1L << 20);
        using RespTestClient client = server.Connect();
        for (int i = 0; i < 100; i++)
        {
            string key = "cold" + i.ToString(CultureInfo.InvariantCulture);
            client.Call("SET", key, "v");
            client.Call("PEXPIRE", key, "1500");
        }

        string filler = new('f', 1000);
        for (int i = 0; i < 3000; i++)
        {
            client.Call("SET", "filler" + i.ToString(CultureInfo.InvariantCulture), filler);
        }

        StoreStatistics statistics = server.State.Store.GetStatistics();
        Assert.True(statistics.LogHeadAddress > statistics.LogBeginAddress, "the expiring keys were evicted to disk");

        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (client.Call("DBSIZE") != ":3000\r\n")
        {
            Assert.True(DateTime.UtcNow < deadline, "expired keys on disk were not deleted: DBSIZE " + client.Call("DBSIZE"));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(100, server.State.Store.GetStatistics().ExpiredKeys);
        Assert.Equal(":0\r\n", client.Call("EXISTS", "cold0", "cold99"));
    }

    [Fact]
    public void ExpireCommands_Arity_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        foreach (string command in new[] { "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT" })
        {
            both.Same(command, "k");
        }

        foreach (string command in new[] { "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST" })
        {
            both.Same(command);
            both.Same(command, "k", "k");
        }
    }
}
