using Durable.Protocol;

namespace Durable.Commands.Transactions;

/// <summary>
/// One connection's MULTI/EXEC state (Redis's CLIENT_MULTI, CLIENT_DIRTY_EXEC, CLIENT_DIRTY_CAS and its watched keys).
/// Touched by its own connection, except <see cref="WatchedKeyModified"/>, which any connection's write may set.
/// </summary>
internal sealed class Transaction
{
    private readonly List<QueuedCommand> _queued = [];
    private readonly List<WatchedKey> _watched = [];
    private volatile bool _watchedKeyModified;

    /// <summary>Between MULTI and EXEC or DISCARD: commands are queued instead of run.</summary>
    public bool Active { get; private set; }

    /// <summary>A command was refused while queuing (unknown, wrong arity...): EXEC replies EXECABORT.</summary>
    public bool Aborted { get; private set; }

    /// <summary>A watched key was written since WATCH: EXEC replies with a null array.</summary>
    public bool WatchedKeyModified => _watchedKeyModified;

    public IReadOnlyList<QueuedCommand> Queued => _queued;

    public IReadOnlyList<WatchedKey> Watched => _watched;

    /// <summary>
    /// What queuing <paramref name="args"/> holds in memory: its bytes plus the command's and each argument's bookkeeping,
    /// so that a queue of many tiny commands counts as what it costs.
    /// </summary>
    public static long Footprint(RespArgs args)
    {
        long bytes = 64 + (8L * args.Count);
        for (int i = 0; i < args.Count; i++)
        {
            bytes += args[i].Length;
        }

        return bytes;
    }

    /// <summary>Memory the queued commands hold (<see cref="Footprint"/>; at most the client query buffer limit: see the dispatcher).</summary>
    public long QueuedBytes { get; private set; }

    /// <summary>The flags of every queued command together (Redis mstate.cmd_flags): an EXEC of writes is a write.</summary>
    public CommandFlags QueuedFlags { get; private set; }

    public void Begin()
    {
        Active = true;
        Aborted = false;
    }

    /// <summary>Flags the transaction so that EXEC discards it (Redis flagTransaction).</summary>
    public void Abort()
    {
        if (Active)
        {
            Aborted = true;
        }
    }

    /// <summary>Copies a command to run at EXEC: its arguments are gone once the handler returns.</summary>
    public void Queue(CommandDefinition definition, RespArgs args)
    {
        PackedArgs copy = PackedArgs.Copy(args);
        _queued.Add(new QueuedCommand(definition, copy.Data, copy.Bounds));
        QueuedBytes += Footprint(args);
        QueuedFlags |= definition.Flags;
    }

    /// <summary>Ends the transaction (EXEC, DISCARD, RESET, a closed connection): the queue and the flags go.</summary>
    public void End()
    {
        Active = false;
        Aborted = false;
        _queued.Clear();
        QueuedBytes = 0;
        QueuedFlags = CommandFlags.None;
    }

    public void AddWatched(WatchedKey key) => _watched.Add(key);

    /// <summary>Forgets the watched keys and whether one was modified (the registry is told by <see cref="WatchedKeys.UnwatchAll"/>).</summary>
    public void ClearWatched()
    {
        _watched.Clear();
        _watchedKeyModified = false;
    }

    public void MarkWatchedKeyModified() => _watchedKeyModified = true;
}

/// <summary>A command queued by MULTI: its definition and a copy of its arguments.</summary>
internal sealed record QueuedCommand(CommandDefinition Definition, byte[] Data, int[] Bounds)
{
    public RespArgs Args => new(Data, Bounds);
}

/// <summary>A key WATCH registered: its database, name, and the expiry it had then (0: none, or the key was absent).</summary>
internal sealed record WatchedKey(int Db, byte[] Key, long ExpiresAtMs);
