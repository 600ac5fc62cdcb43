using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// ROLE and WAIT, answered as a Redis master without replicas answers them: Durable has no replication (its durability
/// is the write-ahead log; WAITAOF waits for that).
/// </summary>
internal static class ReplicationCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("ROLE", 1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Role, categories: ["admin", "fast", "dangerous"]);
        table.Add("WAIT", 3, CommandFlags.NoScript, Wait, categories: ["slow", "connection"]);
    }

    // The role, the replication offset (INFO master_repl_offset) and the replicas: none.
    private static void Role(CommandContext context, RespArgs args)
    {
        context.WriteArrayHeader(3);
        context.WriteBulk("master"u8);
        context.WriteInteger(0);
        context.WriteArrayHeader(0);
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
}
