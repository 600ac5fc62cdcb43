using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// How a call's changes reach the replication stream (<see cref="ReplicationFeed"/>), as Redis's call() and
/// propagatePendingCommands: after each command that changed the data set (it logged records) the dispatcher collects
/// the command as its client sent it, or what its handler asked for instead (<see cref="CommandContext.PropagateAs"/>);
/// at the end of the call, while its stripes are still held, what was collected is appended in one piece, so that the
/// stream has each key's changes in the order they were made. EXEC and scripts collect their commands one by one.
/// Costs one volatile read per command while no replica has ever asked for a sync.
/// </summary>
internal static class Propagation
{
    /// <summary>
    /// After a command ran (on its own, in an EXEC or in a script): collects the change it made, if any.
    /// <paramref name="loggedBefore"/> and <paramref name="expiredBefore"/>: the session's logged records and expired
    /// reads when it started.
    /// </summary>
    public static void Collect(CommandContext context, RespArgs args, int loggedBefore, int expiredBefore)
    {
        (List<byte[][]>? rewritten, bool always, bool collectedItsCommands) = TakeRequests(context);
        if (!context.Server.ReplicationFeed.Active || collectedItsCommands)
        {
            return;
        }

        bool changed = always || (context.OpenedSession?.LoggedRecords ?? loggedBefore) != loggedBefore;
        if (rewritten is not null)
        {
            Add(context, rewritten, changed, expiredBefore);
        }
        else if (changed)
        {
            AddExpiredReads(context, expiredBefore);
            context.Propagated.Add(new PropagatedCommand(context.Db, Copy(args)));
        }
    }

    // What the command's handler asked for, cleared for the next command.
    private static (List<byte[][]>? Rewritten, bool Always, bool CollectedItsCommands) TakeRequests(CommandContext context)
    {
        (List<byte[][]>?, bool, bool) requests = (context.Rewritten, context.PropagateAlways, context.PropagatedItsCommands);
        context.Rewritten = null;
        context.PropagateAlways = false;
        context.PropagatedItsCommands = false;
        return requests;
    }

    // A handler's commands count only when it changed something (a rewrite asked for before a refusal is dropped).
    private static void Add(CommandContext context, List<byte[][]> commands, bool changed, int expiredBefore)
    {
        if (changed)
        {
            AddExpiredReads(context, expiredBefore);
            foreach (byte[][] command in commands)
            {
                context.Propagated.Add(new PropagatedCommand(context.Db, command));
            }
        }
    }

    // Keys the command read and found expired: replicas delete them first, as Redis's lookup deletes an expired key and
    // propagates the DEL before the command that looked it up (a Redis replica keeps such a key for its primary's
    // commands, so a write that read it as missing here would read it as present there). The store deletes them after
    // the command, which sends a second DEL, harmless.
    private static void AddExpiredReads(CommandContext context, int expiredBefore)
    {
        if (context.OpenedSession is not { } session)
        {
            return;
        }

        for (int i = expiredBefore; i < session.ExpiredReadCount; i++)
        {
            byte[] key = session.ExpiredRead(i, out int db);
            if (db >= 0)
            {
                context.Propagated.Add(new PropagatedCommand(db, [DeleteCommand(context.Server.Config.LazyfreeLazyExpire), key]));
            }
        }
    }

    /// <summary>After a body without arguments of its own ran (a blocked command served): collects what it asked replicas to run.</summary>
    public static void CollectRewritten(CommandContext context, int expiredBefore)
    {
        (List<byte[][]>? rewritten, _, _) = TakeRequests(context);
        if (rewritten is not null && context.Server.ReplicationFeed.Active)
        {
            Add(context, rewritten, context.OpenedSession is { LoggedRecords: > 0 }, expiredBefore);
        }
    }

    /// <summary>At the end of a call, under its stripes: what it collected goes to the stream (and the client's offset, for WAIT, moves past it).</summary>
    public static void Flush(CommandContext context)
    {
        List<PropagatedCommand> propagated = context.Propagated;
        if (propagated.Count == 0)
        {
            return;
        }

        try
        {
            ServerState server = context.Server;
            context.Client.ReplicationOffset = server.ReplicationFeed.Append(propagated, server.Config.ReplicaOutputBufferLimit, context.NowMs);
        }
        finally
        {
            propagated.Clear();
        }
    }

    /// <summary>
    /// Ends a call that runs as a deferred reply holding its own stripes (MIGRATE): what its handler asked replicas to run
    /// goes to the stream, and its writes to the WAL, before it lets its stripes go.
    /// </summary>
    public static void EndCall(CommandContext context)
    {
        CollectRewritten(context, expiredBefore: 0);
        Flush(context);
        context.OpenedSession?.CompleteCommand();
    }

    /// <summary>A key the store expired (the expiry cycle, a read or a write that found it expired): replicas delete it, as Redis's propagateDeletedKey.</summary>
    public static void Expired(ServerState server, int db, ReadOnlySpan<byte> key)
    {
        ReplicationFeed feed = server.ReplicationFeed;
        if (!feed.Active)
        {
            return;
        }

        feed.Append([new PropagatedCommand(db, [DeleteCommand(server.Config.LazyfreeLazyExpire), key.ToArray()])], server.Config.ReplicaOutputBufferLimit, server.Time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>How replicas delete a key Redis's way: UNLINK when the lazyfree setting in play says so, DEL otherwise.</summary>
    public static byte[] DeleteCommand(bool lazy) => lazy ? "UNLINK"u8.ToArray() : "DEL"u8.ToArray();

    /// <summary>A number as a command argument.</summary>
    public static byte[] Number(long value) => System.Text.Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The arguments as arrays, to keep past the command.</summary>
    public static byte[][] Copy(RespArgs args)
    {
        byte[][] copy = new byte[args.Count][];
        for (int i = 0; i < copy.Length; i++)
        {
            copy[i] = args[i].ToArray();
        }

        return copy;
    }
}
