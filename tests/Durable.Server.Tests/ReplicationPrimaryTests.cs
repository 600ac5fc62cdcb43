using System.Globalization;
using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Durable as a primary: a redis-server replica and a Durable replica each end up holding what Durable holds, after the
/// full sync and after a stream of writes of every kind; the stream is the one redis-server sends for the same
/// commands (compared with a fake replica on both); a broken link resumes from the backlog; WAIT counts replicas.
/// </summary>
public sealed partial class ReplicationPrimaryTests
{
    [Fact]
    public async Task RedisReplica_FullSyncThenStream_HoldsWhatDurableHolds()
    {
        await using TestServer durable = await TestServer.StartAsync();
        await using RedisReference redisReplica = await RedisReference.StartAsync(null, "--repl-diskless-sync", "no");
        using RespTestClient source = durable.Connect();
        using RespTestClient replica = redisReplica.Connect();
        await FollowAsync(source, durable.Port, replica, redisReplica.Port);

        using RespTestClient blocked = durable.Connect();
        blocked.Send("BLPOP", "waited-for", "0");
        WriteEveryKind(source);
        source.Call("RPUSH", "waited-for", "a", "b");
        Assert.Equal("*2\r\n$10\r\nwaited-for\r\n$1\r\na\r\n", blocked.ReadReply());
        await ReplicationTests.WaitForOffsetAsync(source, replica);
        Assert.Equal(await DataSets.SnapshotAsync(durable.Port), await DataSets.SnapshotAsync(redisReplica.Port));
        Assert.Equal("$1\r\nb\r\n", replica.Call("LINDEX", "waited-for", "0"));

        // Durable's INFO, ROLE and WAIT see the replica as Redis's do; it has acknowledged everything.
        string info = source.Call("INFO", "replication");
        Assert.Contains("connected_slaves:1\r\n", info, StringComparison.Ordinal);
        Assert.Matches(@"slave0:ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+\r\n", info);
        Assert.StartsWith("*3\r\n$6\r\nmaster\r\n:", source.Call("ROLE"), StringComparison.Ordinal);
        Assert.Equal(":1\r\n", source.Call("WAIT", "1", "5000"));
        Assert.Contains("sync_full:1\r\n", source.Call("INFO", "stats"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DurableReplica_LinkBroken_ResumesFromTheBacklog()
    {
        await using TestServer primary = await TestServer.StartAsync();
        await using TestServer secondary = await TestServer.StartAsync();
        using RespTestClient source = primary.Connect();
        using RespTestClient replica = secondary.Connect();
        await FollowAsync(source, primary.Port, replica, secondary.Port);

        Assert.Equal(":1\r\n", source.Call("CLIENT", "KILL", "TYPE", "replica"));
        WriteEveryKind(source);
        await ReplicationTests.WaitForOffsetAsync(source, replica);
        Assert.Equal(await DataSets.SnapshotAsync(primary.Port), await DataSets.SnapshotAsync(secondary.Port));
        ReplicationTests.AssertResumedOnce(source, replica);
    }

    // Fills the primary with keys of every type, makes the replica follow it and waits until it holds the same.
    private static async Task FollowAsync(RespTestClient source, int primaryPort, RespTestClient replica, int replicaPort)
    {
        DataSets.PopulateEveryType(source);
        Assert.Equal("+OK\r\n", replica.Call("REPLICAOF", "127.0.0.1", primaryPort.ToString(CultureInfo.InvariantCulture)));
        await ReplicationTests.WaitForOffsetAsync(source, replica);
        Assert.Equal(await DataSets.SnapshotAsync(primaryPort), await DataSets.SnapshotAsync(replicaPort));
    }

    /// <summary>
    /// A replica whose offset the backlog (repl-backlog-size, here its least, 16 KiB) no longer holds gets a full sync
    /// instead of a partial one, and still ends up holding what the primary holds.
    /// </summary>
    [Fact]
    public async Task DurableReplica_PastTheBacklog_SyncsInFull()
    {
        await using TestServer primary = await TestServer.StartAsync(config => config.ReplBacklogSize = 1);
        await using TestServer secondary = await TestServer.StartAsync();
        using RespTestClient source = primary.Connect();
        using RespTestClient replica = secondary.Connect();
        await FollowAsync(source, primary.Port, replica, secondary.Port);
        Assert.Equal(16 << 10, source.InfoNumber("replication", "repl_backlog_size"));

        // Killed, and 32 KiB written before the link (retried every second) is back: more than the backlog holds.
        Assert.Equal(":1\r\n", source.Call("CLIENT", "KILL", "TYPE", "replica"));
        Assert.Equal("+OK\r\n", source.Call("SET", "large", new string('v', 32 << 10)));
        await ReplicationTests.WaitForOffsetAsync(source, replica);
        Assert.Equal(16 << 10, source.InfoNumber("replication", "repl_backlog_histlen"));
        Assert.Equal(await DataSets.SnapshotAsync(primary.Port), await DataSets.SnapshotAsync(secondary.Port));
        string stats = source.Call("INFO", "stats");
        Assert.Contains("sync_full:2\r\n", stats, StringComparison.Ordinal);
        Assert.Contains("sync_partial_ok:0\r\n", stats, StringComparison.Ordinal);
        Assert.Contains("sync_partial_err:1\r\n", stats, StringComparison.Ordinal);
    }

    /// <summary>
    /// A full sync of a data set mostly on disk (a 2 MiB budget: log pages of 64 KiB, the least a part of the log may
    /// start at): the log's parts are walked at once, and the replica (redis-server, which checks the whole file) gets
    /// every key once, in both databases.
    /// </summary>
    [Fact]
    public async Task RedisReplica_OfADataSetOnDisk_GetsEveryKey()
    {
        await using TestServer durable = await TestServer.StartAsync(config => config.MemoryBytes = 2L << 20);
        await using RedisReference redisReplica = await RedisReference.StartAsync(null, "--repl-diskless-sync", "no");
        using RespTestClient source = durable.Connect();
        using RespTestClient replica = redisReplica.Connect();
        foreach (string db in new[] { "0", "2" })
        {
            source.Call("SELECT", db);
            for (int i = 0; i < 8_000; i++)
            {
                source.Send("SET", $"key:{db}:{i}", new string('x', 300) + i.ToString(CultureInfo.InvariantCulture));
            }

            for (int i = 0; i < 8_000; i++)
            {
                Assert.Equal("+OK\r\n", source.ReadReply());
            }
        }

        source.Call("SELECT", "0");
        Durable.Storage.StoreStatistics loaded = durable.State.Store.GetStatistics();
        Assert.True(loaded.LogHeadAddress - loaded.LogBeginAddress > (loaded.LogTailAddress - loaded.LogBeginAddress) / 2, "most keys are on disk only");
        Assert.Equal("+OK\r\n", replica.Call("REPLICAOF", "127.0.0.1", durable.Port.ToString(CultureInfo.InvariantCulture)));
        await ReplicationTests.WaitForOffsetAsync(source, replica);
        foreach (string db in new[] { "0", "2" })
        {
            // Every key once (a key twice would fail the load, one missing the count), and a sample's values.
            replica.Call("SELECT", db);
            Assert.Equal(":8000\r\n", replica.Call("DBSIZE"));
            for (int i = 0; i < 8_000; i += 97)
            {
                Assert.Equal(new string('x', 300) + i.ToString(CultureInfo.InvariantCulture), replica.Call("GET", $"key:{db}:{i}").Split("\r\n")[1]);
            }
        }
    }

    /// <summary>A replica of a Durable replica: the middle one sends on, under its own stream, what it applies.</summary>
    [Fact]
    public async Task ReplicaOfAReplica_HoldsWhatThePrimaryHolds()
    {
        await using TestServer primary = await TestServer.StartAsync();
        await using TestServer middle = await TestServer.StartAsync();
        await using RedisReference last = await RedisReference.StartAsync(null, "--repl-diskless-sync", "no");
        using RespTestClient source = primary.Connect();
        using RespTestClient relay = middle.Connect();
        using RespTestClient end = last.Connect();
        await FollowAsync(source, primary.Port, relay, middle.Port);
        Assert.Equal("+OK\r\n", end.Call("REPLICAOF", "127.0.0.1", middle.Port.ToString(CultureInfo.InvariantCulture)));
        WriteEveryKind(source);
        await ReplicationTests.WaitForOffsetAsync(source, relay);
        string expected = await DataSets.SnapshotAsync(primary.Port);
        string actual = "";
        for (int attempt = 0; attempt < 200 && actual != expected; attempt++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            actual = await DataSets.SnapshotAsync(last.Port);
        }

        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The commands a replica gets for writes that do not replay as they were sent (relative times, random or blocking
    /// pops, float sums, scripts, transactions, GET options) are redis-server's, command for command; only the times
    /// they fall on differ (two servers, two clocks), and are compared as 13 digits.
    /// </summary>
    [Fact]
    public async Task Stream_IsRedisServersForTheSameCommands()
    {
        await using TestServer durable = await TestServer.StartAsync();
        await using RedisReference redis = await RedisReference.StartAsync(null, "--repl-diskless-sync", "no");
        Assert.Equal(StreamOf(redis.Port), StreamOf(durable.Port));
    }

    [Fact]
    public async Task Wait_CountsReplicasThatAcknowledged_AndTimesOutWithoutThem()
    {
        await using TestServer durable = await TestServer.StartAsync();
        using RespTestClient source = durable.Connect();
        Assert.Equal(":0\r\n", source.Call("WAIT", "0", "0"));
        DateTime started = DateTime.UtcNow;
        Assert.Equal(":0\r\n", source.Call("WAIT", "1", "200"));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(150));

        // A fake replica that never acknowledges: WAIT gives up at its timeout with 0.
        using RespTestClient fake = durable.Connect();
        AttachFakeReplica(fake, source);
        Assert.Equal(":0\r\n", source.Call("WAIT", "1", "200"));

        // Once it acknowledges the offset, it counts.
        long offset = source.InfoNumber("replication", "master_repl_offset");
        fake.Send("REPLCONF", "ACK", offset.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(":1\r\n", source.Call("WAIT", "1", "5000"));
        Assert.Contains(",state=online,offset=" + offset, source.Call("INFO", "replication"), StringComparison.Ordinal);
    }

    /// <summary>
    /// SHUTDOWN with a replica that has not acknowledged everything waits for it (asking with REPLCONF GETACK, writes
    /// held), up to shutdown-timeout; SHUTDOWN ABORT ends the wait with Redis's error; an acknowledgement lets it stop.
    /// </summary>
    [Fact]
    public async Task Shutdown_WaitsForALaggingReplica_UntilItAcknowledgesOrAnAbort()
    {
        await using TestServer durable = await TestServer.StartAsync();
        using RespTestClient source = durable.Connect();
        using RespTestClient fake = durable.Connect();
        using RespTestClient other = durable.Connect();
        AttachFakeReplica(fake, source);

        source.Send("SHUTDOWN", "NOSAVE");
        ReadUntil(fake, "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
        Assert.Equal("$1\r\nv\r\n", other.Call("GET", "k"));
        Assert.Equal("+OK\r\n", other.Call("SHUTDOWN", "ABORT"));
        Assert.Equal("-ERR Errors trying to SHUTDOWN. Check logs.\r\n", source.ReadReply());
        Assert.Equal("-ERR No shutdown in progress.\r\n", other.Call("SHUTDOWN", "ABORT"));
        Assert.False(durable.State.ShuttingDown);

        // Again; this time the replica acknowledges what the primary sent, and the server stops.
        Assert.Equal("+OK\r\n", source.Call("SET", "k", "w"));
        source.Send("SHUTDOWN", "NOSAVE");
        ReadUntil(fake, "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
        fake.Send("REPLCONF", "ACK", other.InfoNumber("replication", "master_repl_offset").ToString(CultureInfo.InvariantCulture));
        Assert.True(source.IsClosedByServer());
        Assert.True(durable.State.ShuttingDown);
    }

    /// <summary>A SIGTERM, as SHUTDOWN, lets a lagging replica acknowledge everything before the server stops.</summary>
    [Fact]
    public async Task Sigterm_WaitsForALaggingReplica()
    {
        string directory = Path.Combine(Path.GetTempPath(), "durable-tests", "sigterm-" + Guid.NewGuid().ToString("N"));
        await using ServerProcess primary = await ServerProcess.StartAsync(directory);
        using RespTestClient fake = primary.Connect();
        using RespTestClient other = primary.Connect();
        AttachFakeReplica(fake, other);

        Task stopped = primary.StopAsync();
        ReadUntil(fake, "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
        Assert.False(stopped.IsCompleted);
        fake.Send("REPLCONF", "ACK", other.InfoNumber("replication", "master_repl_offset").ToString(CultureInfo.InvariantCulture));
        await stopped;
        Assert.DoesNotContain("behind; shutting down all the same", primary.Output, StringComparison.Ordinal);
    }

    // A replica that is only a socket: PSYNC, its snapshot read and dropped, then a write (SET k v) it gets in its stream.
    private static void AttachFakeReplica(RespTestClient fake, RespTestClient writer)
    {
        fake.Send("PSYNC", "?", "-1");
        Assert.StartsWith("+FULLRESYNC ", fake.ReadReply(), StringComparison.Ordinal);
        fake.ReadSyncPayload();
        Assert.Equal("+OK\r\n", writer.Call("SET", "k", "v"));
    }

    private static void ReadUntil(RespTestClient client, string command)
    {
        while (client.ReadReply() != command)
        {
        }
    }

    // Writes of every kind, several of which reach replicas as other commands than their own.
    private static void WriteEveryKind(RespTestClient source)
    {
        foreach (string[] call in s_rewrittenWrites)
        {
            source.Call(call);
        }
    }

    private static readonly string[][] s_rewrittenWrites =
    [
        ["SET", "s1", "v"], ["SET", "s2", "v", "EX", "100000"], ["SETEX", "s3", "100000", "v"], ["PSETEX", "s4", "100000000", "v"],
        ["SET", "s1", "w", "GET"], ["GETSET", "s1", "x"], ["GETDEL", "s1"], ["INCRBYFLOAT", "f", "1.5"], ["INCRBYFLOAT", "f", "0.1"],
        ["HSET", "h", "a", "1"], ["HINCRBYFLOAT", "h", "a", "2.5"], ["EXPIRE", "h", "100000"], ["PEXPIRE", "h", "200000000", "GT"],
        ["GETEX", "s2", "PERSIST"], ["GETEX", "s3", "EX", "90000"], ["GETEX", "s4", "PXAT", "1"],
        ["SADD", "set", "a", "b", "c"], ["SPOP", "set", "5"], ["SADD", "one", "x"], ["SPOP", "one"],
        ["RPUSH", "l", "a", "b", "c", "d", "e"], ["LMPOP", "1", "l", "LEFT", "COUNT", "2"], ["BLPOP", "l", "0"], ["BLMOVE", "l", "l2", "RIGHT", "LEFT", "0"],
        ["BRPOPLPUSH", "l", "l2", "0"], ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], ["ZMPOP", "1", "z", "MIN", "COUNT", "2"], ["BZPOPMAX", "z", "0"],
        ["BZMPOP", "0", "1", "z", "MAX"], ["XADD", "x", "1-1", "f", "v"], ["XADD", "x", "MAXLEN", "=", "1", "2-1", "f", "v"], ["XADD", "x", "3-*", "f", "v"],
        ["EVAL", "redis.call('set', 'e1', '1'); redis.call('incr', 'e1'); return 1", "0"], ["EVAL", "return redis.call('get', 'e1')", "0"],
        ["MULTI"], ["SET", "m1", "1"], ["INCR", "m1"], ["EXEC"], ["MULTI"], ["SET", "m2", "1"], ["GET", "m2"], ["EXEC"],
        ["SELECT", "2"], ["SET", "d2", "v"], ["SELECT", "3"], ["SET", "d3", "v"], ["FLUSHDB"], ["SELECT", "0"], ["DEL", "missing"],
        ["RESTORE", "r", "100000", "\u0000\u0001v\n\u0000\u0091\b\u00ce\u00b2\u00198\u008a\u00ce"], ["PUBLISH", "channel", "message"], ["FLUSHDB", "ASYNC"],
    ];

    // Consumer-group reads and claims, which replicas get as XCLAIMs with delivery times, XGROUP SETID and CREATECONSUMER
    // (compared as a stream only: a replica's consumers are seen at its own times, which XINFO shows).
    private static readonly string[][] s_groupWrites =
    [
        ["XGROUP", "CREATE", "x", "g", "0"], ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "x", ">"],
        ["XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "x", ">"], ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "x", "0"],
        ["XCLAIM", "x", "g", "c3", "0", "2-1"], ["XCLAIM", "x", "g", "c3", "0", "2-1", "LASTID", "5-0"], ["XAUTOCLAIM", "x", "g", "c4", "0", "0-0"],
        ["XADD", "x", "6-0", "f", "v"], ["XREADGROUP", "GROUP", "g", "c5", "STREAMS", "x", ">"], ["XDEL", "x", "6-0"],
        ["XCLAIM", "x", "g", "c6", "0", "6-0"], ["XACK", "x", "g", "2-1"],
    ];

    // As a replica sees it: PSYNC, the snapshot, then the stream of the writes above, read up to a marker write. The
    // stream's PINGs (one every 10 s) are left out; the times PXAT, PEXPIREAT and RESTORE ... ABSTTL fall on read as 13 digits.
    private static string StreamOf(int port)
    {
        using RespTestClient fake = RespTestClient.Connect(port);
        using RespTestClient source = RespTestClient.Connect(port);
        source.Call("SET", "before", "sync");
        Assert.Equal("+OK\r\n", fake.Call("REPLCONF", "listening-port", "1"));
        fake.Send("PSYNC", "?", "-1");
        Assert.Matches("^\\+FULLRESYNC [0-9a-f]{40} \\d+\r\n$", fake.ReadReply());
        Assert.NotEmpty(fake.ReadSyncPayload());
        WriteEveryKind(source);
        foreach (string[] call in s_groupWrites)
        {
            source.Call(call);
        }

        source.Call("SET", "marker", "end");
        List<string> stream = [];
        while (stream.Count == 0 || stream[^1] != "*3\r\n$3\r\nSET\r\n$6\r\nmarker\r\n$3\r\nend\r\n")
        {
            string command = fake.ReadReply();
            if (command != "*1\r\n$4\r\nPING\r\n")
            {
                stream.Add(Timestamp().Replace(command, "$13\r\n<time>"));
            }
        }

        return string.Join("", stream);
    }

    [GeneratedRegex(@"\$13\r\n\d{13}")]
    private static partial Regex Timestamp();
}
