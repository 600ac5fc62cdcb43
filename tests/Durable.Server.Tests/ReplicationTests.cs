using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Durable as a replica of a redis-server primary: the full sync and the command stream leave it holding what the
/// primary holds; it answers REPLICAOF, ROLE and writes from clients as a Redis replica does (compared with a
/// redis-server replica of the same primary); a broken link resyncs partially; and what the primary's WAIT counted as
/// acknowledged survives a SIGKILL of the replica.
/// </summary>
public sealed class ReplicationTests
{
    [Fact]
    public async Task Replica_FullSyncThenCommandStream_HoldsWhatThePrimaryHolds()
    {
        await using RedisReference primary = await RedisReference.StartAsync();
        await using RedisReference redisReplica = await RedisReference.StartAsync();
        await using TestServer durable = await TestServer.StartAsync();
        using RespTestClient source = primary.Connect();
        DataSets.PopulateEveryType(source);
        string port = primary.Port.ToString(CultureInfo.InvariantCulture);
        using RespTestClient replica = durable.Connect();
        using RespTestClient reference = redisReplica.Connect();
        foreach (string[] call in new[] { new[] { "REPLICAOF", "127.0.0.1", port }, ["REPLICAOF", "127.0.0.1", port], ["REPLICAOF", "127.0.0.1", "x"], ["SLAVEOF", "127.0.0.1", "70000"] })
        {
            Assert.Equal(reference.Call(call), replica.Call(call));
        }

        await WaitForOffsetAsync(source, reference);
        await WaitForOffsetAsync(source, replica);
        string[][] refused =
        [
            ["SET", "k", "v"], ["DEL", "string"], ["MULTI"], ["INCR", "integer"], ["EXEC"], ["EVAL", "return redis.call('set', 'k', 'v')", "0"],
            ["EVAL", "#!lua\nreturn redis.call('get', 'string')", "0"], ["GET", "string"],
        ];
        foreach (string[] call in refused)
        {
            Assert.Equal(reference.Call(call), replica.Call(call));
        }

        Assert.Equal(reference.Call("ROLE")[..40], replica.Call("ROLE")[..40]);
        Assert.Contains("master_link_status:up", replica.Call("INFO", "replication"), StringComparison.Ordinal);

        // Everything is there, the stream with its consumer group included.
        Assert.Equal(await DataSets.SnapshotAsync(primary.Port), await DataSets.SnapshotAsync(durable.Port));

        // The stream of commands: writes of every kind, a transaction, a script's effects, other databases, a flush.
        source.Call("SET", "new", "1");
        source.Call("INCRBY", "integer", "10");
        source.Call("HSET", "large-hash", "field-0000", "changed", "new-field", "x");
        source.Call("DEL", "small-list");
        source.Call("EXPIRE", "string", "5000");
        source.Call("MULTI");
        source.Call("RPUSH", "long-list", "tail");
        source.Call("ZINCRBY", "large-zset", "3", "member-0001");
        source.Call("EXEC");
        source.Call("EVAL", "redis.call('sadd', KEYS[1], 'from-script'); return redis.call('srem', KEYS[1], 'member-0002')", "1", "large-set");
        source.Call("SELECT", "2");
        source.Call("SET", "in-database-2", "changed");
        source.Call("SELECT", "3");
        source.Call("SET", "gone", "soon");
        source.Call("FLUSHDB");
        source.Call("SELECT", "0");
        source.Call("FCALL", "one", "0");
        await WaitForOffsetAsync(source, replica);
        Assert.Equal(await DataSets.SnapshotAsync(primary.Port), await DataSets.SnapshotAsync(durable.Port));

        // A primary again: the data set stays, clients write.
        Assert.Equal("+OK\r\n", replica.Call("REPLICAOF", "NO", "ONE"));
        Assert.Equal("+OK\r\n", replica.Call("SET", "k", "v"));
        Assert.StartsWith("*3\r\n$6\r\nmaster\r\n", replica.Call("ROLE"), StringComparison.Ordinal);
        Assert.Equal("$7\r\nchanged\r\n", replica.Call("HGET", "large-hash", "field-0000"));
    }

    [Fact]
    public async Task Replica_LinkBroken_ResyncsPartiallyAndGoesOn()
    {
        await using RedisReference primary = await RedisReference.StartAsync();
        await using TestServer durable = await TestServer.StartAsync(config => config.RequirePass = "replica-password");
        using RespTestClient source = primary.Connect();
        using RespTestClient replica = durable.Connect();
        Assert.Equal("+OK\r\n", replica.Call("AUTH", "replica-password"));
        source.Call("SET", "before", "1");
        await FollowAsync(replica, primary, source);

        // The primary's link logs in as no user and may run anything (Redis's superuser), whatever the default user may.
        Assert.Equal("+OK\r\n", replica.Call("ACL", "SETUSER", "default", "-set"));
        Assert.Equal(":1\r\n", source.Call("CLIENT", "KILL", "TYPE", "replica"));
        source.Call("SET", "after", "2");
        await WaitForOffsetAsync(source, replica);
        Assert.Equal("$1\r\n2\r\n", replica.Call("GET", "after"));
        AssertResumedOnce(source, replica);
    }

    /// <summary>The primary made one full sync and one partial resync, and the (Durable) replica counts the partial one.</summary>
    internal static void AssertResumedOnce(RespTestClient primary, RespTestClient replica)
    {
        string stats = primary.Call("INFO", "stats");
        Assert.Contains("sync_full:1\r\n", stats, StringComparison.Ordinal);
        Assert.Contains("sync_partial_ok:1\r\n", stats, StringComparison.Ordinal);
        Assert.Contains("durable_partial_syncs:1", replica.Call("INFO", "replication"), StringComparison.Ordinal);
    }

    /// <summary>
    /// With appendfsync always, the replica acknowledges an offset only once its writes are committed: what the
    /// primary's WAIT counted survives a SIGKILL of the replica (started as one by its configuration).
    /// </summary>
    [Fact]
    public async Task Replica_WritesThePrimaryCountedAsAcknowledged_SurviveASigkill()
    {
        string directory = Path.Combine(Path.GetTempPath(), "durable-tests", "replica-" + Guid.NewGuid().ToString("N"));
        await using RedisReference primary = await RedisReference.StartAsync();
        using RespTestClient source = primary.Connect();
        await using (ServerProcess replica = await ServerProcess.StartAsync(directory, "--appendfsync", "always", "--replicaof", $"127.0.0.1 {primary.Port}"))
        {
            using RespTestClient client = replica.Connect();
            await WaitForOffsetAsync(source, client);
            for (int i = 0; i < 300; i++)
            {
                source.Call("SET", "key-" + i, "value-" + i);
                source.Call("HSET", "hash", "field-" + i, "value-" + i);
            }

            Assert.Equal(":1\r\n", source.Call("WAIT", "1", "10000"));
            await replica.KillAsync();
        }

        try
        {
            await using ServerProcess restarted = await ServerProcess.StartAsync(directory);
            using RespTestClient after = restarted.Connect();
            Assert.Equal(":301\r\n", after.Call("DBSIZE"));
            Assert.Equal("$9\r\nvalue-299\r\n", after.Call("GET", "key-299"));
            Assert.Equal(":300\r\n", after.Call("HLEN", "hash"));
            Assert.StartsWith("*3\r\n$6\r\nmaster\r\n", after.Call("ROLE"), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The link waits for a key a client's script holds: it must wait on a pool thread, not on one of the socket threads
    /// that serve clients' connections (this assembly runs its servers with inline socket completions, as
    /// durable-server does). Before the fix, two other tests' connections got no reply for 30 s in CI.
    /// </summary>
    [Fact]
    public async Task Replica_LinkWaitingForAKey_HoldsUpNoClient()
    {
        await using RedisReference primary = await RedisReference.StartAsync();
        await using TestServer durable = await TestServer.StartAsync();
        using RespTestClient source = primary.Connect();
        using RespTestClient replica = durable.Connect();
        source.Call("SET", "held", "0");
        await FollowAsync(replica, primary, source);

        // Connections that wait for their next request on the socket threads (a new connection's first request may be
        // read at once by the thread that accepted it).
        List<RespTestClient> clients = [.. Enumerable.Range(0, 8).Select(_ => durable.Connect())];
        foreach (RespTestClient client in clients)
        {
            Assert.Equal("+PONG\r\n", client.Call("PING"));
        }

        // A read-only script that holds "held" for 5 s; the primary's write of it then waits in the link.
        using RespTestClient scripter = durable.Connect();
        scripter.Send(
            "EVAL",
            "#!lua flags=no-writes\nlocal v = redis.call('get', KEYS[1]) local t = redis.call('time') " +
            "while true do local n = redis.call('time') if (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 5000000 then break end end return v",
            "1",
            "held");
        await Task.Delay(300, TestContext.Current.CancellationToken);
        source.Call("SET", "held", "1");
        await Task.Delay(300, TestContext.Current.CancellationToken);
        for (int i = 0; i < clients.Count; i++)
        {
            System.Diagnostics.Stopwatch took = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal("+PONG\r\n", clients[i].Call("PING"));
            Assert.True(took.ElapsedMilliseconds < 3000, $"connection {i} waited {took.ElapsedMilliseconds} ms for PING while the link waited for the script");
            clients[i].Dispose();
        }

        Assert.Equal("$1\r\n0\r\n", scripter.ReadReply());
        await WaitForOffsetAsync(source, replica);
        Assert.Equal("$1\r\n1\r\n", replica.Call("GET", "held"));
    }

    /// <summary>REPLICAOF the primary, then waits until the replica has its data set.</summary>
    private static async Task FollowAsync(RespTestClient replica, RedisReference primary, RespTestClient source)
    {
        Assert.Equal("+OK\r\n", replica.Call("REPLICAOF", "127.0.0.1", primary.Port.ToString(CultureInfo.InvariantCulture)));
        await WaitForOffsetAsync(source, replica);
    }

    /// <summary>Waits until the replica reports the link up and the primary's offset applied.</summary>
    internal static async Task WaitForOffsetAsync(RespTestClient primary, RespTestClient replica)
    {
        long offset = long.Parse(Field(primary.Call("INFO", "replication"), "master_repl_offset"), CultureInfo.InvariantCulture);
        string info = "";
        for (int attempt = 0; attempt < 300; attempt++)
        {
            info = replica.Call("INFO", "replication");
            if (Field(info, "master_link_status") == "up" && long.TryParse(Field(info, "slave_repl_offset"), CultureInfo.InvariantCulture, out long applied) && applied >= offset)
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"the replica did not reach the primary's offset {offset}:\n{info}");
    }

    internal static string Field(string info, string name)
    {
        foreach (string line in info.Split("\r\n"))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return line[(name.Length + 1)..];
            }
        }

        return "";
    }
}
