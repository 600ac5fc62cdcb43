using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed partial class InfoCommandTests(ReferenceServers servers)
{
    [Theory]
    [InlineData]
    [InlineData("default")]
    [InlineData("all")]
    [InlineData("everything")]
    [InlineData("server", "clients")]
    [InlineData("CLIENTS", "server", "Clients")]
    [InlineData("commandstats", "keyspace", "replication")]
    [InlineData("nosuch")]
    [InlineData("cpu", "nosuch", "cluster")]
    public void Info_Sections_SameHeadersInRedisOrder(params string[] sections)
    {
        using ReplyComparison both = servers.Compare();
        string[] command = ["INFO", .. sections];
        Assert.Equal(Headers(both.Redis.Call(command)), Headers(both.Durable.Call(command)));
    }

    [Fact]
    public void Info_Layout_IsRedisLayout()
    {
        using RespTestClient client = servers.Durable.Connect();
        string reply = client.Call("INFO", "everything");
        string text = reply[(reply.IndexOf("\r\n", StringComparison.Ordinal) + 2)..^2];
        Assert.DoesNotMatch("[^\r]\n", text);
        Assert.StartsWith("# Server\r\nredis_version:7.0.15\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        foreach (string line in text.Split("\r\n").Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            Assert.Matches(@"^[a-zA-Z0-9_|\-]+:", line);
        }

        foreach (string block in text.Split("\r\n\r\n"))
        {
            Assert.StartsWith("# ", block, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Info_FieldsRedisClientsRead_ArePresent()
    {
        using RespTestClient client = servers.Durable.Connect();
        client.Call("INFO", "server");
        string info = client.Call("INFO", "all");
        foreach (string field in new[]
        {
            "redis_version:7.0.15", "redis_mode:standalone", "process_id:", "run_id:", "tcp_port:", "uptime_in_seconds:",
            "connected_clients:", "maxclients:10000", "used_memory:", "used_memory_human:", "used_memory_rss:", "used_memory_peak:",
            "maxmemory:0", "maxmemory_policy:noeviction", "loading:0", "rdb_last_save_time:", "rdb_last_bgsave_status:ok",
            "aof_enabled:1", "total_connections_received:", "total_commands_processed:", "keyspace_hits:", "keyspace_misses:",
            "expired_keys:", "rejected_connections:", "total_error_replies:", "role:master", "connected_slaves:0",
            "used_cpu_sys:", "used_cpu_user:", "cluster_enabled:0",
        })
        {
            Assert.Contains("\r\n" + field, info, StringComparison.Ordinal);
        }

        string fields = string.Join('\n', info.Split("\r\n"));
        Assert.Matches(@"\nused_memory_human:\d+(\.\d\d[KMGTP]|B)\n", fields);
        Assert.Matches(@"\ncmdstat_info:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+\n", fields);
    }

    [Fact]
    public void Info_Memory_PartsOfTheBudgetWithinIt()
    {
        using RespTestClient client = servers.Durable.Connect();
        Dictionary<string, long> memory = client.Call("INFO", "memory").Split("\r\n")
            .Select(l => l.Split(':'))
            .Where(p => p.Length == 2 && long.TryParse(p[1], out _))
            .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        long budget = memory["durable_memory_budget"];
        long parts = memory["durable_log_memory_limit_bytes"] + memory["durable_index_bytes"] + memory["durable_index_overflow_bytes"]
            + memory["durable_wal_buffer_bytes"] + memory["durable_cold_read_table_bytes"];
        Assert.InRange(parts, budget / 2, budget);
        Assert.InRange(memory["durable_log_memory_bytes"] + memory["durable_heap_other_bytes"], 1, memory["used_memory"]);
    }

    [Fact]
    public void Info_Memory_GarbageCollectionPausesAndAllocations()
    {
        using RespTestClient client = servers.Durable.Connect();
        long full = client.InfoNumber("memory", "durable_gc_full_collections");
        long paused = client.InfoNumber("memory", "durable_gc_pause_total_us");
        long allocated = client.InfoNumber("memory", "durable_gc_allocated_bytes");
        byte[] garbage = new byte[1 << 20];
        GC.KeepAlive(garbage);
        Assert.True(client.InfoNumber("memory", "durable_gc_allocated_bytes") >= allocated + garbage.Length, "allocations are counted");
        // The server runs in this process: a blocking full collection here is one of the server's.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.True(client.InfoNumber("memory", "durable_gc_full_collections") > full, "the full collection is counted");
        Assert.True(client.InfoNumber("memory", "durable_gc_pause_total_us") > paused, "its pause is added to the total");
        Assert.InRange(client.InfoNumber("memory", "durable_gc_last_full_pause_us"), 1, client.InfoNumber("memory", "durable_gc_pause_total_us"));
    }

    [Fact]
    public void Info_Resp3_IsVerbatimText()
    {
        using RespTestClient client = servers.Durable.Connect();
        client.Call("HELLO", "3");
        Assert.StartsWith("=", client.Call("INFO", "server"), StringComparison.Ordinal);
        Assert.Matches(@"^=\d+\r\ntxt:# Server\r\n", client.Call("INFO", "server"));
    }

    [Fact]
    public async Task InfoKeyspace_CountsKeysPerDatabase()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        Assert.Equal("$12\r\n# Keyspace\r\n\r\n", client.Call("INFO", "keyspace"));
        client.Call("SET", "a", "1");
        client.Call("SET", "b", "2");
        client.Call("SELECT", "3");
        client.Call("SET", "c", "3");
        Assert.Equal("# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n", Body(client.Call("INFO", "keyspace")));
    }

    private static string Body(string bulk) => bulk[(bulk.IndexOf("\r\n", StringComparison.Ordinal) + 2)..^2];

    private static string[] Headers(string reply) => [.. Header().Matches(reply).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"# (\w+)\r\n")]
    private static partial Regex Header();
}
