using Durable.Protocol;
using Microsoft.Extensions.Logging;

namespace Durable.Commands.Server;

/// <summary>
/// REPLICAOF (and its old name SLAVEOF), ROLE and WAIT; and the primary's side of replication: SYNC, PSYNC and
/// REPLCONF. Durable follows a Redis (or Durable) primary as a replica (<see cref="ReplicationState"/>), and serves
/// replicas of its own: a full sync sends a snapshot of the data set (<see cref="ReplicationSnapshot"/>), then the
/// stream of its changes (<see cref="ReplicationFeed"/>); a replica that lost its link resumes from the backlog.
/// </summary>
internal static partial class ReplicationCommands
{
    private const int SnapshotChunkBytes = 64 << 10;

    public static void Register(CommandTable table)
    {
        table.Add("ROLE", 1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Role, categories: ["admin", "fast", "dangerous"]);
        table.Add("WAIT", 3, CommandFlags.NoScript, Wait, categories: ["slow", "connection"]);
        const CommandFlags SyncFlags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading | CommandFlags.NoMulti;
        table.Add("SYNC", 1, SyncFlags, Sync, categories: ["admin", "slow", "dangerous"]);
        table.Add("PSYNC", -3, SyncFlags, Sync, categories: ["admin", "slow", "dangerous"]);
        table.Add(
            "REPLCONF", -1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.AllowBusy,
            ReplConf, categories: ["admin", "slow", "dangerous"]);
        foreach (string name in new[] { "REPLICAOF", "SLAVEOF" })
        {
            table.Add(name, 3, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Stale | CommandFlags.NoAsyncLoading, ReplicaOf, categories: ["admin", "slow", "dangerous"]);
        }
    }

    // Redis's replicaofCommand: NO ONE makes a primary (its data stays); host port follows that primary, unless it is
    // the one followed already.
    private static void ReplicaOf(CommandContext context, RespArgs args)
    {
        ReplicationState replication = context.Server.Replication;
        if (AsciiCase.EqualsIgnoreCase(args[1], "no"u8) && AsciiCase.EqualsIgnoreCase(args[2], "one"u8))
        {
            if (replication.IsReplica)
            {
                replication.StopFollowing();
                Log.PrimaryAgain(context.Server.Logger, context.Client.Address);
            }

            context.WriteOk();
            return;
        }

        if (!RedisNumber.TryParseInt64(args[2], out long port) || port is < 0 or > 65535)
        {
            context.WriteError("ERR Invalid master port"u8);
            return;
        }

        if (replication.Follow is null)
        {
            context.WriteError("ERR this server has no network layer to follow a primary with"u8);
            return;
        }

        string host = System.Text.Encoding.UTF8.GetString(args[1]);
        if (!replication.TryFollow(host, (int)port))
        {
            context.WriteSimple("OK Already connected to specified master"u8);
            return;
        }

        Log.Following(context.Server.Logger, host, (int)port, context.Client.Address);
        context.WriteOk();
    }

    // Redis syncCommand: PSYNC replid offset resumes from the backlog when it holds that offset of this server's stream
    // (+CONTINUE); otherwise, and for SYNC, a full sync: +FULLRESYNC replid offset (PSYNC only), then the snapshot as
    // "$length" and its bytes, then the stream from that offset. A replica's second SYNC is ignored, as in Redis.
    private static void Sync(CommandContext context, RespArgs args)
    {
        ClientState client = context.Client;
        ServerState server = context.Server;
        if (client.IsReplica)
        {
            return;
        }

        if (server.Replication.IsReplica && server.Replication.LinkState != ReplicaLinkState.Connected)
        {
            context.WriteError("NOMASTERLINK Can't SYNC while not connected with my master"u8);
            return;
        }

        bool psync = args.Is(0, "PSYNC"u8);
        long requested = 0;
        if (psync && !RedisNumber.TryParseInt64(args[2], out requested))
        {
            context.WriteNotInteger();
            return;
        }

        ReplicationFeed feed = server.ReplicationFeed;
        feed.SizeBacklog(server.Config.ReplBacklogSize);
        feed.StartPinging(server);
        long now = context.NowMs;
        if (psync && args[1].SequenceEqual(System.Text.Encoding.ASCII.GetBytes(feed.ReplicationId))
            && feed.TryAttach(client, requested, server.Config.ReplicaOutputBufferLimit, now, out AttachedReplica resumed))
        {
            client.IsReplica = true;
            resumed.State = "online";
            Interlocked.Increment(ref feed.PartialSyncsAccepted);
            Log.PartialResync(server.Logger, client.Address, requested);
            context.WriteSimple(System.Text.Encoding.ASCII.GetBytes("CONTINUE " + feed.ReplicationId));
            return;
        }

        if (psync && args[1] is not [(byte)'?', ..])
        {
            Interlocked.Increment(ref feed.PartialSyncsRefused);
        }

        Interlocked.Increment(ref feed.FullSyncs);
        client.IsReplica = true;
        context.DeferredReply = (output, cancellationToken) => new ValueTask(FullSyncAsync(context, psync, output, cancellationToken));
    }

    // Off the socket threads: with every stripe held shared (reads go on, writes wait), the replica is attached at the end
    // of the stream and the snapshot written to a file of the data directory; then, with writes flowing again, it is sent.
    private static async Task FullSyncAsync(CommandContext context, bool psync, System.Buffers.IBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        ServerState server = context.Server;
        ClientState client = context.Client;
        ReplicationFeed feed = server.ReplicationFeed;
        string path = Path.Combine(server.Config.Directory, $"temp-sync-{client.Id}.rdb");
        Storage.KeyLocks locks = context.Store.Locks;
        await Task.Yield();
        long offset;
        long keys;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        AttachedReplica replica;

        // Records in place first (a compaction under way ends: it may wait for a stripe), then every write held.
        IDisposable inPlace = await context.Store.HoldRecordsInPlaceAsync(cancellationToken);
        try
        {
            await locks.EnterAllSharedAsync(cancellationToken);
        }
        catch
        {
            inPlace.Dispose();
            throw;
        }

        try
        {
            offset = feed.AttachAtEnd(client, context.NowMs, out replica);
            if (psync)
            {
                RespWriter.WriteSimpleString(output, System.Text.Encoding.ASCII.GetBytes($"FULLRESYNC {feed.ReplicationId} {offset}"));
            }

            // Redis sends a newline every second to a replica waiting for its snapshot, which keeps its link from timing out.
            Task<long> writing = Task.Run(() => ReplicationSnapshot.WriteAsync(context, path, cancellationToken), CancellationToken.None);
            try
            {
                while (await Task.WhenAny(writing, Task.Delay(TimeSpan.FromSeconds(1), server.Time, CancellationToken.None)) != writing)
                {
                    await KeepAliveAsync(output, cancellationToken);
                }
            }
            finally
            {
                // The walk reads with this connection's session: it ends (at once, once the replica has gone) before the
                // connection may close it, and before the stripes go.
                await ((Task)writing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            keys = await writing;
        }
        finally
        {
            locks.ExitAllShared();
            inPlace.Dispose();
        }

        try
        {
            replica.State = "send_bulk";
            long length = new FileInfo(path).Length;
            long heldMs = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Log.SnapshotWritten(server.Logger, client.Address, keys, length, heldMs, offset);
            RespWriter.WriteRaw(output, System.Text.Encoding.ASCII.GetBytes($"${length}\r\n"));
            await using FileStream snapshot = new(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, SnapshotChunkBytes, FileOptions.SequentialScan);
            while (true)
            {
                Memory<byte> chunk = output.GetMemory(SnapshotChunkBytes);
                int read = await snapshot.ReadAsync(chunk, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                output.Advance(read);
                if (output is System.IO.Pipelines.PipeWriter pipe)
                {
                    await pipe.FlushAsync(cancellationToken);
                }
            }

            replica.State = "online";
            if (client.ReplicaWantsSnapshotOnly)
            {
                // REPLCONF rdb-only 1 (redis-cli --rdb): the snapshot is all it wanted, so no stream follows it.
                feed.Detach(client);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async ValueTask KeepAliveAsync(System.Buffers.IBufferWriter<byte> output, CancellationToken cancellationToken)
    {
        RespWriter.WriteRaw(output, "\n"u8);
        if (output is System.IO.Pipelines.PipeWriter pipe)
        {
            await pipe.FlushAsync(cancellationToken);
        }
    }

    // Redis replconfCommand: option-value pairs; ACK (from a replica of this server) records its offset and replies
    // nothing, as does GETACK (which only a primary sends to its replicas).
    private static void ReplConf(CommandContext context, RespArgs args)
    {
        if (args.Count % 2 == 0)
        {
            context.WriteSyntaxError();
            return;
        }

        for (int i = 1; i < args.Count; i += 2)
        {
            ReadOnlySpan<byte> value = args[i + 1];
            if (args.Is(i, "listening-port"u8))
            {
                if (!RedisNumber.TryParseInt64(value, out long port))
                {
                    context.WriteNotInteger();
                    return;
                }

                context.Client.ReplicaListeningPort = (int)port;
            }
            else if (args.Is(i, "ip-address"u8))
            {
                if (value.Length >= 256)
                {
                    context.WriteError($"ERR REPLCONF ip-address provided by replica instance is too long: {value.Length} bytes");
                    return;
                }

                context.Client.ReplicaAddress = System.Text.Encoding.Latin1.GetString(value);
            }
            else if (args.Is(i, "capa"u8))
            {
                // Capabilities are accepted and ignored: the snapshot always goes with its length (no EOF marker), and
                // PSYNC always answers with the replication ID (psync2).
            }
            else if (args.Is(i, "ack"u8))
            {
                if (context.Client.IsReplica && RedisNumber.TryParseInt64(value, out long offset))
                {
                    context.Server.ReplicationFeed.Acknowledged(context.Client, offset, context.NowMs);
                }

                return;
            }
            else if (args.Is(i, "getack"u8))
            {
                return;
            }
            else if (args.Is(i, "rdb-only"u8))
            {
                if (!RedisNumber.TryParseInt64(value, out long only))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (only is < 0 or > 1)
                {
                    context.WriteError("ERR value is out of range, value must between 0 and 1"u8);
                    return;
                }

                context.Client.ReplicaWantsSnapshotOnly = only == 1;
            }
            else if (args.Is(i, "rdb-filter-only"u8))
            {
                context.WriteError("ERR REPLCONF rdb-filter-only is not supported by Durable: its replicas get the whole snapshot"u8);
                return;
            }
            else
            {
                context.WriteError($"ERR Unrecognized REPLCONF option: {System.Text.Encoding.Latin1.GetString(args[i])}");
                return;
            }
        }

        context.WriteOk();
    }

    // A primary: the role, its offset (INFO master_repl_offset) and its replicas (address, port, acknowledged offset).
    // A replica: the role, its primary, its link's state and the offset it applied (-1 before its first sync).
    private static void Role(CommandContext context, RespArgs args)
    {
        ReplicationState replication = context.Server.Replication;
        if (replication.MasterHost is not { } host)
        {
            ReplicationFeed feed = context.Server.ReplicationFeed;
            IReadOnlyList<AttachedReplica> replicas = feed.Replicas;
            context.WriteArrayHeader(3);
            context.WriteBulk("master"u8);
            context.WriteInteger(feed.Offset);
            context.WriteArrayHeader(replicas.Count);
            foreach (AttachedReplica replica in replicas)
            {
                context.WriteArrayHeader(3);
                context.WriteBulk(ReplicaAddress(replica.Client));
                context.WriteBulk(replica.Client.ReplicaListeningPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
                context.WriteBulk(Interlocked.Read(ref replica.AckOffset).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            return;
        }

        context.WriteArrayHeader(5);
        context.WriteBulk("slave"u8);
        context.WriteBulk(host);
        context.WriteInteger(replication.MasterPort);
        context.WriteBulk(replication.LinkState.ToString().ToLowerInvariant());
        context.WriteInteger(replication.MasterReplicationId is null ? -1 : replication.Offset);
    }

    /// <summary>The address a replica is known by: the one it announced (REPLCONF ip-address), else its connection's.</summary>
    internal static string ReplicaAddress(ClientState client) =>
        client.ReplicaAddress ?? client.Address[..Math.Max(0, client.Address.LastIndexOf(':'))];

    // Redis waitCommand: how many replicas acknowledged this client's last change. Enough already, or inside MULTI:
    // at once. Otherwise the replicas are asked for an acknowledgement (REPLCONF GETACK, in the stream), and the reply
    // waits until enough have acknowledged or the timeout (0: for ever) passes.
    private static void Wait(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[1], out long wanted))
        {
            context.WriteNotInteger();
            return;
        }

        if (!context.TryReadTimeoutMilliseconds(args[2], out long timeout))
        {
            return;
        }

        ReplicationFeed feed = context.Server.ReplicationFeed;
        long offset = context.Client.ReplicationOffset;
        int acknowledged = feed.CountAcknowledged(offset);
        if (acknowledged >= wanted || context.Client.Transaction.Active)
        {
            context.WriteInteger(acknowledged);
            return;
        }

        feed.AskForAcknowledgements(context.Server.Config.ReplicaOutputBufferLimit, context.NowMs);
        context.DeferredReply = async (reply, cancellationToken) =>
        {
            int count = await feed.WaitForAcknowledgementsAsync(offset, wanted, timeout, context.Server.Time, cancellationToken);
            RespWriter.WriteInteger(reply, count);
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 60, Level = LogLevel.Warning, Message = "REPLICAOF {Host} {Port} (from {Client}): following that primary, read-only for clients (replica-read-only)")]
        public static partial void Following(ILogger logger, string host, int port, string client);

        [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "REPLICAOF NO ONE (from {Client}): a primary again, taking writes; the data set stays as the primary's stream left it")]
        public static partial void PrimaryAgain(ILogger logger, string client);

        [LoggerMessage(EventId = 69, Level = LogLevel.Information, Message = "Replica {Client}: snapshot for its full sync written ({Keys} keys, {Bytes} bytes, writes held for {Milliseconds} ms), sending it; its stream starts at offset {Offset}")]
        public static partial void SnapshotWritten(ILogger logger, string client, long keys, long bytes, long milliseconds, long offset);

        [LoggerMessage(EventId = 70, Level = LogLevel.Information, Message = "Replica {Client}: partial resync accepted, sending the backlog from offset {Offset}")]
        public static partial void PartialResync(ILogger logger, string client, long offset);
    }
}
