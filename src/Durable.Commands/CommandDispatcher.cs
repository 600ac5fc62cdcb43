using System.Diagnostics;
using System.Text;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands;

/// <summary>
/// Looks a command up, checks its arity, locks the stripes of its keys (shared for reads, exclusive for writes),
/// runs the handler and records statistics. One per connection; not thread-safe.
/// </summary>
public sealed class CommandDispatcher
{
    private const int AllStripes = -1;

    private readonly CommandTable _table;
    private readonly List<int> _keyIndexes = new(8);
    private int[] _stripes = new int[8];

    public CommandDispatcher(CommandTable table) => _table = table;

    /// <summary>Runs one command; the reply (or error) is written to <see cref="CommandContext.Reply"/>.</summary>
    public void Execute(CommandContext context, RespArgs args)
    {
        context.Scratch.ResetWrittenCount();
        CommandDefinition? definition = _table.Find(args[0]);
        if (definition is null)
        {
            WriteUnknownCommand(context, args);
            return;
        }

        if (definition.SubCommands is not null)
        {
            if (args.Count < 2)
            {
                if (!definition.AcceptsArgumentCount(args.Count))
                {
                    definition.RecordRejected();
                    context.WriteArityError(definition.FullName);
                    return;
                }
            }
            else
            {
                CommandDefinition? sub = CommandTable.FindSub(definition, args[1]);
                if (sub is null)
                {
                    // Redis counts this in errorstats only: no command was found to charge it to.
                    WriteUnknownSubcommand(context, definition, args[1]);
                    return;
                }

                definition = sub;
            }
        }

        if (!definition.AcceptsArgumentCount(args.Count))
        {
            definition.RecordRejected();
            context.WriteArityError(definition.FullName);
            return;
        }

        if (context.Server.IsLoading && (definition.Flags & CommandFlags.Loading) == 0)
        {
            definition.RecordRejected();
            context.WriteError(RespErrors.Loading);
            return;
        }

        // Redis: a MONITOR client counts as a replica, and replicas may not touch the keyspace.
        if (context.Client.IsMonitor && (definition.Flags & (CommandFlags.Write | CommandFlags.ReadOnly | CommandFlags.MayReplicate)) != 0)
        {
            definition.RecordRejected();
            context.WriteError("ERR Replica can't interact with the keyspace"u8);
            return;
        }

        if ((definition.Flags & CommandFlags.Write) != 0 && context.Store.WriteFailure is string failure)
        {
            // Redis refuses writes the same way when its AOF cannot be written; reads go on.
            definition.RecordRejected();
            WriteWriteFailure(context, failure);
            return;
        }

        context.Client.LastCommand = definition.FullName;
        context.ErrorWritten = false;
        int locked = Lock(context.Store.Locks, definition, args);
        long started = Stopwatch.GetTimestamp();
        try
        {
            definition.Handler(context, args);
        }
        finally
        {
            context.OpenedSession?.CompleteCommand();
            Unlock(context.Store.Locks, definition, locked);
        }

        // A blocking command that just blocked wrote nothing.
        if ((definition.Flags & CommandFlags.Write) != 0 && context.DeferredReply is null)
        {
            WakeBlocked(context, args, locked);
        }

        long microseconds = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        definition.RecordCall(microseconds);
        if (context.ErrorWritten)
        {
            definition.RecordFailed();
        }

        // Redis: admin commands (CONFIG, DEBUG...) and skip-monitor ones are too sensitive to show to monitors.
        if (context.Server.Monitors.HasMonitors && (definition.Flags & (CommandFlags.Admin | CommandFlags.SkipMonitor)) == 0)
        {
            context.Server.Monitors.Feed(context.Client, args, context.Server.Time.GetUtcNow());
        }

        Interlocked.Increment(ref context.Server.Stats.TotalCommandsProcessed);
        context.Server.SlowLog.Record(context, args, microseconds);
    }

    /// <summary>
    /// Starts disk reads for the keys a read-only command is about to read (<see cref="IStoreSession.BeginPrefetch"/>), so
    /// that a batch waits for the disk once, together and without holding a thread; returns how many reads started.
    /// Writes prefetch nothing: their read-modify-write reads the record itself, so a prefetch would read it twice.
    /// </summary>
    public int Prefetch(CommandContext context, RespArgs args)
    {
        CommandDefinition? definition = _table.Find(args[0]);
        if (definition is null || definition.SubCommands is not null || (definition.Flags & CommandFlags.ReadOnly) == 0 ||
            !definition.AcceptsArgumentCount(args.Count))
        {
            return 0;
        }

        _keyIndexes.Clear();
        definition.GetKeyIndexes(args, _keyIndexes);
        int started = 0;
        foreach (int index in _keyIndexes)
        {
            started += context.Session.BeginPrefetch(context.Db, args[index]) ? 1 : 0;
        }

        return started;
    }

    /// <summary>
    /// Runs <paramref name="body"/> with the stripes of <paramref name="keys"/> held exclusively, as <see cref="Execute"/>
    /// holds a write's, and ends the store command after it (one WAL entry): a blocked command's retry when a write woke
    /// it (<see cref="Blocking.BlockingWait"/>). Returns what the body returns.
    /// </summary>
    internal static bool ExecuteLocked(CommandContext context, IReadOnlyList<byte[]> keys, Func<CommandContext, bool> body)
    {
        Span<int> stripes = keys.Count <= 16 ? stackalloc int[keys.Count] : new int[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            stripes[i] = KeyLocks.StripeOf(keys[i]);
        }

        KeyLocks locks = context.Store.Locks;
        int count = LockStripes(locks, stripes, exclusive: true);
        context.Scratch.ResetWrittenCount();
        try
        {
            // A blocked command woken while the WAL cannot be written would change the store unlogged: it gets the
            // refusal every other write gets (and stops waiting).
            if (context.Store.WriteFailure is string failure)
            {
                WriteWriteFailure(context, failure);
                return true;
            }

            return body(context);
        }
        finally
        {
            context.OpenedSession?.CompleteCommand();
            UnlockStripes(locks, stripes[..count], exclusive: true);
        }
    }

    private static void WriteWriteFailure(CommandContext context, string failure) =>
        context.WriteError("MISCONF Errors writing to the write-ahead log: " + failure.Replace('\r', ' ').Replace('\n', ' '));

    // After a write: wake the connections blocked on its keys (every key after a command that held every stripe: SWAPDB,
    // FLUSHALL, SORT with BY/GET patterns),
    // so that LPUSH, LMOVE, RENAME, COPY, SORT STORE... all serve BLPOP and the like, whatever the connection.
    private void WakeBlocked(CommandContext context, RespArgs args, int locked)
    {
        Blocking.BlockedKeys blocked = context.Server.Blocked;
        if (!blocked.HasWaiters)
        {
            return;
        }

        if (locked == AllStripes)
        {
            blocked.SignalAll();
            return;
        }

        foreach (int index in _keyIndexes)
        {
            blocked.Signal(args[index]);
        }
    }

    /// <summary>Locks the command's key stripes; returns how many, or <see cref="AllStripes"/>.</summary>
    private int Lock(KeyLocks locks, CommandDefinition definition, RespArgs args)
    {
        if ((definition.Flags & CommandFlags.LocksAll) != 0 || definition.LocksAllWhen?.Invoke(args) == true)
        {
            locks.EnterAll();
            return AllStripes;
        }

        _keyIndexes.Clear();
        definition.GetKeyIndexes(args, _keyIndexes);
        if (_keyIndexes.Count == 0)
        {
            return 0;
        }

        if (_stripes.Length < _keyIndexes.Count)
        {
            _stripes = new int[Math.Max(_keyIndexes.Count, _stripes.Length * 2)];
        }

        for (int i = 0; i < _keyIndexes.Count; i++)
        {
            _stripes[i] = KeyLocks.StripeOf(args[_keyIndexes[i]]);
        }

        return LockStripes(locks, _stripes.AsSpan(0, _keyIndexes.Count), (definition.Flags & CommandFlags.Write) != 0);
    }

    // Sorts and dedupes the stripes in place, then takes them; returns how many distinct stripes are held.
    private static int LockStripes(KeyLocks locks, Span<int> stripes, bool exclusive)
    {
        // Ascending order and no repeats: two commands can never wait on each other in a cycle.
        stripes.Sort();
        int count = 0;
        for (int i = 0; i < stripes.Length; i++)
        {
            if (i == 0 || stripes[i] != stripes[i - 1])
            {
                stripes[count++] = stripes[i];
            }
        }

        for (int i = 0; i < count; i++)
        {
            if (exclusive)
            {
                locks.EnterExclusive(stripes[i]);
            }
            else
            {
                locks.EnterShared(stripes[i]);
            }
        }

        return count;
    }

    private void Unlock(KeyLocks locks, CommandDefinition definition, int count)
    {
        if (count == AllStripes)
        {
            locks.ExitAll();
            return;
        }

        UnlockStripes(locks, _stripes.AsSpan(0, count), (definition.Flags & CommandFlags.Write) != 0);
    }

    private static void UnlockStripes(KeyLocks locks, ReadOnlySpan<int> stripes, bool exclusive)
    {
        for (int i = stripes.Length - 1; i >= 0; i--)
        {
            if (exclusive)
            {
                locks.ExitExclusive(stripes[i]);
            }
            else
            {
                locks.ExitShared(stripes[i]);
            }
        }
    }

    // Redis: "unknown command '%.128s', with args beginning with: " then each argument as '%.*s' until 128 bytes; CR/LF become spaces.
    private static void WriteUnknownCommand(CommandContext context, RespArgs args)
    {
        StringBuilder text = new("ERR unknown command '");
        text.Append(Truncate(args[0], 128)).Append("', with args beginning with: ");
        int argsLength = 0;
        for (int i = 1; i < args.Count && argsLength < 128; i++)
        {
            string arg = Truncate(args[i], 128 - argsLength);
            text.Append('\'').Append(arg).Append("' ");
            argsLength += arg.Length + 3;
        }

        context.WriteError(text.ToString().Replace('\r', ' ').Replace('\n', ' '));
    }

    private static void WriteUnknownSubcommand(CommandContext context, CommandDefinition container, ReadOnlySpan<byte> sub)
    {
        string text = $"ERR unknown subcommand '{Truncate(sub, 128)}'. Try {container.Name} HELP.";
        context.WriteError(text.Replace('\r', ' ').Replace('\n', ' '));
    }

    private static string Truncate(ReadOnlySpan<byte> value, int max) => Encoding.Latin1.GetString(value[..Math.Min(value.Length, max)]);
}
