using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Collections of every type, ten times more than a tiny memory budget holds, so that most of them are on disk: each reads
/// back as written, after further writes to cold collections, and again after SIGKILL and a restart.
/// </summary>
public sealed class CollectionColdTests : IDisposable
{
    private const int Collections = 1500;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task CollectionsOnDisk_ReadBackWrittenAndAfterSigkill()
    {
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb"))
        {
            using RespTestClient client = server.Connect();
            Pipeline(client, i => Fill(i, round: 0));
            Pipeline(client, i => Fill(i, round: 1));
            Assert.Equal($":{Collections * 4}\r\n", client.Call("DBSIZE"));
            string info = client.Call("INFO", "memory");
            Assert.Contains("durable_log_disk_bytes:", info, StringComparison.Ordinal);
            CheckAll(client);
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "1mb");
        using RespTestClient reader = again.Connect();
        Assert.Equal($":{Collections * 4}\r\n", reader.Call("DBSIZE"));
        CheckAll(reader);
    }

    /// <summary>
    /// One hash and one set of 30,000 entries each (bucketed) under a 1 MiB budget: a point read of a cold entry waits for
    /// the disk a bounded number of times (root and one bucket), not once per bucket; everything survives SIGKILL.
    /// </summary>
    [Fact]
    public async Task HugeHashAndSetOnDisk_PointReadsTouchFewRecords_AndSurviveSigkill()
    {
        const int Entries = 30_000;
        Random random = new(7);
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb"))
        {
            using RespTestClient client = server.Connect();
            FillHugeHash(client, Entries, alsoSet: true);

            // Push the collections' records out of memory, then read single entries back.
            PushOutOfMemory(client);

            long before = PendingReads(client);
            for (int i = 0; i < 100; i++)
            {
                string n = random.Next(Entries).ToString(CultureInfo.InvariantCulture);
                Assert.Equal(Bulk("value-" + n), client.Call("HGET", "big-hash", "field-" + n));
                Assert.Equal(":1\r\n", client.Call("SISMEMBER", "big-set", "member-" + n));
            }

            long diskReads = PendingReads(client) - before;
            Assert.True(diskReads <= 400, $"200 point reads of cold entries waited for the disk {diskReads} times (at most 2 each)");
            Assert.True(diskReads > 0, "the collections were expected on disk");

            Assert.Equal(":500\r\n", client.Call(["HDEL", "big-hash", .. Enumerable.Range(0, 500).Select(i => "field-" + (i * 3).ToString(CultureInfo.InvariantCulture))]));
            Assert.Equal(":500\r\n", client.Call(["SREM", "big-set", .. Enumerable.Range(0, 500).Select(i => "member-" + (i * 3).ToString(CultureInfo.InvariantCulture))]));
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "1mb");
        using RespTestClient reader = again.Connect();
        Assert.Equal($":{Entries - 500}\r\n", reader.Call("HLEN", "big-hash"));
        Assert.Equal($":{Entries - 500}\r\n", reader.Call("SCARD", "big-set"));
        Assert.Equal("$-1\r\n", reader.Call("HGET", "big-hash", "field-3"));
        Assert.Equal(Bulk("value-4"), reader.Call("HGET", "big-hash", "field-4"));
        Assert.Equal(":0\r\n", reader.Call("SISMEMBER", "big-set", "member-1497"));
        Assert.Equal(":1\r\n", reader.Call("SISMEMBER", "big-set", "member-1498"));
        List<(string Field, string Value)> scanned = HashReplies.ScanAll(reader, "big-hash", "COUNT", "1000").Pairs;
        Assert.Equal(Entries - 500, scanned.Distinct().Count());
        Assert.All(scanned, pair => Assert.Equal("value-" + pair.Field["field-".Length..], pair.Value));
        Assert.Equal(Entries - 500, SetReplies.ScanAll(reader, "big-set", "COUNT", "1000").Distinct().Count());
        Assert.Equal(":2\r\n", reader.Call("DEL", "big-hash", "big-set"));
    }

    /// <summary>
    /// One list of 30,000 elements (chunked) under a 1 MiB budget: LINDEX and a 10-element LRANGE anywhere, and a push
    /// or pop at either end, wait for the disk a bounded number of times (the root and a chunk or two); all survives SIGKILL.
    /// </summary>
    [Fact]
    public async Task HugeListOnDisk_IndexRangeAndEndsTouchFewRecords_AndSurviveSigkill()
    {
        const int Elements = 30_000;
        Random random = new(11);
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb"))
        {
            using RespTestClient client = server.Connect();
            for (int start = 0; start < Elements; start += 1000)
            {
                Assert.Equal($":{start + 1000}\r\n", client.Call(["RPUSH", "big-list", .. Enumerable.Range(start, 1000).Select(i => "element-" + i.ToString(CultureInfo.InvariantCulture))]));
            }

            PushOutOfMemory(client);

            long before = PendingReads(client);
            for (int i = 0; i < 50; i++)
            {
                int n = random.Next(Elements - 10);
                Assert.Equal(Bulk("element-" + n.ToString(CultureInfo.InvariantCulture)), client.Call("LINDEX", "big-list", n.ToString(CultureInfo.InvariantCulture)));
                string range = client.Call("LRANGE", "big-list", n.ToString(CultureInfo.InvariantCulture), (n + 9).ToString(CultureInfo.InvariantCulture));
                Assert.StartsWith("*10\r\n" + Bulk("element-" + n.ToString(CultureInfo.InvariantCulture)), range, StringComparison.Ordinal);
                Assert.EndsWith(Bulk("element-" + (n + 9).ToString(CultureInfo.InvariantCulture)), range, StringComparison.Ordinal);
            }

            long diskReads = PendingReads(client) - before;
            Assert.True(diskReads <= 250, $"50 LINDEX and 50 LRANGE of cold elements waited for the disk {diskReads} times (at most 2 or 3 each)");
            Assert.True(diskReads > 0, "the list was expected on disk");

            before = PendingReads(client);
            Assert.Equal($":{Elements + 1}\r\n", client.Call("LPUSH", "big-list", "head"));
            Assert.Equal($":{Elements + 2}\r\n", client.Call("RPUSH", "big-list", "tail"));
            Assert.Equal(Bulk("head"), client.Call("LPOP", "big-list"));
            Assert.Equal(Bulk("tail"), client.Call("RPOP", "big-list"));
            Assert.Equal("+OK\r\n", client.Call("LSET", "big-list", "15000", "middle"));
            Assert.True(PendingReads(client) - before <= 10, "pushes and pops at the ends read more than the root and the end chunks");

            Assert.Equal($":{Elements + 1}\r\n", client.Call("LINSERT", "big-list", "BEFORE", "element-29990", "inserted"));
            Assert.Equal(":1\r\n", client.Call("LREM", "big-list", "-1", "element-29980"));
            Assert.Equal("+OK\r\n", client.Call("LTRIM", "big-list", "100", "-1"));
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "1mb");
        using RespTestClient reader = again.Connect();
        Assert.Equal($":{Elements - 100}\r\n", reader.Call("LLEN", "big-list"));
        Assert.Equal(Bulk("element-100"), reader.Call("LINDEX", "big-list", "0"));
        Assert.Equal(Bulk("middle"), reader.Call("LINDEX", "big-list", "14900"));
        Assert.Equal(Bulk("element-29999"), reader.Call("LINDEX", "big-list", "-1"));
        Assert.Equal(Bulk("inserted"), reader.Call("LINDEX", "big-list", "-11"));
        Assert.Equal(Bulk("element-29990"), reader.Call("LINDEX", "big-list", "-10"));
        Assert.Equal(Bulk("element-29979"), reader.Call("LINDEX", "big-list", "-21"));
        Assert.Equal(Bulk("element-29981"), reader.Call("LINDEX", "big-list", "-20"));
        Assert.Equal(":1\r\n", reader.Call("DEL", "big-list"));
    }

    /// <summary>Writes 2 MB of strings, so that what was written before is on disk under a 1 MiB budget.</summary>
    /// <summary>
    /// An update of a cold entry of a huge hash reads its root and its bucket from disk once each: the bucket's write does not
    /// read the old record again (a part the command has read is upserted). With the read cache off, so every read counts.
    /// </summary>
    [Fact]
    public async Task HugeHashOnDisk_UpdateOfAColdField_ReadsItsBucketOnce()
    {
        const int Entries = 30_000;
        Random random = new(11);
        await using ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb", "--read-cache", "no");
        using RespTestClient client = server.Connect();
        FillHugeHash(client, Entries, alsoSet: false);

        PushOutOfMemory(client);
        long before = PendingReads(client);
        List<string> updated = [];
        for (int i = 0; i < 100; i++)
        {
            string n = random.Next(Entries).ToString(CultureInfo.InvariantCulture);
            Assert.Equal(":0\r\n", client.Call("HSET", "big-hash", "field-" + n, "other-" + n));
            updated.Add(n);
        }

        long diskReads = PendingReads(client) - before;
        // The root (not rewritten by an update, so cold each time) and the bucket: 2 each (measured 198). An RMW of the bucket
        // read it a third time (measured 296 before parts read by the command were upserted).
        Assert.True(diskReads <= 220, $"100 updates of cold fields waited for the disk {diskReads} times (root and bucket: 2 each)");
        Assert.True(diskReads >= 50, $"the hash was expected on disk ({diskReads} disk reads)");
        Assert.Equal($":{Entries}\r\n", client.Call("HLEN", "big-hash"));
        foreach (string n in updated)
        {
            Assert.Equal(Bulk("other-" + n), client.Call("HGET", "big-hash", "field-" + n));
        }
    }

    /// <summary>big-hash gets field-n = value-n for n below <paramref name="entries"/>; with <paramref name="alsoSet"/>, big-set gets member-n.</summary>
    private static void FillHugeHash(RespTestClient client, int entries, bool alsoSet)
    {
        for (int start = 0; start < entries; start += 1000)
        {
            IEnumerable<string> range = Enumerable.Range(start, 1000).Select(i => i.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(":1000\r\n", client.Call(["HSET", "big-hash", .. range.SelectMany(n => new[] { "field-" + n, "value-" + n })]));
            if (alsoSet)
            {
                Assert.Equal(":1000\r\n", client.Call(["SADD", "big-set", .. range.Select(n => "member-" + n)]));
            }
        }
    }

    private static void PushOutOfMemory(RespTestClient client)
    {
        for (int i = 0; i < 2000; i++)
        {
            client.Send("SET", "filler-" + i.ToString(CultureInfo.InvariantCulture), new string('f', 1000));
        }

        for (int i = 0; i < 2000; i++)
        {
            client.ReadReply();
        }
    }

    [Fact]
    public async Task HugeSortedSetOnDisk_PointAndRangeReadsTouchFewRecords_AndSurviveSigkill()
    {
        const int Members = 30_000;
        Random random = new(11);
        SortedDictionary<string, long> model = new(StringComparer.Ordinal);
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb", "--appendfsync", "always"))
        {
            using RespTestClient client = server.Connect();
            for (int start = 0; start < Members; start += 1000)
            {
                IEnumerable<int> range = Enumerable.Range(start, 1000);
                Assert.Equal(":1000\r\n", client.Call(["ZADD", "big-zset", .. range.SelectMany(i => new[] { ScoreOf(i), MemberOf(i) })]));
            }

            for (int i = 0; i < Members; i++)
            {
                model[MemberOf(i)] = i / 2;
            }

            for (int i = 0; i < 2000; i++)
            {
                client.Send("SET", "filler-" + i.ToString(CultureInfo.InvariantCulture), new string('f', 1000));
            }

            for (int i = 0; i < 2000; i++)
            {
                client.ReadReply();
            }

            // Point reads (root + bucket), ranks (root + path) and ten members from anywhere (root + path + a leaf or two).
            long before = PendingReads(client);
            for (int i = 0; i < 50; i++)
            {
                int n = random.Next(Members);
                Assert.Equal(Bulk(ScoreOf(n)), client.Call("ZSCORE", "big-zset", MemberOf(n)));
                Assert.Equal($":{n}\r\n", client.Call("ZRANK", "big-zset", MemberOf(n)));
                string range = client.Call("ZRANGE", "big-zset", n.ToString(CultureInfo.InvariantCulture), (n + 9).ToString(CultureInfo.InvariantCulture));
                Assert.StartsWith($"*{Math.Min(10, Members - n)}\r\n${MemberOf(n).Length}\r\n{MemberOf(n)}\r\n", range, StringComparison.Ordinal);
            }

            long diskReads = PendingReads(client) - before;
            // Per round: ZSCORE root + bucket; ZRANK root + bucket + the tree's path; ZRANGE root + path + maybe the next
            // leaf: about 14 (the set has ~2000 buckets and ~1000 leaves, so a whole read would be thousands).
            Assert.True(diskReads <= 900, $"50 rounds of ZSCORE, ZRANK and ZRANGE of 10 waited for the disk {diskReads} times (at most 18 a round)");
            Assert.True(diskReads > 0, "the sorted set was expected on disk");

            string[] removed = [.. Enumerable.Range(0, 500).Select(i => MemberOf(i * 3))];
            Assert.Equal(":500\r\n", client.Call(["ZREM", "big-zset", .. removed]));
            Assert.Equal(":1\r\n", client.Call("ZADD", "big-zset", "-1", "first"));
            Assert.Equal(Bulk("15000"), client.Call("ZINCRBY", "big-zset", "1", MemberOf(Members - 1)));
            Assert.Equal("*4\r\n$5\r\nfirst\r\n$2\r\n-1\r\n$11\r\nmember-0001\r\n$1\r\n0\r\n", client.Call("ZPOPMIN", "big-zset", "2"));
            foreach (string member in removed)
            {
                model.Remove(member);
            }

            model[MemberOf(Members - 1)] = 15000;
            model.Remove(MemberOf(1));
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "1mb", "--appendfsync", "always");
        using RespTestClient reader = again.Connect();
        Assert.Equal($":{model.Count}\r\n", reader.Call("ZCARD", "big-zset"));
        Assert.Equal("$-1\r\n", reader.Call("ZSCORE", "big-zset", MemberOf(3)));
        Assert.Equal(Bulk("2"), reader.Call("ZSCORE", "big-zset", MemberOf(4)));
        string expected = string.Concat(model.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => $"${p.Key.Length}\r\n{p.Key}\r\n"));
        Assert.Equal($"*{model.Count}\r\n{expected}", reader.Call("ZRANGE", "big-zset", "0", "-1"));
        Assert.Equal(model.Count, reader.Call("ZRANGEBYSCORE", "big-zset", "-inf", "+inf").Split("\r\n$").Length - 1);
        Assert.Equal(":1\r\n", reader.Call("DEL", "big-zset"));

        static string MemberOf(int i) => "member-" + i.ToString("D4", CultureInfo.InvariantCulture);

        static string ScoreOf(int i) => (i / 2).ToString(CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task HugeCollectionsOnDisk_ManyClientsWritingOneKey_ReadWhileTheyWait_AndEveryWriteHolds()
    {
        const int Entries = 30_000;
        const int Clients = 24;
        const int Writes = 30;
        await using ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb");
        using (RespTestClient filler = server.Connect())
        {
            FillHugeHash(filler, Entries, alsoSet: false);
            for (int start = 0; start < Entries; start += 1000)
            {
                IEnumerable<int> range = Enumerable.Range(start, 1000);
                Assert.Equal(":1000\r\n", filler.Call(["ZADD", "big-zset", .. range.SelectMany(i => new[] { I(i), "member-" + I(i) })]));
            }

            PushOutOfMemory(filler);
        }

        // Every client changes members of its own (n mod Clients), one command at a time: all of them queue on the two
        // keys' stripes, and the holder reads cold buckets and leaves while the others read theirs.
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(() =>
        {
            using RespTestClient client = server.Connect();
            Random random = new(c);
            for (int i = 0; i < Writes; i++)
            {
                int n = (random.Next(Entries / Clients) * Clients) + c;
                Assert.Equal(":0\r\n", client.Call("ZADD", "big-zset", I(-n - 1), "member-" + I(n)));
                Assert.Equal(":0\r\n", client.Call("HSET", "big-hash", "field-" + I(n), "changed-" + I(n)));
            }
        }, TestContext.Current.CancellationToken)));

        using RespTestClient reader = server.Connect();
        Assert.True(reader.InfoNumber("stats", "durable_lock_waits") > 0, "clients waited for the keys' stripes");
        Assert.True(reader.InfoNumber("memory", "durable_warm_reads") > 0, "waiting clients read their cold records meanwhile");
        Assert.Equal($":{Entries}\r\n", reader.Call("ZCARD", "big-zset"));
        Assert.Equal($":{Entries}\r\n", reader.Call("HLEN", "big-hash"));
        for (int c = 0; c < Clients; c++)
        {
            Random random = new(c);
            for (int i = 0; i < Writes; i++)
            {
                int n = (random.Next(Entries / Clients) * Clients) + c;
                Assert.Equal(Bulk(I(-n - 1)), reader.Call("ZSCORE", "big-zset", "member-" + I(n)));
                Assert.Equal(Bulk("changed-" + I(n)), reader.Call("HGET", "big-hash", "field-" + I(n)));
            }
        }

        // The tree agrees with the map: members with negative scores come first, in score order, each at its rank.
        string[] moved = reader.Call("ZRANGEBYSCORE", "big-zset", "-inf", "(0", "WITHSCORES").Split("\r\n")[1..^1].Where((_, i) => i % 2 == 1).ToArray();
        double[] scores = moved.Where((_, i) => i % 2 == 1).Select(double.Parse).ToArray();
        Assert.Equal(scores.Order(), scores);
        Assert.Equal($":{scores.Length}\r\n", reader.Call("ZCOUNT", "big-zset", "-inf", "(0"));
        Assert.Equal($":{scores.Length - 1}\r\n", reader.Call("ZRANK", "big-zset", moved[^2]));

        static string I(int i) => i.ToString(CultureInfo.InvariantCulture);
    }

    private static long PendingReads(RespTestClient client) => client.InfoNumber("memory", "durable_pending_reads");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }

    /// <summary>Round 0 creates every collection with 20 members; round 1 changes each (mostly cold by then).</summary>
    private static string[][] Fill(int i, int round)
    {
        string n = i.ToString(CultureInfo.InvariantCulture);
        if (round == 0)
        {
            List<string> hash = ["HSET", "h" + n];
            List<string> set = ["SADD", "s" + n];
            List<string> zset = ["ZADD", "z" + n];
            List<string> list = ["RPUSH", "l" + n];
            for (int m = 0; m < 20; m++)
            {
                string member = $"member-{m}-{new string('x', 30)}";
                hash.AddRange([member, $"value-{i}-{m}"]);
                set.Add(member);
                zset.AddRange([(i + m).ToString(CultureInfo.InvariantCulture), member]);
                list.Add($"{i}:{m}");
            }

            return [[.. hash], [.. set], [.. zset], [.. list]];
        }

        return
        [
            ["HSET", "h" + n, "member-0-" + new string('x', 30), "changed-" + n],
            ["SREM", "s" + n, "member-1-" + new string('x', 30)],
            ["ZINCRBY", "z" + n, "100", "member-2-" + new string('x', 30)],
            ["LPOP", "l" + n],
        ];
    }

    private static void Pipeline(RespTestClient client, Func<int, string[][]> commands)
    {
        const int Batch = 100;
        for (int start = 0; start < Collections; start += Batch)
        {
            int sent = 0;
            for (int i = start; i < start + Batch; i++)
            {
                foreach (string[] command in commands(i))
                {
                    client.Send(command);
                    sent++;
                }
            }

            for (int r = 0; r < sent; r++)
            {
                string reply = client.ReadReply();
                Assert.False(reply.StartsWith('-'), reply);
            }
        }
    }

    private static void CheckAll(RespTestClient client)
    {
        string x = new('x', 30);
        for (int i = 0; i < Collections; i += 7)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(Bulk("changed-" + n), client.Call("HGET", "h" + n, "member-0-" + x));
            Assert.Equal(Bulk($"value-{i}-5"), client.Call("HGET", "h" + n, "member-5-" + x));
            Assert.Equal(":20\r\n", client.Call("HLEN", "h" + n));
            Assert.Equal(":0\r\n", client.Call("SISMEMBER", "s" + n, "member-1-" + x));
            Assert.Equal(":1\r\n", client.Call("SISMEMBER", "s" + n, "member-7-" + x));
            Assert.Equal(":19\r\n", client.Call("SCARD", "s" + n));
            Assert.Equal(Bulk((i + 2 + 100).ToString(CultureInfo.InvariantCulture)), client.Call("ZSCORE", "z" + n, "member-2-" + x));
            Assert.Equal(Bulk("member-2-" + x), client.Call("ZRANGE", "z" + n, "-1", "-1")[4..]);
            Assert.Equal(":19\r\n", client.Call("LLEN", "l" + n));
            Assert.Equal(Bulk($"{i}:1"), client.Call("LINDEX", "l" + n, "0"));
            Assert.Equal(Bulk($"{i}:19"), client.Call("LINDEX", "l" + n, "-1"));
        }
    }

    private static string Bulk(string value) => $"${value.Length}\r\n{value}\r\n";
}
