using System.Collections.Frozen;
using Durable.Protocol;

namespace Durable.Commands;

/// <summary>
/// Every command by upper-case name. Built once at startup by the families' Register methods, then frozen;
/// lookups take the name as bytes and allocate nothing.
/// </summary>
public sealed class CommandTable
{
    private readonly Dictionary<string, CommandDefinition> _building = new(StringComparer.OrdinalIgnoreCase);
    private FrozenDictionary<string, CommandDefinition>? _commands;
    private FrozenDictionary<string, CommandDefinition>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>The table with every command family registered.</summary>
    public static CommandTable CreateDefault()
    {
        CommandTable table = new();
        Server.ConnectionCommands.Register(table);
        Server.ClientCommands.Register(table);
        Acl.AclCommands.Register(table);
        Server.ServerCommands.Register(table);
        Server.PersistenceCommands.Register(table);
        Server.ReplicationCommands.Register(table);
        Server.ClusterCommands.Register(table);
        Server.DebugCommands.Register(table);
        Server.MemoryCommands.Register(table);
        Server.InfoCommand.Register(table);
        Server.ConfigCommands.Register(table);
        Server.SlowLogCommands.Register(table);
        Server.LatencyCommands.Register(table);
        Server.CommandCommands.Register(table);
        PubSub.PubSubCommands.Register(table);
        Strings.StringCommands.Register(table);
        Strings.StringBitCommands.Register(table);
        Strings.StringSetCommands.Register(table);
        Strings.StringCounterCommands.Register(table);
        Strings.StringLcsCommands.Register(table);
        HyperLogLogs.HyperLogLogCommands.Register(table);
        Keys.KeyCommands.Register(table);
        Keys.DumpCommands.Register(table);
        Keys.ExpireCommands.Register(table);
        Keys.ScanCommands.Register(table);
        Keys.ObjectCommands.Register(table);
        Keys.SortCommands.Register(table);
        Hashes.HashFamily.Register(table);
        Lists.ListCommands.Register(table);
        Lists.ListPopCommands.Register(table);
        Lists.ListBlockingCommands.Register(table);
        SortedSets.SortedSetCommands.Register(table);
        SortedSets.SortedSetBlockingCommands.Register(table);
        Geo.GeoCommands.Register(table);
        Streams.StreamCommands.Register(table);
        Streams.StreamReadCommands.Register(table);
        Streams.StreamGroupCommands.Register(table);
        Sets.SetCommands.Register(table);
        Transactions.TransactionCommands.Register(table);
        Scripting.ScriptingCommands.Register(table);
        Scripting.FunctionCommands.Register(table);
        table.Freeze();
        return table;
    }

    /// <summary>Every command, each container followed by its subcommands (as commandstats and latencystats list them).</summary>
    public IEnumerable<CommandDefinition> AllWithSubcommands => All.SelectMany(c => c.SubCommands is null ? [c] : c.SubCommands.Values.Prepend(c));

    public IEnumerable<CommandDefinition> All => (IEnumerable<CommandDefinition>?)_commands?.Values ?? _building.Values;

    public int Count => _commands?.Count ?? _building.Count;

    public CommandDefinition Add(
        string name, int arity, CommandFlags flags, CommandHandler handler,
        int firstKey = 0, int lastKey = 0, int step = 0, string[]? categories = null, KeyFinder? findKeys = null,
        Func<RespArgs, bool>? locksAllWhen = null, Func<Server.ServerState, RespArgs, CommandFlags>? flagsFor = null)
    {
        CommandDefinition definition = new()
        {
            Name = name,
            Arity = arity,
            Flags = flags,
            Handler = handler,
            FirstKey = firstKey,
            LastKey = lastKey,
            Step = step,
            Categories = categories ?? [],
            FindKeys = findKeys,
            LocksAllWhen = locksAllWhen,
            FlagsFor = flagsFor,
        };
        if (!_building.TryAdd(name, definition))
        {
            throw new InvalidOperationException($"command {name} registered twice");
        }

        return definition;
    }

    /// <summary>Registers subcommands under a container command such as CLIENT; <paramref name="subcommands"/> are built with <see cref="Sub"/>.</summary>
    public CommandDefinition AddContainer(string name, int arity, CommandFlags flags, params CommandDefinition[] subcommands) =>
        AddContainer(name, arity, flags, static (context, args) => { }, null, subcommands);

    /// <summary>
    /// A container whose bare form is a command too (COMMAND with no subcommand): <paramref name="handler"/> runs when
    /// no subcommand is given and <paramref name="arity"/> allows that.
    /// </summary>
    public CommandDefinition AddContainer(
        string name, int arity, CommandFlags flags, CommandHandler handler, string[]? categories, params CommandDefinition[] subcommands)
    {
        CommandDefinition container = Add(name, arity, flags, handler, categories: categories);
        foreach (CommandDefinition sub in subcommands)
        {
            sub.Parent = container;
        }

        container.SubCommands = subcommands.ToFrozenDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
        return container;
    }

    /// <summary>A subcommand definition for AddContainer; arity counts the container name too, as Redis's does.</summary>
    public static CommandDefinition Sub(
        string name, int arity, CommandFlags flags, CommandHandler handler, int firstKey = 0, int lastKey = 0, int step = 0, string[]? categories = null) =>
        new()
        {
            Name = name,
            Arity = arity,
            Flags = flags,
            Handler = handler,
            FirstKey = firstKey,
            LastKey = lastKey,
            Step = step,
            Categories = categories ?? [],
        };

    public void Freeze()
    {
        _commands = _building.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _lookup = _commands.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Finds a command by its name as sent (any case); null when unknown.</summary>
    public CommandDefinition? Find(ReadOnlySpan<byte> name)
    {
        Span<char> chars = stackalloc char[32];
        int length = AsciiCase.ToUpper(name, chars);
        return length >= 0 && _lookup.TryGetValue(chars[..length], out CommandDefinition? definition) ? definition : null;
    }

    /// <summary>Finds a subcommand of <paramref name="container"/>; null when unknown.</summary>
    public static CommandDefinition? FindSub(CommandDefinition container, ReadOnlySpan<byte> name)
    {
        if (container.SubCommands is null)
        {
            return null;
        }

        Span<char> chars = stackalloc char[32];
        int length = AsciiCase.ToUpper(name, chars);
        return length >= 0 && container.SubCommands.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..length], out CommandDefinition? sub) ? sub : null;
    }

    /// <summary>
    /// Redis lookupCommand for a command given as its arguments: a container with a further argument gives that
    /// subcommand (null when it has none by that name).
    /// </summary>
    public CommandDefinition? Lookup(byte[][] parts)
    {
        CommandDefinition? command = Find(parts[0]);
        return command?.SubCommands is not null && parts.Length >= 2 ? FindSub(command, parts[1]) : command;
    }

    public CommandDefinition? Find(string name) => _commands is not null && _commands.TryGetValue(name, out CommandDefinition? d) ? d : null;
}
