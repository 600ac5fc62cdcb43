using Durable.Protocol;
using Microsoft.Extensions.Logging;

namespace Durable.Commands.Server;

/// <summary>
/// REPLICAOF (and its old name SLAVEOF), ROLE and WAIT. Durable follows a Redis primary as a replica
/// (<see cref="ReplicationState"/>); it has no replicas of its own, so as a primary it answers ROLE and WAIT as a Redis
/// primary without replicas (its durability is the write-ahead log; WAITAOF waits for that).
/// </summary>
internal static partial class ReplicationCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("ROLE", 1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Role, categories: ["admin", "fast", "dangerous"]);
        table.Add("WAIT", 3, CommandFlags.NoScript, Wait, categories: ["slow", "connection"]);
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

    // A primary: the role, its offset (INFO master_repl_offset) and its replicas (none). A replica: the role, its
    // primary, its link's state and the offset it applied (-1 before its first sync).
    private static void Role(CommandContext context, RespArgs args)
    {
        ReplicationState replication = context.Server.Replication;
        if (replication.MasterHost is not { } host)
        {
            context.WriteArrayHeader(3);
            context.WriteBulk("master"u8);
            context.WriteInteger(0);
            context.WriteArrayHeader(0);
            return;
        }

        context.WriteArrayHeader(5);
        context.WriteBulk("slave"u8);
        context.WriteBulk(host);
        context.WriteInteger(replication.MasterPort);
        context.WriteBulk(replication.LinkState.ToString().ToLowerInvariant());
        context.WriteInteger(replication.MasterReplicationId is null ? -1 : replication.Offset);
    }

    // WAIT numreplicas timeout: how many replicas acknowledged this client's writes, which is 0. Redis replies at once
    // when that is enough (numreplicas 0 or less) or inside MULTI, and otherwise blocks until the timeout (0: for ever);
    // Durable waits a timeout out as Redis does, and with 0 replies at once, as WAITAOF does: no replica will ever come.
    private static void Wait(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[1], out long replicas))
        {
            context.WriteNotInteger();
            return;
        }

        if (!context.TryReadTimeoutMilliseconds(args[2], out long timeout))
        {
            return;
        }

        if (replicas <= 0 || timeout == 0 || context.Client.Transaction.Active)
        {
            context.WriteInteger(0);
            return;
        }

        context.DeferredReply = async (reply, cancellationToken) =>
        {
            await TimedWaits.DelayAsync(timeout, context.Server.Time, cancellationToken);
            RespWriter.WriteInteger(reply, 0);
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 60, Level = LogLevel.Warning, Message = "REPLICAOF {Host} {Port} (from {Client}): following that primary, read-only for clients (replica-read-only)")]
        public static partial void Following(ILogger logger, string host, int port, string client);

        [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "REPLICAOF NO ONE (from {Client}): a primary again, taking writes; the data set stays as the primary's stream left it")]
        public static partial void PrimaryAgain(ILogger logger, string client);
    }
}
