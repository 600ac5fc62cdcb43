using System.Globalization;
using Durable.Commands;
using StackExchange.Redis;

namespace Durable.Rdb;

/// <summary>What an export wrote.</summary>
internal sealed record RdbExportReport(long Keys, int Databases, int Libraries, long Vanished)
{
    public override string ToString() =>
        $"exported {Keys} keys of {Databases} databases and {Libraries} function libraries; {Vanished} keys deleted or expired while exported";
}

/// <summary>
/// Writes a running server's keys and function libraries to an RDB file that redis-server loads: SCAN over every
/// database INFO keyspace lists, DUMP and PTTL of each key (an expiry written as the absolute time it falls on), and
/// FUNCTION DUMP. Not a snapshot of one moment: a key written while the export runs may or may not be in the file,
/// as SCAN guarantees only the keys there from its start to its end.
/// </summary>
internal static class RdbExport
{
    private const int Batch = 1000;

    public static async Task<RdbExportReport> RunAsync(string file, RdbServer server, TextWriter log)
    {
        using ConnectionMultiplexer connection = await server.ConnectAsync(log);
        IServer admin = connection.GetServer(server.Host, server.Port);
        using RdbFileWriter writer = new(file);
        writer.Aux("redis-bits", "64");
        writer.Aux("ctime", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        IDatabase first = connection.GetDatabase(0);
        writer.Functions((byte[])(await first.ExecuteAsync("FUNCTION", "DUMP"))!);
        int libraries = ((RedisResult[])(await first.ExecuteAsync("FUNCTION", "LIST"))!).Length;

        long keys = 0;
        long vanished = 0;
        int databases = 0;
        foreach ((int database, long count, long expires) in await KeyspaceAsync(admin))
        {
            databases++;
            writer.SelectDatabase(database, count, expires);
            IDatabase db = connection.GetDatabase(database);
            List<RedisKey> batch = new(Batch);
            await foreach (RedisKey key in admin.KeysAsync(database, pageSize: 1000))
            {
                batch.Add(key);
                if (batch.Count == Batch)
                {
                    (long written, long gone) = await WriteBatchAsync(db, batch, writer);
                    keys += written;
                    vanished += gone;
                }
            }

            (long lastWritten, long lastGone) = await WriteBatchAsync(db, batch, writer);
            keys += lastWritten;
            vanished += lastGone;
            await log.WriteLineAsync($"  db{database}: {count} keys listed by INFO, exported up to now {keys}");
        }

        writer.Complete();
        return new RdbExportReport(keys, databases, libraries, vanished);
    }

    private static async Task<(long Written, long Vanished)> WriteBatchAsync(IDatabase db, List<RedisKey> batch, RdbFileWriter writer)
    {
        // Both sent before either is awaited: one round trip a batch.
        Task<RedisResult[]> dumping = Task.WhenAll(batch.Select(key => db.ExecuteAsync("DUMP", key)).ToList());
        Task<RedisResult[]> ttlsRead = Task.WhenAll(batch.Select(key => db.ExecuteAsync("PTTL", key)).ToList());
        RedisResult[] dumps = await dumping;
        RedisResult[] ttls = await ttlsRead;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long written = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            long ttl = dumps[i].IsNull ? -2 : (long)ttls[i];
            if (ttl == -2)
            {
                continue;
            }

            writer.Key((byte[])batch[i]!, (byte[])dumps[i]!, ttl >= 0 ? now + Math.Max(ttl, 1) : 0);
            written++;
        }

        long vanished = batch.Count - written;
        batch.Clear();
        return (written, vanished);
    }

    /// <summary>The databases that hold keys, from INFO keyspace ("db3:keys=10,expires=2,avg_ttl=0").</summary>
    private static async Task<List<(int Database, long Keys, long Expires)>> KeyspaceAsync(IServer admin)
    {
        List<(int, long, long)> databases = [];
        foreach (KeyValuePair<string, string> line in (await admin.InfoAsync("keyspace")).SelectMany(section => section))
        {
            if (!line.Key.StartsWith("db", StringComparison.Ordinal) || !int.TryParse(line.Key.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int database))
            {
                continue;
            }

            Dictionary<string, long> fields = line.Value.Split(',').Select(field => field.Split('=')).Where(pair => pair.Length == 2)
                .ToDictionary(pair => pair[0], pair => long.TryParse(pair[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0);
            databases.Add((database, fields.GetValueOrDefault("keys"), fields.GetValueOrDefault("expires")));
        }

        return databases;
    }
}
