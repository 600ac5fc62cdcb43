using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Random sequences of collection writes (hashes, sets, sorted sets, lists, and DEL, RENAME, COPY, EXPIRE, PERSIST over
/// them) sent alike to a Durable server process and to redis-server, with the Durable process killed (SIGKILL) or
/// stopped (SIGTERM) at random points and started again on its data, checkpoints and log compactions running every
/// second. Every reply must be Redis's, byte for byte, and after each restart every key must hold what it holds in Redis
/// (members, order, scores, encoding, whether it has a TTL). The collections start past 128 entries, in part records;
/// a 2 MiB budget and 2 MB of strings written before each restart keep their parts on disk (issue 6: property tests
/// across restarts, and tiny memory where the collection is cold).
/// </summary>
public sealed class CollectionRestartPropertyTests : IDisposable
{
    private const int Commands = 1000;
    private static readonly string[] s_keys = ["h", "s", "z", "l", "x", "y"];
    private static readonly string s_long = new('w', 70);
    private static readonly string s_filler = new('f', 4096);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(20261129)]
    [InlineData(7)]
    public async Task RandomWrites_AcrossKillsAndRestarts_MatchRedis(int seed)
    {
        Random random = new(seed);
        string[] arguments = ["--memory", "2mb", "--checkpoint-interval", "1", "--compaction-interval", "1"];
        await using RedisReference redis = await RedisReference.StartAsync();
        using RespTestClient reference = redis.Connect();
        ServerProcess? server = await ServerProcess.StartAsync(_directory, arguments);
        try
        {
            RespTestClient durable = server.Connect();
            int nextRestart = random.Next(40, 120);
            int restarts = 0;
            long compactions = 0;
            Dictionary<string, long> largest = [];
            // Each collection starts past 128 entries, in part records; the sequence then grows and shrinks them.
            string[] members = [.. Enumerable.Range(0, 300).Select(m => "m" + m.ToString(CultureInfo.InvariantCulture))];
            string[][] fills =
            [
                ["HSET", "h", .. members.SelectMany(m => new[] { m, "1" })],
                ["SADD", "s", .. members],
                ["ZADD", "z", .. members.SelectMany(m => new[] { m[1..], m })],
                ["RPUSH", "l", .. members],
            ];
            foreach (string[] fill in fills)
            {
                Assert.Equal(reference.Call(fill), durable.Call(fill));
            }

            for (int i = 0; i < Commands; i++)
            {
                string[] command = RandomCommand(random);
                string expected = reference.Call(command);
                Assert.True(expected == durable.Call(command), $"command {i} ({string.Join(' ', command)}), seed {seed}: Redis {expected}");
                if (i < nextRestart)
                {
                    continue;
                }

                // 2 MB of strings first (500 keys, rewritten by each restart's burst after a checkpoint made the last ones
                // read-only): the collections' parts leave the log's memory (1.6 MB at --memory 2mb), so that the restart
                // recovers them on disk and the snapshot reads them from there.
                for (int filler = 0; filler < 50; filler++)
                {
                    string[] strings = ["MSET", .. Enumerable.Range(0, 10).SelectMany(k => new[] { $"f{(filler * 10) + k}", s_filler })];
                    Assert.Equal(reference.Call(strings), durable.Call(strings));
                }

                // A checkpoint and a compaction (each checked every second) have time to start, and a kill may land in them.
                await Task.Delay(random.Next(2000), TestContext.Current.CancellationToken);
                compactions += durable.InfoNumber("stats", "durable_compactions");
                durable.Dispose();
                bool kill = random.Next(4) != 0;
                if (kill)
                {
                    await server.KillAsync();
                }
                else
                {
                    await server.StopAsync();
                }

                ServerProcess stopped = server;
                server = null;
                await stopped.DisposeAsync();
                server = await ServerProcess.StartAsync(_directory, arguments);
                durable = server.Connect();
                restarts++;
                AssertSameKeys(reference, durable, $"after restart {restarts} ({(kill ? "SIGKILL" : "SIGTERM")}) at command {i}, seed {seed}", largest);
                nextRestart = i + random.Next(40, 120);
            }

            AssertSameKeys(reference, durable, $"at the end, seed {seed}", largest);
            Assert.True(restarts >= 8, $"{restarts} restarts");
            // The last snapshot read records from disk: the collections did not all fit the budget.
            Assert.True(durable.InfoNumber("memory", "durable_pending_reads") > 0, "no read waited for the disk");
            compactions += durable.InfoNumber("stats", "durable_compactions");
            Assert.True(compactions > 0, "no compaction ran");
            // Each type was in part records (past 128 entries) at some restart, not only in its compact encoding.
            foreach (string type in new[] { "+hash\r\n", "+set\r\n", "+zset\r\n", "+list\r\n" })
            {
                Assert.True(largest.GetValueOrDefault(type) > 128, $"largest {type.Trim()} at a restart: {largest.GetValueOrDefault(type)}");
            }

            durable.Dispose();
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Every key the same in both; <paramref name="largest"/> keeps the largest size seen per type.</summary>
    private static void AssertSameKeys(RespTestClient redis, RespTestClient durable, string when, Dictionary<string, long> largest)
    {
        foreach (string key in s_keys)
        {
            (string expected, string type, long size) = Snapshot(redis, key);
            string actual = Snapshot(durable, key).Text;
            Assert.True(expected == actual, $"{key} {when}: Redis {expected}, Durable {actual}");
            largest[type] = Math.Max(largest.GetValueOrDefault(type), size);
        }
    }

    /// <summary>
    /// The key's type, contents (hashes and sets sorted: their order is Redis's hash table's), size, encoding and whether
    /// it has a TTL; with the type and the size apart.
    /// </summary>
    private static (string Text, string Type, long Size) Snapshot(RespTestClient client, string key)
    {
        string type = client.Call("TYPE", key);
        (string contents, string size) = type switch
        {
            "+hash\r\n" => (string.Join(',', HashReplies.SortedPairs(client.Call("HGETALL", key))), client.Call("HLEN", key)),
            "+set\r\n" => (string.Join(',', SetReplies.Members(client.Call("SMEMBERS", key)).Order(StringComparer.Ordinal)), client.Call("SCARD", key)),
            "+zset\r\n" => (client.Call("ZRANGE", key, "0", "-1", "WITHSCORES"), client.Call("ZCARD", key)),
            "+list\r\n" => (client.Call("LRANGE", key, "0", "-1"), client.Call("LLEN", key)),
            _ => ("", ":0\r\n"),
        };
        string ttl = client.Call("PTTL", key);
        string text = $"{type}{contents}{size}|{client.Call("OBJECT", "ENCODING", key)}|{(ttl.StartsWith(":-", StringComparison.Ordinal) ? ttl : "ttl")}";
        return (text, type, long.Parse(size.AsSpan(1).Trim(), CultureInfo.InvariantCulture));
    }

    private static string[] RandomCommand(Random random)
    {
        // Mostly the key of the command's type; sometimes another, for WRONGTYPE and for x and y changing type.
        string Key(string own) => random.Next(8) == 0 ? s_keys[random.Next(s_keys.Length)] : random.Next(5) == 0 ? (random.Next(2) == 0 ? "x" : "y") : own;
        string Member() => random.Next(60) == 0 ? s_long : "m" + random.Next(300).ToString(CultureInfo.InvariantCulture);
        string Number(int from, int to) => random.Next(from, to).ToString(CultureInfo.InvariantCulture);
        string Score() => random.Next(6) switch
        {
            0 => "-inf",
            1 => (random.Next(-100, 100) / 4.0).ToString(CultureInfo.InvariantCulture),
            _ => Number(0, 50),
        };
        // The generic commands mostly move and drop the scratch keys, so that the four collections grow past 128 entries.
        string Any() => random.Next(4) == 0 ? s_keys[random.Next(s_keys.Length)] : random.Next(2) == 0 ? "x" : "y";
        string[] Many(int most, Func<string[]> item) => [.. Enumerable.Range(0, random.Next(1, most)).SelectMany(_ => item())];
        int bulk = random.Next(10) == 0 ? 40 : 4;
        return random.Next(40) switch
        {
            0 or 1 or 2 => ["HSET", Key("h"), .. Many(bulk, () => [Member(), Number(0, 9)])],
            3 => ["HDEL", Key("h"), .. Many(bulk, () => [Member()])],
            4 => ["HINCRBY", Key("h"), Member(), Number(-5, 5)],
            5 => ["HSETNX", Key("h"), Member(), "v"],
            6 or 7 or 8 => ["SADD", Key("s"), .. Many(bulk, () => [Member()])],
            9 => ["SREM", Key("s"), .. Many(bulk, () => [Member()])],
            10 => ["SMOVE", Key("s"), Key("x"), Member()],
            11 => [random.Next(3) switch { 0 => "SINTERSTORE", 1 => "SUNIONSTORE", _ => "SDIFFSTORE" }, Key("x"), Key("s"), Key("y")],
            12 or 13 or 14 => ["ZADD", Key("z"), .. ZaddFlags(random), .. Many(bulk, () => [Score(), Member()])],
            15 => ["ZINCRBY", Key("z"), Number(-3, 4), Member()],
            16 => ["ZREM", Key("z"), .. Many(bulk, () => [Member()])],
            17 => ["ZREMRANGEBYRANK", Key("z"), Number(-20, 20), Number(-20, 20)],
            18 => ["ZREMRANGEBYSCORE", Key("z"), "(" + Number(0, 50), Number(0, 50)],
            19 => [random.Next(2) == 0 ? "ZPOPMIN" : "ZPOPMAX", Key("z"), Number(1, 8)],
            20 => ["ZUNIONSTORE", Key("x"), "2", Key("z"), Key("y"), "WEIGHTS", "2", "1"],
            21 => ["ZRANGESTORE", Key("y"), Key("z"), Number(0, 10), Number(0, 200)],
            22 or 23 or 24 => [random.Next(2) == 0 ? "LPUSH" : "RPUSH", Key("l"), .. Many(bulk, () => [Member()])],
            25 => [random.Next(2) == 0 ? "LPOP" : "RPOP", Key("l"), Number(1, 6)],
            26 => ["LSET", Key("l"), Number(-10, 10), Member()],
            27 => ["LINSERT", Key("l"), random.Next(2) == 0 ? "BEFORE" : "AFTER", Member(), Member()],
            28 => ["LREM", Key("l"), Number(-2, 3), Member()],
            29 => ["LTRIM", Key("l"), Number(0, 4), Number(-4, 0)],
            30 => ["LMOVE", Key("l"), Key("x"), random.Next(2) == 0 ? "LEFT" : "RIGHT", random.Next(2) == 0 ? "LEFT" : "RIGHT"],
            31 => ["RPOPLPUSH", Key("l"), Key("y")],
            32 => ["DEL", Any()],
            33 => ["RENAME", Any(), Any()],
            34 => ["COPY", Any(), Any(), "REPLACE"],
            35 => ["EXPIRE", s_keys[random.Next(s_keys.Length)], "100000"],
            36 => ["PERSIST", s_keys[random.Next(s_keys.Length)]],
            37 => ["HSET", Key("h"), .. Many(40, () => [Member(), s_long])],
            38 => ["SADD", Key("s"), .. Many(40, () => [Number(0, 600)])],
            _ => ["RPUSH", Key("l"), .. Many(40, () => [Member()])],
        };
    }

    private static string[] ZaddFlags(Random random) => random.Next(6) switch
    {
        0 => ["NX"],
        1 => ["XX", "CH"],
        2 => ["GT"],
        3 => ["LT", "CH"],
        _ => [],
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless; a directory never created is fine too.
        }
    }
}
