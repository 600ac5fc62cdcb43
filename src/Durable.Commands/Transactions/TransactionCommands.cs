using Durable.Protocol;

namespace Durable.Commands.Transactions;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH and UNWATCH, as Redis 7.0's multi.c. Between MULTI and EXEC the dispatcher queues every
/// other command (after the checks that would refuse it: a refusal makes EXEC fail with EXECABORT). EXEC takes the
/// stripes of every key its commands and the watched keys name, checks the watched keys, runs the queue in order with
/// its replies in one array, and logs the whole transaction as one WAL entry, so that a crash keeps all of it or none.
/// </summary>
internal static class TransactionCommands
{
    private const CommandFlags Immediate = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.AllowBusy;

    public static void Register(CommandTable table)
    {
        table.Add("MULTI", 1, Immediate | CommandFlags.RunsInTransaction, Multi, categories: ["fast", "transaction"]);
        table.Add("EXEC", 1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.SkipSlowlog | CommandFlags.RunsInTransaction, ExecHandler, categories: ["slow", "transaction"]);
        table.Add("DISCARD", 1, Immediate | CommandFlags.RunsInTransaction, Discard, categories: ["fast", "transaction"]);
        table.Add("WATCH", -2, Immediate | CommandFlags.RunsInTransaction, Watch, 1, -1, 1, ["fast", "transaction"]);
        table.Add("UNWATCH", 1, Immediate, Unwatch, categories: ["fast", "transaction"]);
    }

    /// <summary>EXEC's handler, by which <see cref="CommandContext.EffectiveFlags"/> recognizes it.</summary>
    public static readonly CommandHandler ExecHandler = Exec;

    private static void Multi(CommandContext context, RespArgs args)
    {
        Transaction transaction = context.Client.Transaction;
        if (transaction.Active)
        {
            context.WriteError("ERR MULTI calls can not be nested"u8);
            return;
        }

        transaction.Begin();
        context.WriteOk();
    }

    private static void Discard(CommandContext context, RespArgs args)
    {
        Transaction transaction = context.Client.Transaction;
        if (!transaction.Active)
        {
            context.WriteError("ERR DISCARD without MULTI"u8);
            return;
        }

        End(context, transaction);
        context.WriteOk();
    }

    private static void Watch(CommandContext context, RespArgs args)
    {
        Transaction transaction = context.Client.Transaction;
        if (transaction.Active)
        {
            context.WriteError("ERR WATCH inside MULTI is not allowed"u8);
            return;
        }

        // No point in watching more once a watched key changed: EXEC fails anyway (Redis does the same).
        if (!transaction.WatchedKeyModified)
        {
            for (int i = 1; i < args.Count; i++)
            {
                if (IsWatched(transaction, context.Db, args[i]))
                {
                    continue;
                }

                // The expiry the key has now: if it passes before EXEC, the key changed (it expired) and EXEC fails.
                long expiresAtMs = context.Session.TryRead(context.Db, args[i], null, out Storage.StoredRecord record) ? record.ExpiresAtMs : 0;
                context.Server.Watches.Watch(transaction, new WatchedKey(context.Db, args[i].ToArray(), expiresAtMs));
            }
        }

        context.WriteOk();
    }

    private static void Unwatch(CommandContext context, RespArgs args)
    {
        context.Server.Watches.UnwatchAll(context.Client.Transaction);
        context.WriteOk();
    }

    private static void Exec(CommandContext context, RespArgs args)
    {
        Transaction transaction = context.Client.Transaction;
        if (!transaction.Active)
        {
            context.WriteError("ERR EXEC without MULTI"u8);
            return;
        }

        IReadOnlyList<QueuedCommand> queued = transaction.Queued;
        if (context.Store.WriteFailure is string failure && queued.Any(command => (command.Definition.Flags & CommandFlags.Write) != 0))
        {
            // Redis refuses an EXEC with writes as it refuses a write (MISCONF), and discards the transaction.
            End(context, transaction);
            context.WriteError("EXECABORT Transaction discarded because of: " + CommandDispatcher.WriteRefusal(failure));
            return;
        }

        if (transaction.Aborted)
        {
            End(context, transaction);
            context.WriteError("EXECABORT Transaction discarded because of previous errors."u8);
            return;
        }

        int locked = CommandDispatcher.LockQueued(context, queued, transaction.Watched, out int[] stripes);
        bool wrote = false;
        try
        {
            // Under the stripes of the watched keys: every write to them applied so far has marked the transaction.
            if (transaction.WatchedKeyModified || WatchedKeyExpired(context, transaction))
            {
                context.WriteNullArray();
                return;
            }

            context.Server.Watches.UnwatchAll(transaction);
            context.WriteArrayHeader(queued.Count);
            CommandDispatcher.RunQueued(context, queued);
            wrote = context.Session.LoggedRecords > 0;
            // One WAL entry for the whole transaction, appended before any of its stripes is let go; so are its commands
            // in the replication stream (the EXEC itself is not sent: MULTI/EXEC wraps them when there are several).
            context.PropagatedItsCommands = true;
            Server.Propagation.Flush(context);
            context.Session.CompleteCommand();
        }
        finally
        {
            CommandDispatcher.UnlockQueued(context, stripes, locked);
            End(context, transaction);
        }

        if (wrote && context.Server.Blocked.HasWaiters)
        {
            context.Server.Blocked.SignalAll();
        }
    }

    // Redis isWatchedKeyExpired: a key that had a TTL when it was watched and has passed it since has changed (expired),
    // even if nothing deleted it yet. A key already gone when it was watched does not count.
    private static bool WatchedKeyExpired(CommandContext context, Transaction transaction)
    {
        long now = context.NowMs;
        foreach (WatchedKey key in transaction.Watched)
        {
            if (key.ExpiresAtMs != 0 && key.ExpiresAtMs <= now)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsWatched(Transaction transaction, int db, ReadOnlySpan<byte> key)
    {
        foreach (WatchedKey watched in transaction.Watched)
        {
            if (watched.Db == db && key.SequenceEqual(watched.Key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Ends the transaction and forgets the watched keys (EXEC, DISCARD, RESET, a closed connection).</summary>
    public static void End(CommandContext context, Transaction transaction)
    {
        transaction.End();
        context.Server.Watches.UnwatchAll(transaction);
    }
}
