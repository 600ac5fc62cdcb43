using System.Globalization;
using Durable.Commands.Keys;

namespace Durable.Commands.Server;

/// <summary>
/// The snapshot a primary sends a replica in a full sync: the whole data set as an RDB file of Redis 7.0's version
/// (function libraries, then each database's keys as DUMP payloads, with their expiry), which a Redis replica and
/// Durable's own load alike. The caller holds every stripe shared (<see cref="Storage.KeyLocks.EnterAllSharedAsync"/>),
/// so no write changes the data set while it is written: it is the data set at one offset of the stream.
/// </summary>
internal static class ReplicationSnapshot
{
    private const int ScanBatch = 1000;

    /// <summary>Writes the snapshot to <paramref name="path"/>; returns how many keys it holds.</summary>
    public static long Write(CommandContext context, string path)
    {
        using RdbFileWriter writer = new(path, syncToDisk: false);
        writer.Aux("redis-ver", ServerState.Version);
        writer.Aux("redis-bits", "64");
        writer.Aux("ctime", context.Server.Time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        writer.Aux("aof-base", "0");
        writer.Functions(Scripting.FunctionCommands.DumpPayload(context.Server));
        long written = 0;
        for (int db = 0; db < context.Store.Databases; db++)
        {
            // The keys first (a key the log holds twice, moved by compaction or the read cache, once), then each value.
            KeyCollector keys = new(pattern: null, typeName: null, distinct: true);
            ulong cursor = 0;
            do
            {
                cursor = context.Session.Scan(db, cursor, ScanBatch, keys, reclaimExpired: false);
            }
            while (cursor != 0);

            if (keys.Count == 0)
            {
                continue;
            }

            writer.SelectDatabase(db, keys.Count, 0);
            for (int i = 0; i < keys.Count; i++)
            {
                ReadOnlySpan<byte> key = keys.KeyAt(i);
                if (DumpCommands.DumpPayload(context, db, key, out long expiresAtMs) is { } payload)
                {
                    writer.Key(key, payload, expiresAtMs);
                    written++;
                }

                context.PartBuffers.ReturnAll();
            }
        }

        writer.Complete();
        return written;
    }
}
