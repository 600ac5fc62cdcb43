using System.Buffers;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Server;

/// <summary>Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME, MONITOR, SHUTDOWN.</summary>
internal static class ServerCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("DBSIZE", 1, CommandFlags.ReadOnly | CommandFlags.Fast, DbSize, categories: ["keyspace", "read", "fast"]);
        table.Add("FLUSHDB", -1, CommandFlags.Write | CommandFlags.LocksAll, FlushDb, categories: ["keyspace", "write", "slow", "dangerous"]);
        table.Add("FLUSHALL", -1, CommandFlags.Write | CommandFlags.LocksAll, FlushAll, categories: ["keyspace", "write", "slow", "dangerous"]);
        table.Add("SWAPDB", 3, CommandFlags.Write | CommandFlags.Fast | CommandFlags.LocksAll, SwapDb, categories: ["keyspace", "write", "fast", "dangerous"]);
        table.Add("TIME", 1, CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Time, categories: ["fast"]);
        table.Add("MONITOR", 1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Monitor, categories: ["admin", "slow", "dangerous"]);
        table.Add(
            "SHUTDOWN", -1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoMulti | CommandFlags.AllowBusy,
            Shutdown, categories: ["admin", "slow", "dangerous"]);
    }

    private static void DbSize(CommandContext context, RespArgs args) => context.WriteInteger(context.Store.KeyCount(context.Db));

    private static void FlushDb(CommandContext context, RespArgs args)
    {
        if (!TryParseFlushMode(context, args, out bool lazyFree))
        {
            context.WriteSyntaxError();
            return;
        }

        TouchWatchedKeys(context, context.Db, context.Db);
        Flush(context, [context.Db], lazyFree);
    }

    /// <summary>
    /// Empties <paramref name="databases"/>. Lazily, the reply goes at once; a SYNC flush detaches them the same way, so
    /// the server goes on serving others, and replies once the store has deleted their records, as Redis replies to it
    /// once the memory is freed (only inside EXEC or a script, where nothing may wait, does it delete them before the next command runs).
    /// </summary>
    private static void Flush(CommandContext context, IEnumerable<int> databases, bool lazyFree)
    {
        bool waits = !lazyFree && !context.Client.Transaction.Active && !context.Client.RunningScript;
        context.Server.Tracking.InvalidateAll(context.Server);

        // Redis forces FLUSHDB and FLUSHALL into the replication stream even when there was nothing to delete.
        context.PropagateAlways = true;
        foreach (int db in databases)
        {
            context.Session.FlushDatabase(db, lazyFree || waits);
        }

        if (!waits)
        {
            context.WriteOk();
            return;
        }

        IStoreSession session = context.Session;
        context.DeferredReply = async (reply, cancellationToken) =>
        {
            await session.WhenFlushedRecordsDeletedAsync(cancellationToken);
            reply.Write(RespConstants.Ok);
        };
    }

    /// <summary>
    /// Before database <paramref name="db"/> is emptied or swapped with <paramref name="other"/>: fails the EXEC of the
    /// transactions watching a key there that exists in either (Redis touchAllWatchedKeysInDb).
    /// </summary>
    private static void TouchWatchedKeys(CommandContext context, int db, int other)
    {
        if (context.Server.Watches.Any)
        {
            context.Server.Watches.TouchDatabase(
                db, key => context.Session.TryRead(db, key, null, out _) || (other != db && context.Session.TryRead(other, key, null, out _)));
        }
    }

    private static void FlushAll(CommandContext context, RespArgs args)
    {
        if (!TryParseFlushMode(context, args, out bool lazyFree))
        {
            context.WriteSyntaxError();
            return;
        }

        for (int db = 0; db < context.Store.Databases; db++)
        {
            TouchWatchedKeys(context, db, db);
        }

        Flush(context, Enumerable.Range(0, context.Store.Databases), lazyFree);
    }

    // Redis: FLUSHDB/FLUSHALL take nothing, SYNC or ASYNC; nothing means lazyfree-lazy-user-flush. The keys are gone for
    // every other client once the command has run either way (Flush).
    private static bool TryParseFlushMode(CommandContext context, RespArgs args, out bool lazyFree)
    {
        lazyFree = args.Count == 1 ? context.Server.Config.LazyfreeLazyUserFlush : args.Is(1, "ASYNC"u8);
        return args.Count == 1 || (args.Count == 2 && (args.Is(1, "SYNC"u8) || args.Is(1, "ASYNC"u8)));
    }

    private static void SwapDb(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[1], out long first) || first is < int.MinValue or > int.MaxValue)
        {
            context.WriteError("ERR invalid first DB index"u8);
            return;
        }

        if (!RedisNumber.TryParseInt64(args[2], out long second) || second is < int.MinValue or > int.MaxValue)
        {
            context.WriteError("ERR invalid second DB index"u8);
            return;
        }

        int databases = context.Store.Databases;
        if (first < 0 || first >= databases || second < 0 || second >= databases)
        {
            context.WriteError(RespErrors.DbIndexOutOfRange);
            return;
        }

        if (first != second)
        {
            TouchWatchedKeys(context, (int)first, (int)second);
            TouchWatchedKeys(context, (int)second, (int)first);
            context.Session.SwapDatabases((int)first, (int)second);
        }

        context.WriteOk();
    }

    private static void Time(CommandContext context, RespArgs args)
    {
        long microseconds = (context.Server.Time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
        context.WriteArrayHeader(2);
        RespWriter.WriteBulkInteger(context.Reply, microseconds / 1_000_000);
        RespWriter.WriteBulkInteger(context.Reply, microseconds % 1_000_000);
    }

    // Redis: a second MONITOR is ignored without a reply.
    private static void Monitor(CommandContext context, RespArgs args)
    {
        ClientState client = context.Client;
        if (client.Transaction.Active)
        {
            // Redis: a client inside EXEC expects one reply per command, which a monitor's stream is not.
            context.WriteError("ERR MONITOR isn't allowed for DENY BLOCKING client"u8);
            return;
        }

        if (client.IsMonitor)
        {
            return;
        }

        client.IsMonitor = true;
        client.MonitorFeed = context.Server.Monitors.Add(client);
        context.WriteOk();
    }

    // SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. Durable's final checkpoint is its "save": NOSAVE skips it (the WAL
    // still covers every acknowledged write). NOW and FORCE change nothing here: there are no replicas to wait for and
    // a failed checkpoint does not stop the shutdown. On success the client gets no reply; the connection just closes.
    private static void Shutdown(CommandContext context, RespArgs args)
    {
        bool save = false;
        bool noSave = false;
        bool abort = false;
        bool other = false;
        bool now = false;
        for (int i = 1; i < args.Count; i++)
        {
            if (args.Is(i, "NOSAVE"u8))
            {
                noSave = true;
            }
            else if (args.Is(i, "SAVE"u8))
            {
                save = true;
            }
            else if (args.Is(i, "NOW"u8))
            {
                other = true;
                now = true;
            }
            else if (args.Is(i, "FORCE"u8))
            {
                other = true;
            }
            else if (args.Is(i, "ABORT"u8))
            {
                abort = true;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if ((abort && (save || noSave || other)) || (save && noSave))
        {
            context.WriteSyntaxError();
            return;
        }

        ReplicationFeed feed = context.Server.ReplicationFeed;
        if (abort)
        {
            if (feed.AbortShutdownWait())
            {
                context.Server.Pause.Unpause();
                context.WriteOk();
            }
            else
            {
                context.WriteError("ERR No shutdown in progress."u8);
            }

            return;
        }

        // Redis prepareForShutdown: replicas that have not acknowledged everything get shutdown-timeout seconds to catch
        // up, asked at once (REPLCONF GETACK), while writes wait (reads go on); NOW does not wait, nor does a timeout of 0.
        long timeoutMs = context.Server.Config.ShutdownTimeout * 1000;
        if (!now && timeoutMs > 0 && !feed.AllReplicasAcknowledged())
        {
            Task<bool> waited = feed.WaitForReplicasBeforeShutdown(context.Server, timeoutMs);
            context.DeferredReply = async (reply, cancellationToken) =>
            {
                if (!await waited.WaitAsync(cancellationToken))
                {
                    RespWriter.WriteError(reply, "ERR Errors trying to SHUTDOWN. Check logs."u8);
                    return;
                }

                Stop(context, noSave);
            };
            return;
        }

        Stop(context, noSave);
    }

    private static void Stop(CommandContext context, bool noSave)
    {
        context.Server.ShuttingDown = true;
        context.Client.CloseAfterReply = true;
        context.Server.RequestShutdown?.Invoke(!noSave);
    }
}
