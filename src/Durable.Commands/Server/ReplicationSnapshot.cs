using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using Durable.Commands.Keys;
using Durable.Storage;

namespace Durable.Commands.Server;

/// <summary>
/// The snapshot a primary sends a replica in a full sync: the whole data set as an RDB file of Redis 7.0's version
/// (function libraries, then each database's keys with their values and expiry), which a Redis replica and Durable's
/// own load alike. The caller holds every stripe shared (<see cref="KeyLocks.EnterAllSharedAsync"/>), so no write
/// changes the data set while it is written: it is the data set at one offset of the stream. Each database is one walk
/// of the log, which reads every live record's value as it finds it (no second read per key).
/// </summary>
internal static class ReplicationSnapshot
{
    private const int ScanBatch = 1000;

    /// <summary>Writes the snapshot to <paramref name="path"/>; returns how many keys it holds. Stops (throws) once <paramref name="cancellationToken"/> is cancelled.</summary>
    public static long Write(CommandContext context, string path, CancellationToken cancellationToken)
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
            long keys = context.Store.KeyCount(db);
            if (keys == 0)
            {
                continue;
            }

            writer.SelectDatabase(db, keys, context.Store.ExpiringKeyCount(db));
            KeyWriter visitor = new(context, writer);
            ulong cursor = 0;
            do
            {
                cancellationToken.ThrowIfCancellationRequested();
                cursor = context.Session.Scan(db, cursor, ScanBatch, visitor, reclaimExpired: false);
            }
            while (cursor != 0);

            written += visitor.Written;
        }

        writer.Complete();
        return written;
    }

    /// <summary>
    /// Writes each key the walk finds live, once: a record the log holds twice (moved to its tail by a compaction or the
    /// read cache during the walk) is recognised by its key's 128-bit hash.
    /// </summary>
    private sealed class KeyWriter(CommandContext context, RdbFileWriter writer) : IKeyVisitor
    {
        private readonly HashSet<UInt128> _seen = [];
        private readonly ArrayBufferWriter<byte> _value = new(4096);

        public ArrayBufferWriter<byte> Values { get; } = new(4096);

        public long Written { get; private set; }

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record)
        {
            if (!_seen.Add(XxHash128.HashToUInt128(key)))
            {
                return;
            }

            _value.ResetWrittenCount();
            DumpCommands.WriteValue(context, record, Values.WrittenSpan, _value);
            writer.KeyValue(key, _value.WrittenSpan, record.ExpiresAtMs);
            context.PartBuffers.ReturnAll();
            Written++;
        }
    }
}
