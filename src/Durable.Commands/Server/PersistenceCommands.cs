using System.Buffers;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// Persistence commands: SAVE, BGSAVE, LASTSAVE (checkpoints stand in for RDB), BGREWRITEAOF (a checkpoint, after
/// which the write-ahead log before it is deleted, as a rewrite shrinks Redis's AOF) and WAITAOF.
/// </summary>
internal static class PersistenceCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("SAVE", 1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading | CommandFlags.NoMulti, Save, categories: ["admin", "slow", "dangerous"]);
        table.Add("BGSAVE", -1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading, BgSave, categories: ["admin", "slow", "dangerous"]);
        table.Add("BGREWRITEAOF", 1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading, BgRewriteAof, categories: ["admin", "slow", "dangerous"]);
        table.Add("LASTSAVE", 1, CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, LastSave, categories: ["admin", "fast", "dangerous"]);
        table.Add("WAITAOF", 4, CommandFlags.NoScript, WaitAof, categories: ["slow", "connection"]);
    }

    // SAVE takes a checkpoint and replies once it is on disk; the connection waits, others go on.
    private static void Save(CommandContext context, RespArgs args) =>
        context.DeferredReply = async (reply, cancellationToken) =>
        {
            try
            {
                await context.Store.CheckpointAsync(cancellationToken);
                reply.Write(RespConstants.Ok);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                RespWriter.WriteError(reply, System.Text.Encoding.UTF8.GetBytes("ERR checkpoint failed: " + OneLine(exception.Message)));
            }
        };

    private static void BgSave(CommandContext context, RespArgs args)
    {
        bool schedule = args.Count == 2 && args.Is(1, "SCHEDULE"u8);
        if (args.Count > 2 || (args.Count == 2 && !schedule))
        {
            context.WriteSyntaxError();
            return;
        }

        if (context.Store.GetStatistics().CheckpointInProgress)
        {
            if (schedule)
            {
                context.WriteSimple("Background saving scheduled"u8);
                _ = RunCheckpointAsync(context);
                return;
            }

            context.WriteError("ERR Background save already in progress"u8);
            return;
        }

        context.WriteSimple("Background saving started"u8);
        _ = RunCheckpointAsync(context);
    }

    // Redis's replies: "started", or "scheduled" while another background job runs (here: a checkpoint, after which
    // this one follows).
    private static void BgRewriteAof(CommandContext context, RespArgs args)
    {
        context.WriteSimple(context.Store.GetStatistics().CheckpointInProgress
            ? "Background append only file rewriting scheduled"u8
            : "Background append only file rewriting started"u8);
        _ = RunCheckpointAsync(context);
    }

    private static async Task RunCheckpointAsync(CommandContext context)
    {
        try
        {
            await context.Store.CheckpointAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The store logs the failure and reports it in INFO persistence; BGSAVE has already replied.
        }
    }

    private static void LastSave(CommandContext context, RespArgs args)
    {
        long last = context.Store.GetStatistics().LastCheckpointUnixSeconds;
        context.WriteInteger(last > 0 ? last : context.Server.StartedAtMs / 1000);
    }

    // Redis 7.2 WAITAOF numlocal numreplicas timeout: replies [local fsyncs, replica fsyncs] once satisfied or timed out.
    // Durable has no replicas: with numreplicas > 0 it waits out the timeout (0 means Redis would wait forever for a
    // replica; we do not block the client for ever for one that cannot come) and reports 0 replicas.
    private static void WaitAof(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[1], out long numLocal) || !RedisNumber.TryParseInt64(args[2], out long numReplicas) || numLocal < 0 || numReplicas < 0)
        {
            context.WriteNotInteger();
            return;
        }

        if (!context.TryReadTimeoutMilliseconds(args[3], out long timeout))
        {
            return;
        }

        if (context.Client.Transaction.Active)
        {
            // Inside EXEC nothing may wait (Redis 7.2 replies at once inside MULTI): whether the writes before are durable.
            context.WriteArrayHeader(2);
            context.WriteInteger(context.Session.WaitForCommitAsync(CancellationToken.None).AsTask().IsCompletedSuccessfully ? 1 : 0);
            context.WriteInteger(0);
            return;
        }

        context.DeferredReply = async (reply, cancellationToken) =>
        {
            TimeProvider time = context.Server.Time;
            long started = time.GetTimestamp();
            Task commit = context.Session.WaitForCommitAsync(cancellationToken).AsTask();
            if (numLocal > 0)
            {
                // Timeout 0 waits as long as it takes, as in Redis: the commit comes, or fails (and the answer is 0).
                await TimedWaits.WaitAsync(commit, timeout == 0 ? long.MaxValue : timeout, time, cancellationToken);
            }

            long local = commit.IsCompletedSuccessfully ? 1 : 0;
            if (numReplicas > 0 && timeout > 0)
            {
                await TimedWaits.DelayAsync(timeout - (long)time.GetElapsedTime(started).TotalMilliseconds, time, cancellationToken);
            }

            RespWriter.WriteArrayHeader(reply, 2);
            RespWriter.WriteInteger(reply, local);
            RespWriter.WriteInteger(reply, 0);
        };
    }

    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ');
}
