using System.Buffers;
using System.Diagnostics;
using System.Text;
using Durable.Commands.Server;
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
    private const int Deferred = -2;

    // Warming passes per deferred command at most: each reads one level further (a bucket, then the leaf it names).
    private const int MaxWarmingPasses = 3;

    // Keys PrefetchKeys looks at, at most (MSET of a thousand keys would only evict its own first lines).
    private const int MostPrefetchedKeys = 8;

    private readonly CommandTable _table;
    private readonly List<int> _keyIndexes = new(8);
    private readonly List<int> _prefetchIndexes = new(8);

    // The last name looked up and what it found: a pipeline repeats one command, and the table's lookup (upper-casing
    // the name, then a frozen dictionary) is then done once, not once to prefetch and again to run each command.
    private readonly byte[] _lastName = new byte[32];
    private int _lastNameLength = -1;
    private CommandDefinition? _lastFound;
    private int[] _stripes = new int[8];

    // The deferred command: how many of _stripes it waits for, how many AcquireLocksAsync took for it (it uses them when
    // it runs again), and whether it takes them exclusively.
    private int _deferred;
    private int _held;
    private bool _deferredExclusive;
    private int _warmingPasses;

    public CommandDispatcher(CommandTable table) => _table = table;

    /// <summary>Runs one command; the reply (or error) is written to <see cref="CommandContext.Reply"/>. Waits for its keys' stripes by spinning.</summary>
    public void Execute(CommandContext context, RespArgs args) => Run(context, args, mayDefer: false);

    /// <summary>
    /// Runs one command, as <see cref="Execute"/>, unless a stripe of its keys stays taken past a short spin: then it runs
    /// nothing and returns false; the caller lets the command wait without a thread (<see cref="AcquireLocksAsync"/>)
    /// and then calls again with the same command, which runs with the stripes that wait took.
    /// </summary>
    public bool TryExecute(CommandContext context, RespArgs args) => Run(context, args, mayDefer: true);

    /// <summary>Whether the last <see cref="TryExecute"/> was deferred and waits for <see cref="AcquireLocksAsync"/>.</summary>
    public bool IsDeferred => _deferred > 0;

    /// <summary>
    /// Whether the last <see cref="TryExecute"/> was deferred while the records it will need are read from disk (see
    /// <see cref="CommandDefinition.Warm"/>): the caller awaits the store session's prefetches, then calls again.
    /// </summary>
    public bool IsWarming { get; private set; }

    /// <summary>Takes the stripes the deferred command needs (see <see cref="KeyLocks.AcquireAsync"/>); it runs with them next.</summary>
    public async Task AcquireLocksAsync(KeyLocks locks)
    {
        int count = _deferred;
        _deferred = 0;
        await locks.AcquireAsync(_stripes, count, _deferredExclusive);
        _held = count;
    }

    /// <summary>Lets go of stripes taken for a deferred command that will not run now (the connection closes or pauses).</summary>
    public void ReleaseHeldLocks(KeyLocks locks)
    {
        if (_held > 0)
        {
            locks.Exit(_stripes.AsSpan(0, _held), _deferredExclusive);
            _held = 0;
        }
    }

    private bool Run(CommandContext context, RespArgs args, bool mayDefer)
    {
        try
        {
            return RunUnlessDeferred(context, args, mayDefer);
        }
        finally
        {
            // Held for a command that returned before locking (a write refused since the wait, say): let go.
            ReleaseHeldLocks(context.Store.Locks);
        }
    }

    private bool RunUnlessDeferred(CommandContext context, RespArgs args, bool mayDefer)
    {
        IsWarming = false;
        context.Scratch.ResetWrittenCount();
        CommandDefinition? definition = Find(args[0]);
        Transactions.Transaction transaction = context.Client.Transaction;
        if (definition is null)
        {
            // Redis flagTransaction: a command refused while queuing makes EXEC fail with EXECABORT.
            transaction.Abort();
            WriteUnknownCommand(context, args);
            return true;
        }

        if (definition.SubCommands is not null)
        {
            if (args.Count < 2)
            {
                if (!definition.AcceptsArgumentCount(args.Count))
                {
                    transaction.Abort();
                    definition.RecordRejected();
                    context.WriteArityError(definition.FullName);
                    return true;
                }
            }
            else
            {
                CommandDefinition? sub = CommandTable.FindSub(definition, args[1]);
                if (sub is null)
                {
                    // Redis counts this in errorstats only: no command was found to charge it to.
                    transaction.Abort();
                    WriteUnknownSubcommand(context, definition, args[1]);
                    return true;
                }

                definition = sub;
            }
        }

        if (!definition.AcceptsArgumentCount(args.Count))
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteArityError(definition.FullName);
            return true;
        }

        if ((definition.Flags & CommandFlags.Protected) != 0 && !DebugCommands.Allowed(context))
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError(DebugCommands.Refusal);
            return true;
        }

        // Redis processCommand: a connection that has not logged in may only log in (AUTH, HELLO) or leave.
        if ((definition.Flags & CommandFlags.NoAuth) == 0 && Acl.AclChecks.NeedsAuth(context))
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError("NOAUTH Authentication required."u8);
            return true;
        }

        if (transaction.Active && (definition.Flags & CommandFlags.NoMulti) != 0)
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError("ERR Command not allowed inside a transaction"u8);
            return true;
        }

        if (Acl.AclChecks.Check(context, definition, args, transaction.Active ? Acl.AclChecks.Multi : Acl.AclChecks.Toplevel) is var denial and not Acl.AclDenial.None)
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError(Acl.AclChecks.Refusal(denial, definition));
            return true;
        }

        // Redis: a RESP2 client with subscriptions reads pushed messages as replies, so it may only (un)subscribe and ping.
        if (context.Client.Protocol == RespVersion.Resp2 && context.Client.Subscriptions.Any && !PubSub.PubSubCommands.AllowedWhileSubscribed(definition))
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError($"ERR Can't execute '{definition.FullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
            return true;
        }

        if (context.Server.IsLoading && (definition.Flags & CommandFlags.Loading) == 0 && !context.Client.IsReplicationSource)
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError(RespErrors.Loading);
            return true;
        }

        // Redis: a MONITOR client counts as a replica, and replicas may not touch the keyspace.
        if (context.Client.IsMonitor && (definition.Flags & (CommandFlags.Write | CommandFlags.ReadOnly | CommandFlags.MayReplicate)) != 0)
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError("ERR Replica can't interact with the keyspace"u8);
            return true;
        }

        if ((definition.Flags & CommandFlags.Write) != 0 && context.Store.WriteFailure is string failure)
        {
            // Redis refuses writes the same way when its AOF cannot be written; reads go on.
            transaction.Abort();
            definition.RecordRejected();
            WriteWriteFailure(context, failure);
            return true;
        }

        // Redis: a read-only replica takes writes from its primary only (a write is refused before MULTI queues it).
        if (RefusedAsReadOnlyReplica(context) && (context.EffectiveFlags(definition, args) & CommandFlags.Write) != 0)
        {
            transaction.Abort();
            definition.RecordRejected();
            context.WriteError(ReadOnlyReplica);
            return true;
        }

        if (transaction.Active && (definition.Flags & CommandFlags.RunsInTransaction) == 0)
        {
            Queue(context, transaction, definition, args);
            return true;
        }

        context.Client.LastCommand = definition.FullName;
        context.ErrorWritten = false;
        int locked = Lock(context.Store.Locks, definition, args, mayDefer);
        if (locked == Deferred)
        {
            if (_warmingPasses == 0)
            {
                Interlocked.Increment(ref context.Server.Stats.LockWaits);
            }

            if (_warmingPasses < MaxWarmingPasses && Warm(context, definition, args))
            {
                // Wait for those reads first, then try again (the stripes may be free by then; if not, warm one level on).
                _warmingPasses++;
                _deferred = 0;
                IsWarming = true;
            }

            return false;
        }

        _warmingPasses = 0;
        if (locked > 0)
        {
            context.Session.HoldingStripes(_stripes, locked);
        }

        long started = Stopwatch.GetTimestamp();
        int loggedBefore = context.OpenedSession?.LoggedRecords ?? 0;
        int expiredBefore = context.OpenedSession?.ExpiredReadCount ?? 0;
        try
        {
            definition.Handler(context, args);
            AfterCommand(context, definition, args, _keyIndexes, loggedBefore, topLevel: true);
            Propagation.Collect(context, args, loggedBefore, expiredBefore);
        }
        finally
        {
            Propagation.Flush(context);
            context.OpenedSession?.CompleteCommand();
            context.PartBuffers.ReturnAll();
            Unlock(context.Store.Locks, definition, locked);
        }

        context.OpenedSession?.ReclaimExpiredReads();

        // A blocking command that just blocked wrote nothing.
        if ((definition.Flags & CommandFlags.Write) != 0 && context.DeferredReply is null)
        {
            WakeBlocked(context, args, locked);
        }

        RecordCall(context, definition, args, started);
        return true;
    }

    /// <summary>Counts a command that ran (commandstats, slow log, monitors), from its start timestamp.</summary>
    private static void RecordCall(CommandContext context, CommandDefinition definition, RespArgs args, long started)
    {
        long microseconds = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        definition.RecordCall(microseconds, context.Server.Config.LatencyTracking);
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

    // Between MULTI and EXEC: a copy of the command waits for EXEC. The queue's memory counts against the client query
    // buffer limit (it is input the connection holds on to); past it the transaction fails at EXEC, as after any refusal.
    private static void Queue(CommandContext context, Transactions.Transaction transaction, CommandDefinition definition, RespArgs args)
    {
        if (transaction.QueuedBytes + Transactions.Transaction.Footprint(args) > context.Server.Config.ClientQueryBufferLimit)
        {
            transaction.Abort();
            context.WriteError("ERR transaction too large: the queued commands exceed client-query-buffer-limit"u8);
            return;
        }

        transaction.Queue(definition, args);
        context.WriteSimple("QUEUED"u8);
    }

    /// <summary>
    /// Runs the commands of an EXEC in order, each with its reply written to <see cref="CommandContext.Reply"/>, counted as
    /// if sent alone. The caller holds the stripes of all their keys (<see cref="LockQueued"/>) and completes the store
    /// command once after the last, so that the transaction is one WAL entry: replayed all or nothing.
    /// </summary>
    internal static void RunQueued(CommandContext context, IReadOnlyList<Transactions.QueuedCommand> queued)
    {
        List<int> keyIndexes = new(8);
        foreach (Transactions.QueuedCommand command in queued)
        {
            // Redis execCommand: the rules may have changed since the command was queued.
            if (Acl.AclChecks.Check(context, command.Definition, command.Args, Acl.AclChecks.Multi) is var denial and not Acl.AclDenial.None)
            {
                context.WriteError(Acl.AclChecks.ExecRefusal(denial));
                continue;
            }

            RunWithin(context, command.Definition, command.Args, keyIndexes);
        }
    }

    /// <summary>
    /// Runs one command inside an EXEC or a script, which holds the stripes it needs and completes the store command
    /// once at its end; the command is counted as if sent alone.
    /// </summary>
    internal static void RunWithin(CommandContext context, CommandDefinition definition, RespArgs args, List<int> keyIndexes)
    {
        context.Scratch.ResetWrittenCount();
        context.Client.LastCommand = definition.FullName;
        context.ErrorWritten = false;
        long started = Stopwatch.GetTimestamp();
        int loggedBefore = context.Session.LoggedRecords;
        int expiredBefore = context.Session.ExpiredReadCount;
        try
        {
            definition.Handler(context, args);
            AfterCommand(context, definition, args, keyIndexes, loggedBefore, topLevel: false);
            Propagation.Collect(context, args, loggedBefore, expiredBefore);
        }
        finally
        {
            context.PartBuffers.ReturnAll();
        }

        RecordCall(context, definition, args, started);
    }

    /// <summary>
    /// Takes, exclusively, the stripes of every key the queued commands name and of the watched keys (every stripe when
    /// one of the commands takes every stripe); returns how many stripes, or -1 for all, and fills
    /// <paramref name="stripes"/>. Release with <see cref="UnlockQueued"/>.
    /// </summary>
    internal static int LockQueued(
        CommandContext context, IReadOnlyList<Transactions.QueuedCommand> queued, IReadOnlyList<Transactions.WatchedKey> watched, out int[] stripes)
    {
        List<int> keyIndexes = new(8);
        List<int> all = [];
        foreach (Transactions.WatchedKey key in watched)
        {
            all.Add(KeyLocks.StripeOf(key.Key));
        }

        stripes = [];
        foreach (Transactions.QueuedCommand command in queued)
        {
            RespArgs args = command.Args;
            CommandDefinition definition = command.Definition;
            // A script in a transaction runs with every stripe: it may reach keys it did not declare.
            if ((definition.Flags & (CommandFlags.LocksAll | CommandFlags.LocksItself)) != 0 || definition.LocksAllWhen?.Invoke(args) == true)
            {
                context.Store.Locks.EnterAll();
                return AllStripes;
            }

            keyIndexes.Clear();
            definition.GetKeyIndexes(args, keyIndexes);
            foreach (int index in keyIndexes)
            {
                all.Add(KeyLocks.StripeOf(args[index]));
            }
        }

        stripes = [.. all];
        return LockStripes(context.Store.Locks, stripes, exclusive: true);
    }

    internal static void UnlockQueued(CommandContext context, int[] stripes, int count)
    {
        if (count == AllStripes)
        {
            context.Store.Locks.ExitAll();
            return;
        }

        context.Store.Locks.Exit(stripes.AsSpan(0, count), exclusive: true);
    }

    /// <summary>
    /// After a write command, with its stripes still held: the keys it may have written (those its key spec does not mark
    /// read-only) fail the EXEC of the transactions watching them, if the command logged a change since <paramref name="loggedBefore"/>. Commands that
    /// change whole databases (FLUSHDB, FLUSHALL, SWAPDB) mark the keys themselves.
    /// </summary>
    // topLevel: a command sent by the client (not one of an EXEC or a script), whose reply is the last written, so that an
    // invalidation of the client's own write follows it at once, as in Redis; others are told after the batch.
    private static void AfterCommand(CommandContext context, CommandDefinition definition, RespArgs args, List<int> keyIndexes, int loggedBefore, bool topLevel)
    {
        ClientState client = context.Client;
        if (client.Tracking is { } tracking)
        {
            // Keys read by a tracking connection (a script's commands count for its caller, the script itself does not).
            if ((definition.Flags & (CommandFlags.ReadOnly | CommandFlags.LocksItself)) == CommandFlags.ReadOnly && !tracking.Broadcast)
            {
                keyIndexes.Clear();
                definition.GetKeyIndexes(args, keyIndexes);
                List<byte[]> read = new(keyIndexes.Count);
                foreach (int index in keyIndexes)
                {
                    read.Add(args[index].ToArray());
                }

                context.Server.Tracking.Remember(context.Server, client, read);
            }

            // CLIENT CACHING holds for the next command only (for a transaction's, until EXEC).
            if (tracking.Caching is not null && definition.Parent?.Name != "CLIENT" && !client.Transaction.Active)
            {
                tracking.Caching = null;
            }
        }

        if ((!context.Server.Watches.Any && !context.Server.Tracking.Any) || !LocksExclusively(definition)
            || (context.OpenedSession?.LoggedRecords ?? loggedBefore) == loggedBefore)
        {
            return;
        }

        // Found again: a command that took every stripe (SORT with BY and STORE) did not look its keys up.
        keyIndexes.Clear();
        definition.GetKeyIndexes(args, keyIndexes);
        List<byte[]> changed = [];
        foreach (int index in keyIndexes)
        {
            if (KeySpecs.MayWrite(definition, args, index))
            {
                changed.Add(args[index].ToArray());
            }
        }

        KeysChanged(context, changed, topLevel ? context.Reply : null);
    }

    /// <summary>
    /// Keys a command changed in the client's database: the transactions watching them fail, and the connections
    /// tracking them are told (Redis's signalModifiedKey).
    /// </summary>
    internal static void KeysChanged(CommandContext context, IReadOnlyList<byte[]> keys, IBufferWriter<byte>? ownReply = null)
    {
        if (context.Server.Watches.Any)
        {
            foreach (byte[] key in keys)
            {
                context.Server.Watches.Touch(context.Db, key);
            }
        }

        context.Server.Tracking.Invalidate(context.Server, context.Client, keys, ownReply);
    }

    // While the command waits for its stripes: read what it will need, so that its locked section is not the one to wait
    // for the disk (and the waiting connections read in parallel). Reads without the lock may see records mid-change by
    // the holder, so what they decode is a hint: a failure to decode is not the command's error, which runs as usual.
    // Returns whether it started disk reads.
    private static bool Warm(CommandContext context, CommandDefinition definition, RespArgs args)
    {
        if (definition.Warm is not { } warm || !context.Store.HasColdRecords)
        {
            return false;
        }

        IStoreSession session = context.Session;
        session.Warming = true;
        try
        {
            warm(context, args);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A hint read across versions of the collection, or a record still on its way from disk; the command itself
            // reads under the lock.
        }
        finally
        {
            session.Warming = false;
            context.Scratch.ResetWrittenCount();
            context.PartBuffers.ReturnAll();
        }

        return session.PrefetchesPending;
    }

    /// <summary>
    /// Starts disk reads for the keys a read-only command is about to read (<see cref="IStoreSession.BeginPrefetch"/>), so
    /// that a batch waits for the disk once, together and without holding a thread; returns how many reads started.
    /// Writes prefetch nothing: their read-modify-write reads the record itself, so a prefetch would read it twice.
    /// <paramref name="mayWaitForDisk"/>: whether the command may still wait for the disk while it runs (anything but a
    /// <see cref="CommandFlags.KeyReadsOnly"/> command, or an unknown or misused one, which only gets an error; see
    /// <see cref="IStoreSession.PrefetchesMissed"/> for keys the prefetch could not keep).
    /// </summary>
    public int Prefetch(CommandContext context, RespArgs args, out bool mayWaitForDisk)
    {
        CommandDefinition? definition = Find(args[0]);
        mayWaitForDisk = definition is not null && definition.AcceptsArgumentCount(args.Count) && (definition.Flags & CommandFlags.KeyReadsOnly) == 0;
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
    /// Starts loading into the CPU cache what running the command will touch first: its keys' lock stripes and index
    /// entries (<see cref="KeyLocks.Prefetch"/>, <see cref="IStoreSession.PrefetchIndexEntry"/>). For the next command of a
    /// pipeline, called before the current one runs, so that its memory reads overlap that command instead of each command
    /// waiting for its own. Changes nothing; an unknown or misused command is skipped, and so is everything while the server
    /// loads (its stand-in store opens no session).
    /// </summary>
    public void PrefetchKeys(CommandContext context, RespArgs args)
    {
        if (context.Server.IsLoading)
        {
            return;
        }

        CommandDefinition? definition = Find(args[0]);
        if (definition is null || definition.SubCommands is not null || !definition.AcceptsArgumentCount(args.Count))
        {
            return;
        }

        _prefetchIndexes.Clear();
        definition.GetKeyIndexes(args, _prefetchIndexes);
        for (int i = 0; i < _prefetchIndexes.Count && i < MostPrefetchedKeys; i++)
        {
            ReadOnlySpan<byte> key = args[_prefetchIndexes[i]];
            context.Store.Locks.Prefetch(KeyLocks.StripeOf(key));
            context.Session.PrefetchIndexEntry(context.Db, key);
        }
    }

    // CommandTable.Find, remembering the last name (exact bytes) and its definition.
    private CommandDefinition? Find(ReadOnlySpan<byte> name)
    {
        if (name.Length == _lastNameLength && name.SequenceEqual(_lastName.AsSpan(0, _lastNameLength)))
        {
            return _lastFound;
        }

        CommandDefinition? found = _table.Find(name);
        if (name.Length <= _lastName.Length)
        {
            name.CopyTo(_lastName);
            _lastNameLength = name.Length;
            _lastFound = found;
        }

        return found;
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
        int expiredBefore = context.Session.ExpiredReadCount;
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

            bool served = body(context);
            if (served && context.OpenedSession is { LoggedRecords: > 0 })
            {
                KeysChanged(context, keys);
            }

            // The body says what replicas run (the pop a blocked command made), as it has no arguments of its own.
            Propagation.CollectRewritten(context, expiredBefore);
            return served;
        }
        finally
        {
            Propagation.Flush(context);
            context.OpenedSession?.CompleteCommand();
            context.PartBuffers.ReturnAll();
            locks.Exit(stripes[..count], exclusive: true);
        }
    }

    private static void WriteWriteFailure(CommandContext context, string failure) => context.WriteError(WriteRefusal(failure));

    /// <summary>The error a write gets while the store refuses writes (Redis's MISCONF), on one line.</summary>
    /// <summary>Redis's reply to a write sent to a read-only replica.</summary>
    internal static ReadOnlySpan<byte> ReadOnlyReplica => "READONLY You can't write against a read only replica."u8;

    /// <summary>Whether this client's writes are refused: the server is a read-only replica and the client is not its primary's link.</summary>
    internal static bool RefusedAsReadOnlyReplica(CommandContext context) =>
        context.Server.Replication.IsReplica && context.Server.Config.ReplicaReadOnly && !context.Client.IsReplicationSource;

    internal static string WriteRefusal(string failure) =>
        "MISCONF Errors writing to the write-ahead log: " + failure.Replace('\r', ' ').Replace('\n', ' ');

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

    /// <summary>
    /// Locks the command's key stripes; returns how many, or <see cref="AllStripes"/>, or (<paramref name="mayDefer"/>)
    /// <see cref="Deferred"/> when one stays taken: nothing is held then, and <see cref="AcquireLocksAsync"/> waits for them.
    /// </summary>
    private int Lock(KeyLocks locks, CommandDefinition definition, RespArgs args, bool mayDefer)
    {
        if ((definition.Flags & CommandFlags.LocksItself) != 0)
        {
            return 0;
        }

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

        bool exclusive = LocksExclusively(definition);
        int count = SortDistinct(_stripes.AsSpan(0, _keyIndexes.Count));
        if (_held > 0)
        {
            // The deferred command again: AcquireLocksAsync took these very stripes for it.
            Debug.Assert(_held == count && _deferredExclusive == exclusive, "a deferred command runs with the stripes it waited for");
            _held = 0;
            return count;
        }

        if (!mayDefer)
        {
            EnterStripes(locks, _stripes.AsSpan(0, count), exclusive);
            return count;
        }

        if (locks.TryEnterAll(_stripes.AsSpan(0, count), exclusive) < 0)
        {
            return count;
        }

        _deferred = count;
        _deferredExclusive = exclusive;
        return Deferred;
    }

    // Writers, and the readers that may write back, hold their keys' stripes alone.
    private static bool LocksExclusively(CommandDefinition definition) => (definition.Flags & (CommandFlags.Write | CommandFlags.WritesBack)) != 0;

    // Sorts and dedupes the stripes in place, then takes them; returns how many distinct stripes are held.
    private static int LockStripes(KeyLocks locks, Span<int> stripes, bool exclusive)
    {
        int count = SortDistinct(stripes);
        EnterStripes(locks, stripes[..count], exclusive);
        return count;
    }

    // Ascending order and no repeats: two commands can never wait on each other in a cycle. Returns the distinct count.
    private static int SortDistinct(Span<int> stripes)
    {
        stripes.Sort();
        int count = 0;
        for (int i = 0; i < stripes.Length; i++)
        {
            if (i == 0 || stripes[i] != stripes[i - 1])
            {
                stripes[count++] = stripes[i];
            }
        }

        return count;
    }

    private static void EnterStripes(KeyLocks locks, ReadOnlySpan<int> stripes, bool exclusive) => locks.EnterAllOf(stripes, exclusive);

    private void Unlock(KeyLocks locks, CommandDefinition definition, int count)
    {
        if (count == AllStripes)
        {
            locks.ExitAll();
            return;
        }

        locks.Exit(_stripes.AsSpan(0, count), LocksExclusively(definition));
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

        context.WriteErrorOneLine(text.ToString());
    }

    private static void WriteUnknownSubcommand(CommandContext context, CommandDefinition container, ReadOnlySpan<byte> sub)
    {
        string text = $"ERR unknown subcommand '{Truncate(sub, 128)}'. Try {container.Name} HELP.";
        context.WriteErrorOneLine(text);
    }

    // printf's "%.128s": at most max bytes, and none from the first NUL on (Redis prints arguments as C strings).
    internal static string Truncate(ReadOnlySpan<byte> value, int max)
    {
        int nul = value.IndexOf((byte)0);
        return Encoding.Latin1.GetString(value[..Math.Min(nul < 0 ? value.Length : nul, max)]);
    }
}
