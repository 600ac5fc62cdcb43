using System.Collections.Frozen;

namespace Durable.Commands;

/// <summary>
/// One command or subcommand: name, Redis arity (positive exact, negative minimum, the name counts),
/// flags, legacy key spec (first, last, step; last -1 means the last argument) and handler.
/// Call counters feed INFO commandstats.
/// </summary>
public sealed class CommandDefinition
{
    private long _calls;
    private long _microseconds;
    private long _rejected;
    private long _failed;
    private string? _fullName;
    private Server.LatencyHistogram? _latencies;

    public required string Name { get; init; }
    public required int Arity { get; init; }
    public required CommandFlags Flags { get; init; }
    public required CommandHandler Handler { get; init; }
    public int FirstKey { get; init; }
    public int LastKey { get; init; }
    public int Step { get; init; }

    /// <summary>Set for commands whose keys (first, last, step) cannot describe; overrides them.</summary>
    public KeyFinder? FindKeys { get; init; }

    /// <summary>
    /// Set for commands that read keys their arguments do not name (SORT's BY and GET patterns): when it returns true
    /// for a request, the command takes every key stripe exclusively, as Redis runs it alone.
    /// </summary>
    public Func<Durable.Protocol.RespArgs, bool>? LocksAllWhen { get; init; }

    /// <summary>
    /// Set for commands whose flags depend on their arguments (EVAL, FCALL: the script's or function's own flags, as
    /// Redis's getCommandFlags): what CLIENT PAUSE looks at; locking and dispatch go by <see cref="Flags"/>.
    /// </summary>
    public Func<Server.ServerState, Durable.Protocol.RespArgs, CommandFlags>? FlagsFor { get; init; }

    /// <summary>
    /// Set for point commands on collections: reads, while the command waits for its keys' stripes and with the store
    /// session warming (<see cref="Durable.Storage.IStoreSession.Warming"/>), the records the command will read, so that
    /// its section under the lock finds them in memory. Writes nothing and replies nothing; what it reads is a hint.
    /// </summary>
    public CommandHandler? Warm { get; set; }

    /// <summary>The command's bit in an ACL selector (see <see cref="Acl.AclCommandIndex"/>).</summary>
    internal int AclId { get; set; }

    /// <summary>ACL categories without the '@', as COMMAND INFO reports them.</summary>
    public string[] Categories { get; init; } = [];

    /// <summary>For container commands (CLIENT, CONFIG, ...): subcommands by upper-case name.</summary>
    public FrozenDictionary<string, CommandDefinition>? SubCommands { get; set; }

    /// <summary>Parent for a subcommand; its full name is "parent|sub".</summary>
    public CommandDefinition? Parent { get; set; }

    /// <summary>Lower-case name as Redis prints it in errors: "get", "client|kill". Computed once: the dispatcher reads it per command.</summary>
    public string FullName => _fullName ??= Parent is null ? Name.ToLowerInvariant() : $"{Parent.Name.ToLowerInvariant()}|{Name.ToLowerInvariant()}";

    public long Calls => Volatile.Read(ref _calls);
    public long Microseconds => Volatile.Read(ref _microseconds);
    public long RejectedCalls => Volatile.Read(ref _rejected);
    public long FailedCalls => Volatile.Read(ref _failed);

    public bool AcceptsArgumentCount(int count) => Arity >= 0 ? count == Arity : count >= -Arity;

    /// <summary>Appends the indexes of the key arguments to <paramref name="keyIndexes"/>.</summary>
    public void GetKeyIndexes(Durable.Protocol.RespArgs args, List<int> keyIndexes)
    {
        if (FindKeys is not null)
        {
            FindKeys(args, keyIndexes);
            return;
        }

        if (FirstKey <= 0)
        {
            return;
        }

        int last = LastKey < 0 ? args.Count + LastKey : LastKey;
        for (int i = FirstKey; i <= last && i < args.Count; i += Math.Max(1, Step))
        {
            keyIndexes.Add(i);
        }
    }

    /// <summary>The command's latencies since the last CONFIG RESETSTAT (INFO latencystats, LATENCY HISTOGRAM); null before its first tracked call.</summary>
    internal Server.LatencyHistogram? Latencies => Volatile.Read(ref _latencies);

    /// <summary>Counts a call of <paramref name="microseconds"/>; with <paramref name="trackLatency"/> (latency-tracking) into the histogram too, in nanoseconds as Redis does.</summary>
    internal void RecordCall(long microseconds, bool trackLatency)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _microseconds, microseconds);
        if (trackLatency)
        {
            Server.LatencyHistogram histogram = Volatile.Read(ref _latencies)
                ?? Interlocked.CompareExchange(ref _latencies, new Server.LatencyHistogram(), null)
                ?? _latencies!;
            histogram.Record(microseconds * 1000);
        }
    }

    internal void RecordRejected() => Interlocked.Increment(ref _rejected);

    internal void RecordFailed() => Interlocked.Increment(ref _failed);

    internal void ResetStatistics()
    {
        Volatile.Write(ref _calls, 0);
        Volatile.Write(ref _microseconds, 0);
        Volatile.Write(ref _rejected, 0);
        Volatile.Write(ref _failed, 0);
        Volatile.Write(ref _latencies, null);
    }
}
