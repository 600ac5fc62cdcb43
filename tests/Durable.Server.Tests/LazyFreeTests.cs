using System.Diagnostics;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Large collections dropped lazily: UNLINK, and DEL, overwrites, expiry and FLUSHDB under the lazyfree settings, leave
/// the parts to the store's reaper (INFO lazyfree_pending_objects, lazyfreed_objects); a SIGKILL before it is done leaves
/// the rest to the restarted server, so that no part outlives its collection (durable_records).
/// </summary>
public sealed class LazyFreeTests : IDisposable
{
    private const int Fields = 20_000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Unlink_OfAHugeHashOnDisk_ThenSigkill_TheRestartedServerFreesTheRest()
    {
        long records;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "2mb"))
        {
            using RespTestClient client = server.Connect();
            Assert.Equal("+OK\r\n", client.Call("SET", "kept", "1"));
            records = client.InfoNumber("memory", "durable_records");
            FillHash(client, "big");
            Assert.True(client.InfoNumber("memory", "durable_records") > records + 1000, "the hash was expected in part records");

            Assert.Equal(":1\r\n", client.Call("UNLINK", "big"));
            Assert.Equal(":0\r\n", client.Call("EXISTS", "big"));
            Assert.Equal(":1\r\n", client.Call("DBSIZE"));
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "2mb");
        using RespTestClient reader = again.Connect();
        Assert.Equal(":0\r\n", reader.Call("EXISTS", "big"));
        await WaitUntilAsync(() => reader.InfoNumber("memory", "lazyfree_pending_objects") == 0);
        Assert.Equal(records, reader.InfoNumber("memory", "durable_records"));
        Assert.Equal("$1\r\n1\r\n", reader.Call("GET", "kept"));
    }

    [Fact]
    public async Task LazyfreeSettings_SendTheDroppedCollectionsPartsToTheReaper()
    {
        await using ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "8mb");
        using RespTestClient client = server.Connect();
        long records = client.InfoNumber("memory", "durable_records");
        long freed = 0;

        // Each way of dropping a large hash, first with the setting off (the command deletes the parts: no lazy free), then on.
        (string Setting, Action Drop)[] ways =
        [
            ("lazyfree-lazy-user-del", () => Assert.Equal(":1\r\n", client.Call("DEL", "big"))),
            ("lazyfree-lazy-server-del", () => Assert.Equal("+OK\r\n", client.Call("SET", "big", "plain"))),
            ("lazyfree-lazy-user-flush", () => Assert.Equal("+OK\r\n", client.Call("FLUSHDB"))),
            ("lazyfree-lazy-expire", () => Assert.Equal(":1\r\n", client.Call("PEXPIRE", "big", "1"))),
        ];
        foreach ((string setting, Action drop) in ways)
        {
            foreach (string value in new[] { "no", "yes" })
            {
                Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", setting, value));
                FillHash(client, "big");
                drop();
                bool flush = setting == "lazyfree-lazy-user-flush";
                if (flush && value == "no")
                {
                    // The database is detached either way (a SYNC flush then waits for the reaper): the flush saved the
                    // database map, a record that stays.
                    records++;
                }

                await WaitUntilAsync(() => client.Call("EXISTS", "big") == ":0\r\n" || client.Call("TYPE", "big") == "+string\r\n");
                client.Call("DEL", "big");
                await WaitUntilAsync(() => client.InfoNumber("memory", "lazyfree_pending_objects") == 0);
                freed += value == "yes" || flush ? 1 : 0;
                Assert.True(freed == client.InfoNumber("memory", "lazyfreed_objects"), $"{setting} {value}");
                Assert.Equal(records, client.InfoNumber("memory", "durable_records"));
            }

            Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", setting, "no"));
        }

        // FLUSHALL ASYNC and UNLINK whatever the settings.
        FillHash(client, "big");
        Assert.Equal("+OK\r\n", client.Call("FLUSHALL", "ASYNC"));
        FillHash(client, "big");
        Assert.Equal(":1\r\n", client.Call("UNLINK", "big"));
        await WaitUntilAsync(() => client.InfoNumber("memory", "lazyfreed_objects") == freed + 2);
        Assert.Equal(records, client.InfoNumber("memory", "durable_records"));
    }

    [Fact]
    public async Task FlushallAsync_EmptiesEveryDatabaseAtOnce_ThenSigkill_TheRestartedServerDeletesTheOldKeys()
    {
        const int Keys = 20_000;
        long records;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "4mb"))
        {
            using RespTestClient client = server.Connect();
            records = client.InfoNumber("memory", "durable_records");
            foreach (string db in new[] { "0", "5" })
            {
                Assert.Equal("+OK\r\n", client.Call("SELECT", db));
                for (int start = 0; start < Keys; start += 500)
                {
                    client.Send(["MSET", .. Enumerable.Range(start, 500).SelectMany(k => new[] { $"key-{k}", $"value-{k}" })]);
                }

                for (int start = 0; start < Keys; start += 500)
                {
                    Assert.Equal("+OK\r\n", client.ReadReply());
                }
            }

            FillHash(client, "big");
            Assert.Equal("+OK\r\n", client.Call("FLUSHALL", "ASYNC"));
            Assert.Equal(":0\r\n", client.Call("DBSIZE"));
            Assert.Equal("$-1\r\n", client.Call("GET", "key-7"));
            Assert.Equal("+OK\r\n", client.Call("SET", "key-7", "after"));
            Assert.Equal("+OK\r\n", client.Call("SELECT", "0"));
            Assert.Equal(":0\r\n", client.Call("DBSIZE"));
            Assert.Equal("+OK\r\n", client.Call("SET", "key-8", "after"));
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "4mb");
        using RespTestClient reader = again.Connect();
        // The walk's end queues the hash's parts: they are pending parts, no longer pending objects, until deleted.
        await WaitUntilAsync(() => reader.InfoNumber("memory", "lazyfree_pending_objects") == 0 && reader.InfoNumber("memory", "durable_lazyfree_pending_databases") == 0
            && reader.InfoNumber("memory", "durable_lazyfree_pending_parts") == 0);
        Assert.Equal(":1\r\n", reader.Call("DBSIZE"));
        Assert.Equal("$5\r\nafter\r\n", reader.Call("GET", "key-8"));
        Assert.Equal("+OK\r\n", reader.Call("SELECT", "5"));
        Assert.Equal(":1\r\n", reader.Call("DBSIZE"));
        Assert.Equal("$5\r\nafter\r\n", reader.Call("GET", "key-7"));

        // The two keys, the database map: nothing of the 40,000 keys and the hash's parts is left.
        Assert.Equal(records + 3, reader.InfoNumber("memory", "durable_records"));
    }

    [Fact]
    public async Task FlushallSync_RepliesOnceTheOldRecordsAreDeleted_ServingOthersMeanwhile()
    {
        await using ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "2mb");
        using RespTestClient flusher = server.Connect();
        using RespTestClient other = server.Connect();
        long records = flusher.InfoNumber("memory", "durable_records");
        for (int start = 0; start < 40_000; start += 500)
        {
            flusher.Send(["MSET", .. Enumerable.Range(start, 500).SelectMany(k => new[] { $"key-{k}", $"value-{k}" })]);
        }

        for (int start = 0; start < 40_000; start += 500)
        {
            Assert.Equal("+OK\r\n", flusher.ReadReply());
        }

        flusher.Send(["FLUSHALL"]);

        // The keys are gone for everyone once the command has run; a write after it stays.
        await WaitUntilAsync(() => other.Call("DBSIZE") == ":0\r\n");
        Assert.Equal("+OK\r\n", other.Call("SET", "after", "1"));
        Assert.Equal("+OK\r\n", flusher.ReadReply());
        Assert.Equal(0, flusher.InfoNumber("memory", "durable_lazyfree_pending_databases"));
        Assert.Equal(0, flusher.InfoNumber("memory", "lazyfree_pending_objects"));

        // The new key and the database map, nothing of the 40,000 keys.
        Assert.Equal(records + 2, flusher.InfoNumber("memory", "durable_records"));
        Assert.Equal("$1\r\n1\r\n", flusher.Call("GET", "after"));

        // Inside EXEC nothing may wait: the keys are deleted before EXEC replies.
        flusher.Call("SET", "x", "1");
        Assert.Equal("+OK\r\n", flusher.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", flusher.Call("FLUSHALL", "SYNC"));
        Assert.Equal("*1\r\n+OK\r\n", flusher.Call("EXEC"));
        Assert.Equal(":0\r\n", flusher.Call("DBSIZE"));
        Assert.Equal(records + 1, flusher.InfoNumber("memory", "durable_records"));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static void FillHash(RespTestClient client, string key)
    {
        const int PerCommand = 500;
        for (int start = 0; start < Fields; start += PerCommand)
        {
            client.Send(["HSET", key, .. Enumerable.Range(start, PerCommand).SelectMany(f => new[] { $"field-{f}", $"value-{f}" })]);
        }

        for (int start = 0; start < Fields; start += PerCommand)
        {
            Assert.Equal($":{PerCommand}\r\n", client.ReadReply());
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "not done in 30 s");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
