using System.Globalization;
using System.Text;
using Durable.Testing;
using StackExchange.Redis;

namespace Durable.Server.Tests;

/// <summary>A data set of every type and encoding, and a text of a server's whole data set to compare two servers by.</summary>
internal static class DataSets
{
    private static readonly int[] s_databases = [0, 2];

    /// <summary>Keys of every type in the encodings Redis picks by size (and an expiry, a second database, a function library).</summary>
    public static void PopulateEveryType(RespTestClient client)
    {
        client.Call("SET", "string", "hello");
        client.Call("SET", "integer", "12345");
        client.Call("SET", "negative", "-7");
        client.Call("SET", "compressible", new string('a', 10_000));
        client.Call("SET", "expiring", "soon", "EX", "36000");
        client.Call("RPUSH", "small-list", "a", "b", "3");
        client.Call("RPUSH", "list-with-a-long-element", "short", new string('x', 9_000), "end");
        client.Call("SADD", "intset", "1", "2", "-5", "100000");
        client.Call("SADD", "small-set", "a", "b");
        client.Call("HSET", "small-hash", "a", "1", "b", "two");
        client.Call("HSET", "hash-with-a-long-value", "a", new string('v', 100));
        client.Call("ZADD", "small-zset", "1", "a", "2.5", "b", "-inf", "c");
        for (int i = 0; i < 600; i++)
        {
            string n = i.ToString("D4", CultureInfo.InvariantCulture);
            client.Call("RPUSH", "long-list", "element-" + n);
            client.Call("SADD", "large-set", "member-" + n);
            client.Call("HSET", "large-hash", "field-" + n, "value-" + n);
            client.Call("ZADD", "large-zset", (i * 0.5).ToString(CultureInfo.InvariantCulture), "member-" + n);
        }

        client.Call("ZADD", "large-zset", "inf", "top");

        // Past the reader's 64 KiB buffer: a value that does not compress, and many keys across its refills.
        Random random = new(5);
        client.Call("SET", "incompressible", new string([.. Enumerable.Range(0, 150_000).Select(_ => (char)random.Next(33, 127))]));
        for (int batch = 0; batch < 15; batch++)
        {
            client.Call([
                "MSET",
                .. Enumerable.Range(batch * 100, 100).SelectMany(i => new[] { "key-" + i.ToString("D4", CultureInfo.InvariantCulture), "value-" + i }),
            ]);
        }

        // A stream of three nodes with a deleted entry, and a consumer group with pending entries of two consumers.
        for (int i = 1; i <= 250; i++)
        {
            client.Call("XADD", "events", i.ToString(CultureInfo.InvariantCulture) + "-1", "field", "value-" + i, "n", i.ToString(CultureInfo.InvariantCulture));
        }

        client.Call("XDEL", "events", "7-1");
        client.Call("XGROUP", "CREATE", "events", "workers", "0");
        client.Call("XREADGROUP", "GROUP", "workers", "w1", "COUNT", "20", "STREAMS", "events", ">");
        client.Call("XREADGROUP", "GROUP", "workers", "w2", "COUNT", "5", "STREAMS", "events", ">");
        client.Call("XACK", "events", "workers", "3-1");
        client.Call("EXPIRE", "large-hash", "72000");
        client.Call("SELECT", "2");
        client.Call("SET", "in-database-2", "value");
        client.Call("SELECT", "0");
        client.Call("FUNCTION", "LOAD", "#!lua name=library\nredis.register_function('one', function() return 1 end)");
    }

    /// <summary>Every key of databases 0 and 2 with its type, value (members sorted where the order is the server's own) and expiry in minutes, and the function libraries.</summary>
    public static async Task<string> SnapshotAsync(int port)
    {
        using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true");
        IServer server = connection.GetServer("127.0.0.1", port);
        StringBuilder text = new();
        foreach (int database in s_databases)
        {
            IDatabase db = connection.GetDatabase(database);
            List<string> keys = [];
            await foreach (RedisKey key in server.KeysAsync(database))
            {
                keys.Add((string)key!);
            }

            foreach (string key in keys.Order(StringComparer.Ordinal))
            {
                RedisType type = await db.KeyTypeAsync(key);
                string value = type switch
                {
                    RedisType.String => (string)(await db.StringGetAsync(key))!,
                    RedisType.List => string.Join(',', await db.ListRangeAsync(key)),
                    RedisType.Set => string.Join(',', (await db.SetMembersAsync(key)).Select(member => (string)member!).Order(StringComparer.Ordinal)),
                    RedisType.Hash => string.Join(',', (await db.HashGetAllAsync(key)).Select(entry => $"{entry.Name}={entry.Value}").Order(StringComparer.Ordinal)),
                    RedisType.SortedSet => string.Join(',', (await db.SortedSetRangeByRankWithScoresAsync(key)).Select(entry => $"{entry.Element}={entry.Score.ToString(CultureInfo.InvariantCulture)}")),
                    RedisType.Stream => Flatten(await db.ExecuteAsync("XINFO", "STREAM", key, "FULL", "COUNT", "0")),
                    _ => "unexpected type",
                };
                TimeSpan? ttl = await db.KeyTimeToLiveAsync(key);
                // In whole hours, rounded up: the two servers are read seconds apart, and the data sets' TTLs (20 h,
                // 83 min) stay in their hour for many minutes (rounding minutes flipped when a run took 30 s).
                text.Append(CultureInfo.InvariantCulture, $"{database} {key} {type} ttl={(ttl is { } t ? Math.Ceiling(t.TotalHours) : -1)}h {value}\n");
            }
        }

        RedisResult[] libraries = (RedisResult[])(await connection.GetDatabase().ExecuteAsync("FUNCTION", "LIST"))!;
        text.Append(CultureInfo.InvariantCulture, $"libraries: {libraries.Length}\n");
        return text.ToString();
    }

    // A reply as text; XINFO STREAM's radix-tree-nodes, which Durable only estimates, left out.
    private static string Flatten(RedisResult result)
    {
        if (result.Resp2Type != ResultType.Array)
        {
            return result.IsNull ? "(nil)" : result.ToString();
        }

        RedisResult[] items = (RedisResult[])result!;
        StringBuilder text = new("[");
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i].Resp2Type == ResultType.BulkString && items[i].ToString() == "radix-tree-nodes")
            {
                i++;
                continue;
            }

            text.Append(Flatten(items[i])).Append(' ');
        }

        return text.Append(']').ToString();
    }
}
