using System.Buffers;
using System.Globalization;
using Durable.Commands.Keys;
using Durable.Storage;

namespace Durable.Commands.Server;

/// <summary>
/// The snapshot a primary sends a replica in a full sync: the whole data set as an RDB file of Redis 7.0's version
/// (function libraries, then each database's keys with their values and expiry), which a Redis replica and Durable's
/// own load alike. The caller holds every stripe shared (<see cref="KeyLocks.EnterAllSharedAsync"/>) and the records in
/// place (<see cref="IStore.HoldRecordsInPlaceAsync"/>), so no write changes the data set while it is written (it is
/// the data set at one offset of the stream) and each key's live record is where the walks find it once. Each database is walked in log order, each live record's value read with
/// the check that it is live (no second read per key); with records on disk the log is split among several walks on
/// sessions of their own, so that their disk reads overlap, each into a part file, and the parts are joined.
/// </summary>
internal static class ReplicationSnapshot
{
    private const int ScanBatch = 1000;

    // Walks at once over a log with records on disk: each waits for the disk once per record it checks.
    private const int ColdWalks = 16;

    private const int EntryBufferBytes = 1 << 20;

    /// <summary>Writes the snapshot to <paramref name="path"/>; returns how many keys it holds. Stops (throws) once <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task<long> WriteAsync(CommandContext context, string path, CancellationToken cancellationToken)
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
            if (context.Store.KeyCount(db) == 0)
            {
                continue;
            }

            writer.SelectDatabase(db, context.Store.KeyCount(db), context.Store.ExpiringKeyCount(db));
            written += context.Store.HasColdRecords
                ? await WriteInPartsAsync(context, writer, db, path, cancellationToken)
                : Walk(context, db, 0, writer.Raw, cancellationToken);
        }

        writer.Complete();
        return written;
    }

    // One walk per part of the log, each on its own thread and session, into its own file; then the files in order.
    private static async Task<long> WriteInPartsAsync(CommandContext context, RdbFileWriter writer, int db, string path, CancellationToken cancellationToken)
    {
        IReadOnlyList<ulong> parts = context.Session.ScanPartitions(ColdWalks);
        string[] files = [.. Enumerable.Range(0, parts.Count).Select(i => $"{path}.part{i}")];
        try
        {
            Task<long>[] walks = new Task<long>[parts.Count];
            for (int i = 0; i < parts.Count; i++)
            {
                int part = i;
                walks[part] = Task.Factory.StartNew(
                    () =>
                    {
                        CommandContext walker = new(context.Server, context.Client);
                        try
                        {
                            using FileStream file = new(files[part], FileMode.Create, FileAccess.Write, FileShare.None, EntryBufferBytes);
                            return Walk(walker, db, parts[part], file.Write, cancellationToken);
                        }
                        finally
                        {
                            walker.OpenedSession?.Dispose();
                        }
                    },
                    cancellationToken,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default);
            }

            // Every walk ends (each stops at once once the replica has gone) before its files go.
            long[] counts = await Task.WhenAll(walks);
            byte[] chunk = new byte[EntryBufferBytes];
            foreach (string file in files)
            {
                using FileStream part = new(file, FileMode.Open, FileAccess.Read, FileShare.None, EntryBufferBytes, FileOptions.SequentialScan);
                for (int read; (read = part.Read(chunk)) > 0;)
                {
                    writer.Raw(chunk.AsSpan(0, read));
                }
            }

            return counts.Sum();
        }
        finally
        {
            foreach (string file in files)
            {
                File.Delete(file);
            }
        }
    }

    // Walks the log from cursor (0: all of it) with the context's session; entries go to sink a megabyte at a time.
    private static long Walk(CommandContext context, int db, ulong cursor, Action<ReadOnlySpan<byte>> sink, CancellationToken cancellationToken)
    {
        KeyWriter keys = new(context, sink);
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            cursor = context.Session.Scan(db, cursor, ScanBatch, keys, reclaimExpired: false);
        }
        while (cursor != 0);

        keys.Flush();
        return keys.Written;
    }

    /// <summary>Writes each key a walk shows as the file's entry (<see cref="RdbFileWriter.WriteKey"/>).</summary>
    private sealed class KeyWriter(CommandContext context, Action<ReadOnlySpan<byte>> sink) : IKeyVisitor
    {
        private readonly ArrayBufferWriter<byte> _value = new(4096);
        private readonly ArrayBufferWriter<byte> _entries = new(EntryBufferBytes + 4096);

        public ArrayBufferWriter<byte> Values { get; } = new(4096);

        public long Written { get; private set; }

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record)
        {
            _value.ResetWrittenCount();
            DumpCommands.WriteValue(context, record, Values.WrittenSpan, _value);
            RdbFileWriter.WriteKey(_entries, key, _value.WrittenSpan, record.ExpiresAtMs);
            context.PartBuffers.ReturnAll();
            Written++;
            if (_entries.WrittenCount >= EntryBufferBytes)
            {
                Flush();
            }
        }

        public void Flush()
        {
            sink(_entries.WrittenSpan);
            _entries.ResetWrittenCount();
        }
    }
}
