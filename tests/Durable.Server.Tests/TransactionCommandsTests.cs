using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>MULTI, EXEC, DISCARD, WATCH and UNWATCH against redis-server, byte for byte, and under concurrent writers.</summary>
public sealed class TransactionCommandsTests(ReferenceServers servers) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void QueueExecDiscardAndErrors_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        foreach (string[] command in new string[][]
        {
            ["EXEC"], ["DISCARD"], ["MULTI"], ["MULTI"], ["WATCH", p + "x"], ["UNWATCH"], ["SET", p + "a", "1"], ["EXEC"],
            ["GET", p + "a"],
            // A command refused while queuing (unknown, wrong arity, not allowed in a transaction) fails the EXEC.
            ["MULTI"], ["SET", p + "a", "2"], ["NOSUCH", "x"], ["GET"], ["EXEC"], ["GET", p + "a"],
            ["MULTI"], ["SAVE"], ["EXEC"],
            ["MULTI"], ["CLIENT", "NOSUCH"], ["EXEC"],
            // Errors while running are replies in the array; the other commands run.
            ["MULTI"], ["SET", p + "a", "1"], ["INCR", p + "a"], ["LPUSH", p + "a", "x"], ["GET", p + "a"], ["EXEC"],
            ["MULTI"], ["SET", p + "d", "1"], ["DISCARD"], ["GET", p + "d"],
            ["MULTI"], ["EXEC"],
            // Blocking commands answer as at a timeout, at once.
            ["MULTI"], ["BLPOP", p + "l", "0"], ["BLMOVE", p + "l", p + "m", "LEFT", "RIGHT", "0"], ["BZPOPMIN", p + "z", "0"],
            ["BLMPOP", "0", "1", p + "l", "LEFT"], ["BRPOPLPUSH", p + "l", p + "m", "0"], ["BZMPOP", "0", "1", p + "z", "MIN"], ["EXEC"],
            // SELECT inside the transaction applies to the commands after it, and stays.
            ["MULTI"], ["SELECT", "3"], ["SET", p + "k", "v"], ["EXEC"], ["GET", p + "k"], ["SELECT", "0"], ["GET", p + "k"],
            ["MULTI"], ["MONITOR"], ["EXEC"],
            ["MULTI"], ["RESET"], ["EXEC"],
        })
        {
            both.Same(command);
        }
    }

    [Fact]
    public void Watch_WritesByTheSameConnection_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        foreach (string[] command in new string[][]
        {
            ["SET", p + "w", "1"], ["WATCH", p + "w"], ["SET", p + "w", "2"], ["MULTI"], ["GET", p + "w"], ["EXEC"],
            ["WATCH", p + "w"], ["SET", p + "other", "2"], ["MULTI"], ["GET", p + "w"], ["EXEC"],
            // Writes that change nothing do not count, nor do keys a command only reads.
            ["WATCH", p + "w", p + "nokey"], ["SET", p + "w", "x", "NX"], ["DEL", p + "nokey"], ["MULTI"], ["GET", p + "w"], ["EXEC"],
            ["WATCH", p + "s1"], ["SADD", p + "s2", "a"], ["SINTERSTORE", p + "d", p + "s1", p + "s2"], ["MULTI"], ["EXEC"],
            ["WATCH", p + "nx"], ["SET", p + "nx", "1", "NX"], ["MULTI"], ["EXEC"],
            ["WATCH", p + "h"], ["HSET", p + "h", "f", "v"], ["MULTI"], ["EXEC"],
            ["WATCH", p + "w"], ["UNWATCH"], ["SET", p + "w", "9"], ["MULTI"], ["PING"], ["EXEC"],
            ["WATCH", p + "w"], ["MULTI"], ["SET", p + "w", "1"], ["EXEC"], ["MULTI"], ["SET", p + "w", "2"], ["EXEC"],
            // A watched key written in another database (MOVE, COPY ... DB) counts there.
            ["SET", p + "m", "1"], ["SELECT", "4"], ["WATCH", p + "m"], ["SELECT", "0"], ["MOVE", p + "m", "4"], ["MULTI"], ["EXEC"],
            ["SELECT", "5"], ["WATCH", p + "c"], ["SELECT", "0"], ["SET", p + "src", "1"], ["COPY", p + "src", p + "c", "DB", "5"], ["MULTI"], ["EXEC"],
            ["WATCH", p + "w"], ["MULTI"], ["WATCH", p + "w"], ["EXEC"],
            ["HELLO", "3"], ["WATCH", p + "w"], ["SET", p + "w", "3"], ["MULTI"], ["EXEC"], ["HELLO", "2"],
        })
        {
            if (command[0] == "HELLO")
            {
                // The reply names the connection's id, which differs between the servers.
                both.Durable.Call(command);
                both.Redis.Call(command);
                continue;
            }

            both.Same(command);
        }
    }

    [Fact]
    public async Task Watch_KeyExpiresBeforeExec_FailsExec_AsRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("SET", p + "e", "1", "PX", "100");
        both.Same("SET", p + "gone", "1", "PX", "1");
        await Task.Delay(50, TestContext.Current.CancellationToken);
        // A key already expired when watched does not fail the EXEC; one that expires after does.
        both.Same("WATCH", p + "e", p + "gone");
        await Task.Delay(200, TestContext.Current.CancellationToken);
        both.Same("MULTI");
        both.Same("EXEC");
        both.Same("WATCH", p + "gone");
        both.Same("MULTI");
        both.Same("EXEC");
    }

    [Fact]
    public void Watch_WriteFromAnotherConnection_FailsExec_AsRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        using RespTestClient durableOther = servers.Durable.Connect();
        using RespTestClient redisOther = servers.Redis.Connect();
        both.Same("WATCH", p + "k");
        Assert.Equal(redisOther.Call("LPUSH", p + "k", "x"), durableOther.Call("LPUSH", p + "k", "x"));
        both.Same("MULTI");
        both.Same("LPUSH", p + "k", "y");
        both.Same("EXEC");
        both.Same("LRANGE", p + "k", "0", "-1");
    }

    [Fact]
    public async Task Watch_FlushdbSwapdbAndFlushall_FailExecOnlyForKeysThatExisted()
    {
        // Its own servers: these commands change whole databases. The replies are redis-server 7.0.15's for the same
        // commands (touchAllWatchedKeysInDb: a watched key that exists in the emptied or swapped-in database).
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        string[][] transcript =
        [
            ["SET", "w", "1"], ["WATCH", "w", "gone"], ["FLUSHDB"], ["MULTI"], ["EXEC"],
            ["WATCH", "gone"], ["FLUSHDB"], ["MULTI"], ["PING"], ["EXEC"],
            ["SELECT", "1"], ["SET", "x", "1"], ["SELECT", "0"], ["WATCH", "x"], ["SWAPDB", "0", "1"], ["MULTI"], ["EXEC"],
            ["SET", "y", "1"], ["WATCH", "y"], ["FLUSHALL"], ["MULTI"], ["EXEC"],
        ];
        string[] replies =
        [
            "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "*-1\r\n",
            "+OK\r\n", "+OK\r\n", "+OK\r\n", "+QUEUED\r\n", "*1\r\n+PONG\r\n",
            "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "*-1\r\n",
            "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", "*-1\r\n",
        ];
        for (int i = 0; i < transcript.Length; i++)
        {
            Assert.Equal(replies[i], client.Call(transcript[i]));
        }
    }

    [Fact]
    public void ClientList_InsideMulti_ShowsTheFlagAndTheQueuedCount()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("MULTI");
        both.Same("PING");
        both.Same("CLIENT", "INFO");
        Assert.Matches(@"^\*2\r\n\+PONG\r\n\$\d+\r\nid=\d+ .* flags=x db=0 sub=0 psub=0 ssub=0 multi=2 ", both.Durable.Call("EXEC"));
        both.Redis.Call("EXEC");
        Assert.Matches(@" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 ", both.Durable.Call("CLIENT", "INFO"));
    }

    [Fact]
    public async Task Queue_PastTheClientQueryBufferLimit_IsRefusedAndFailsExec()
    {
        await using TestServer server = await TestServer.StartAsync(config => config.ClientQueryBufferLimit = 1L << 20);
        using RespTestClient client = server.Connect();
        string value = new('v', 100_000);
        Assert.Equal("+OK\r\n", client.Call("MULTI"));
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("+QUEUED\r\n", client.Call("SET", $"k{i}", value));
        }

        Assert.Equal("-ERR transaction too large: the queued commands exceed client-query-buffer-limit\r\n", client.Call("SET", "k10", value));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", client.Call("EXEC"));
        Assert.Equal(":0\r\n", client.Call("EXISTS", "k0"));

        // Tiny commands count what they hold, not just their bytes: about 70 bytes each against a 1 MiB limit.
        Assert.Equal("+OK\r\n", client.Call("MULTI"));
        int queued = 0;
        while (client.Call("PING") == "+QUEUED\r\n")
        {
            queued++;
        }

        Assert.InRange(queued, 10_000, 20_000);
        Assert.Equal("+OK\r\n", client.Call("DISCARD"));
    }

    [Fact]
    public async Task WriteRefusedWhileQueuing_FailsExec_ReadsStillQueue()
    {
        // A reserve no file system has: the store refuses every write (-MISCONF) and the transaction with one.
        await using TestServer server = await TestServer.StartAsync(config => config.DiskReserveBytes = long.MaxValue / 2);
        using RespTestClient client = server.Connect();
        System.Diagnostics.Stopwatch waited = System.Diagnostics.Stopwatch.StartNew();
        while (!client.Call("SET", "k", "v").StartsWith("-MISCONF ", StringComparison.Ordinal))
        {
            Assert.True(waited.ElapsedMilliseconds < 10_000, "writes were not refused");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal("+OK\r\n", client.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", client.Call("GET", "k"));
        Assert.StartsWith("-MISCONF Errors writing to the write-ahead log: ", client.Call("SET", "k", "v"), StringComparison.Ordinal);
        Assert.Equal("+QUEUED\r\n", client.Call("GET", "k"));
        Assert.Equal("-EXECABORT Transaction discarded because of previous errors.\r\n", client.Call("EXEC"));
        Assert.Equal("+OK\r\n", client.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", client.Call("GET", "k"));
        Assert.Equal("*1\r\n$-1\r\n", client.Call("EXEC"));
    }

    [Fact]
    public async Task CheckAndSet_ConcurrentClients_EveryCommittedIncrementCountsOnce()
    {
        // The optimistic-locking loop of the Redis documentation: WATCH, read, MULTI, write, EXEC, again on a null reply.
        await using TestServer server = await TestServer.StartAsync();
        const int Clients = 4;
        const int IncrementsEach = 150;
        int[] retries = new int[Clients];
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(
            () =>
            {
                using RespTestClient client = server.Connect();
                for (int done = 0; done < IncrementsEach;)
                {
                    client.Call("WATCH", "counter");
                    string reply = client.Call("GET", "counter");
                    long value = reply == "$-1\r\n" ? 0 : long.Parse(reply.Split("\r\n")[1], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.Equal("+OK\r\n", client.Call("MULTI"));
                    Assert.Equal("+QUEUED\r\n", client.Call("SET", "counter", (value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    Assert.Equal("+QUEUED\r\n", client.Call("RPUSH", "log", c.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    string exec = client.Call("EXEC");
                    if (exec == "*-1\r\n")
                    {
                        retries[c]++;
                        continue;
                    }

                    Assert.StartsWith("*2\r\n+OK\r\n:", exec, StringComparison.Ordinal);
                    done++;
                }
            },
            TestContext.Current.CancellationToken)));

        using RespTestClient reader = server.Connect();
        Assert.Equal($"$3\r\n{Clients * IncrementsEach}\r\n", reader.Call("GET", "counter"));
        Assert.Equal($":{Clients * IncrementsEach}\r\n", reader.Call("LLEN", "log"));
    }

    [Fact]
    public async Task Sigkill_DuringConcurrentTransactions_EachIsWholeAndNoneAcknowledgedIsLost()
    {
        // Four clients each run MULTI, SET a, SET b (with 8 KB of padding), INCR n, EXEC in a loop until the server is
        // killed under them. After the restart, for every client: a, b and n agree (no half transaction), and they are
        // at least the last EXEC acknowledged (appendfsync always).
        const int Clients = 4;
        long[] acknowledged = new long[Clients];
        string padding = new('p', 8192);
        await using (ServerProcess server = await ServerProcess.StartAsync(Path.Combine(_directory, "concurrent"), "--appendfsync", "always", "--memory", "8mb", "--checkpoint-interval", "1"))
        {
            using CancellationTokenSource stop = new();
            Task[] clients = [.. Enumerable.Range(0, Clients).Select(c => Task.Run(
                () =>
                {
                    using RespTestClient client = server.Connect();
                    for (long i = 1; !stop.IsCancellationRequested; i++)
                    {
                        string n = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        client.Send("MULTI");
                        client.Send("SET", $"c{c}:a", n);
                        client.Send("SET", $"c{c}:b", n + padding);
                        client.Send("INCR", $"c{c}:n");
                        client.Send("EXEC");
                        for (int reply = 0; reply < 4; reply++)
                        {
                            client.ReadReply();
                        }

                        Assert.Equal($"*3\r\n+OK\r\n+OK\r\n:{n}\r\n", client.ReadReply());
                        Volatile.Write(ref acknowledged[c], i);
                    }
                },
                CancellationToken.None))];
            await Task.Delay(1500, TestContext.Current.CancellationToken);
            await server.KillAsync();
            await stop.CancelAsync();
            foreach (Task task in clients)
            {
                // Each ends with the connection's failure (the server is gone).
                await Assert.ThrowsAnyAsync<Exception>(() => task);
            }
        }

        await using ServerProcess again = await ServerProcess.StartAsync(Path.Combine(_directory, "concurrent"), "--memory", "8mb");
        using RespTestClient reader = again.Connect();
        for (int c = 0; c < Clients; c++)
        {
            Assert.True(acknowledged[c] > 0, $"client {c} had no EXEC acknowledged in 1.5 s");
            string a = reader.Call("GET", $"c{c}:a").Split("\r\n")[1];
            Assert.Equal($"${a.Length + padding.Length}\r\n{a}{padding}\r\n", reader.Call("GET", $"c{c}:b"));
            Assert.Equal($":{a}\r\n", reader.Call("INCRBY", $"c{c}:n", "0"));
            Assert.True(long.Parse(a, System.Globalization.CultureInfo.InvariantCulture) >= acknowledged[c], $"client {c}: EXEC {acknowledged[c]} was acknowledged, {a} came back");
        }
    }

    [Fact]
    public async Task Exec_LargerThanOneWalEntry_SurvivesSigkillWhole()
    {
        // 3,000 SETs of 1 KB in one EXEC: about 3 MB, more than one WAL entry holds, so it is logged in parts and
        // replayed all or nothing. Acknowledged with appendfsync always, all of it must come back.
        string value = new('v', 1000);
        await using (ServerProcess server = await ServerProcess.StartAsync(Path.Combine(_directory, "large"), "--appendfsync", "always", "--memory", "16mb", "--checkpoint-interval", "3600"))
        {
            using RespTestClient client = server.Connect();
            Assert.Equal("+OK\r\n", client.Call("MULTI"));
            for (int i = 0; i < 3000; i++)
            {
                client.Send("SET", $"k{i}", value);
            }

            for (int i = 0; i < 3000; i++)
            {
                Assert.Equal("+QUEUED\r\n", client.ReadReply());
            }

            Assert.Equal("+QUEUED\r\n", client.Call("INCR", "transactions"));
            Assert.StartsWith("*3001\r\n+OK\r\n", client.Call("EXEC"), StringComparison.Ordinal);
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(Path.Combine(_directory, "large"), "--memory", "16mb");
        using RespTestClient reader = again.Connect();
        Assert.Equal(":3001\r\n", reader.Call("DBSIZE"));
        Assert.Equal("$1\r\n1\r\n", reader.Call("GET", "transactions"));
        Assert.Equal($"$1000\r\n{value}\r\n", reader.Call("GET", "k2999"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // The test made none.
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
