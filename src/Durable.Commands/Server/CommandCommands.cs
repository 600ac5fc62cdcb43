using System.Text;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// COMMAND and its subcommands. Name, arity, flags, legacy key positions and ACL categories come from our
/// <see cref="CommandTable"/>; tips, key specs and docs come from Redis's own data (<see cref="CommandDocs"/>).
/// </summary>
internal static class CommandCommands
{
    private const CommandFlags Flags = CommandFlags.Loading | CommandFlags.Stale;
    private static readonly string[] s_categories = ["slow", "connection"];

    // Redis's order for COMMAND INFO flags (addReplyCommandFlags); may_replicate is hidden there too.
    private static readonly (CommandFlags Flag, string Name)[] s_flagNames =
    [
        (CommandFlags.Write, "write"), (CommandFlags.ReadOnly, "readonly"), (CommandFlags.DenyOom, "denyoom"),
        (CommandFlags.Admin, "admin"), (CommandFlags.PubSub, "pubsub"), (CommandFlags.NoScript, "noscript"),
        (CommandFlags.Blocking, "blocking"), (CommandFlags.Loading, "loading"), (CommandFlags.Stale, "stale"),
        (CommandFlags.SkipMonitor, "skip_monitor"), (CommandFlags.SkipSlowlog, "skip_slowlog"), (CommandFlags.Fast, "fast"),
        (CommandFlags.NoAuth, "no_auth"), (CommandFlags.NoMandatoryKeys, "no_mandatory_keys"), (CommandFlags.NoAsyncLoading, "no_async_loading"), (CommandFlags.NoMulti, "no_multi"),
    ];

    /// <summary>Redis's ACL categories in their order (ACLCommandCategories), which COMMAND INFO and ACL CAT follow.</summary>
    internal static readonly string[] CategoryOrder =
    [
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
        "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
    ];

    private static readonly string[] s_help =
    [
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ];

    public static void Register(CommandTable table) =>
        table.AddContainer(
            "COMMAND",
            -1,
            Flags,
            All,
            s_categories,
            CommandTable.Sub("COUNT", 2, Flags, Count, categories: s_categories),
            CommandTable.Sub("LIST", -2, Flags, List, categories: s_categories),
            CommandTable.Sub("INFO", -2, Flags, Info, categories: s_categories),
            CommandTable.Sub("DOCS", -2, Flags, Docs, categories: s_categories),
            CommandTable.Sub("GETKEYS", -4, Flags, GetKeys, categories: s_categories),
            CommandTable.Sub("GETKEYSANDFLAGS", -4, Flags, GetKeysAndFlags, categories: s_categories),
            CommandTable.Sub("HELP", 2, Flags, Help, categories: s_categories));

    private static void All(CommandContext context, RespArgs args)
    {
        CommandDefinition[] all = [.. context.Server.Commands.All];
        context.WriteArrayHeader(all.Length);
        foreach (CommandDefinition definition in all)
        {
            WriteInfo(context, definition);
        }
    }

    private static void Count(CommandContext context, RespArgs args) => context.WriteInteger(context.Server.Commands.Count);

    private static IEnumerable<CommandDefinition> WithSubcommands(CommandTable table) =>
        table.AllWithSubcommands;

    // COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
    private static void List(CommandContext context, RespArgs args)
    {
        IEnumerable<CommandDefinition> commands = WithSubcommands(context.Server.Commands);
        if (args.Count == 5 && args.Is(2, "FILTERBY"u8))
        {
            string value = Encoding.Latin1.GetString(args[4]);
            if (args.Is(3, "MODULE"u8))
            {
                commands = [];
            }
            else if (args.Is(3, "ACLCAT"u8))
            {
                commands = commands.Where(c => CategoriesOf(c).Contains(value, StringComparer.OrdinalIgnoreCase));
            }
            else if (args.Is(3, "PATTERN"u8))
            {
                byte[] pattern = args[4].ToArray();
                commands = commands.Where(c => GlobPattern.IsMatch(pattern, Encoding.ASCII.GetBytes(c.FullName), ignoreCase: true));
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }
        else if (args.Count != 2)
        {
            context.WriteSyntaxError();
            return;
        }

        CommandDefinition[] list = [.. commands];
        context.WriteArrayHeader(list.Length);
        foreach (CommandDefinition definition in list)
        {
            context.WriteBulk(definition.FullName);
        }
    }

    private static void Info(CommandContext context, RespArgs args)
    {
        if (args.Count == 2)
        {
            All(context, args);
            return;
        }

        context.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            CommandDefinition? definition = FindByFullName(context.Server.Commands, args[i]);
            if (definition is null)
            {
                context.WriteNull();
            }
            else
            {
                WriteInfo(context, definition);
            }
        }
    }

    private static void Docs(CommandContext context, RespArgs args)
    {
        List<CommandDefinition> found = [];
        if (args.Count == 2)
        {
            found.AddRange(context.Server.Commands.All);
        }

        for (int i = 2; i < args.Count; i++)
        {
            if (FindByFullName(context.Server.Commands, args[i]) is { } definition)
            {
                found.Add(definition);
            }
        }

        context.WriteMapHeader(found.Count);
        foreach (CommandDefinition definition in found)
        {
            context.WriteBulk(definition.FullName);
            WriteDocs(context, definition);
        }
    }

    // "client|list" names a subcommand, as in Redis's lookupCommandBySds.
    internal static CommandDefinition? FindByFullName(CommandTable table, ReadOnlySpan<byte> name)
    {
        int bar = name.IndexOf((byte)'|');
        if (bar < 0)
        {
            return table.Find(name);
        }

        CommandDefinition? container = table.Find(name[..bar]);
        return container is null ? null : CommandTable.FindSub(container, name[(bar + 1)..]);
    }

    /// <summary>A command's ACL categories; a container without its own has Redis's @slow.</summary>
    internal static string[] CategoriesOf(CommandDefinition definition) =>
        definition.Categories.Length == 0 && definition.SubCommands is not null ? ["slow"] : definition.Categories;

    /// <summary>One COMMAND INFO entry: the 10 fields of Redis 7.0, subcommands included.</summary>
    private static void WriteInfo(CommandContext context, CommandDefinition definition)
    {
        RespNode? redis = CommandDocs.Instance.Info(definition.FullName);
        context.WriteArrayHeader(10);
        context.WriteBulk(definition.FullName);
        context.WriteInteger(definition.Arity);

        List<string> flags = [.. s_flagNames.Where(f => (definition.Flags & f.Flag) != 0).Select(f => f.Name)];
        if (definition.FindKeys is not null || definition.LocksAllWhen is not null)
        {
            // Redis: movablekeys (keys found by parsing, or named by the data, as SORT's BY and GET) sits between no_multi and allow_busy.
            flags.Add("movablekeys");
        }

        if ((definition.Flags & CommandFlags.AllowBusy) != 0)
        {
            flags.Add("allow_busy");
        }

        context.WriteSetHeader(flags.Count);
        foreach (string flag in flags)
        {
            context.WriteSimple(Encoding.ASCII.GetBytes(flag));
        }

        context.WriteInteger(definition.FirstKey);
        context.WriteInteger(definition.LastKey);
        context.WriteInteger(definition.Step);

        string[] categories = [.. CategoryOrder.Where(CategoriesOf(definition).Contains)];
        context.WriteSetHeader(categories.Length);
        foreach (string category in categories)
        {
            context.WriteSimple(Encoding.ASCII.GetBytes("@" + category));
        }

        WriteOrEmptySet(context, redis?.Children[7]);
        WriteOrEmptySet(context, redis?.Children[8]);
        CommandDefinition[] subcommands = [.. definition.SubCommands?.Values ?? []];
        context.WriteSetHeader(subcommands.Length);
        foreach (CommandDefinition sub in subcommands)
        {
            WriteInfo(context, sub);
        }
    }

    private static void WriteOrEmptySet(CommandContext context, RespNode? node)
    {
        if (node is null)
        {
            context.WriteSetHeader(0);
        }
        else
        {
            node.Write(context.Reply, context.Protocol);
        }
    }

    // Redis's docs map, with its subcommands narrowed to the ones we register. A command Redis does not document
    // gets Redis's minimal form for commands without docs: an empty map.
    private static void WriteDocs(CommandContext context, CommandDefinition definition)
    {
        RespNode? docs = CommandDocs.Instance.Docs(definition.FullName);
        if (docs is null)
        {
            context.WriteMapHeader(0);
            return;
        }

        RespNode[] pairs = docs.Children;
        context.WriteMapHeader(pairs.Length / 2);
        for (int i = 0; i + 1 < pairs.Length; i += 2)
        {
            pairs[i].Write(context.Reply, context.Protocol);
            RespNode value = pairs[i + 1];
            if (pairs[i].Text != "subcommands" || definition.SubCommands is null)
            {
                value.Write(context.Reply, context.Protocol);
                continue;
            }

            List<(RespNode Name, RespNode Docs)> ours = [];
            for (int j = 0; j + 1 < value.Children.Length; j += 2)
            {
                string fullName = value.Children[j].Text!;
                string subName = fullName[(fullName.IndexOf('|', StringComparison.Ordinal) + 1)..];
                if (definition.SubCommands.ContainsKey(subName))
                {
                    ours.Add((value.Children[j], value.Children[j + 1]));
                }
            }

            context.WriteMapHeader(ours.Count);
            foreach ((RespNode name, RespNode subDocs) in ours)
            {
                name.Write(context.Reply, context.Protocol);
                subDocs.Write(context.Reply, context.Protocol);
            }
        }
    }

    /// <summary>The command named at args[2] (a subcommand when it is a container), checked as Redis's getKeysSubcommandImpl does.</summary>
    private static CommandDefinition? FindTarget(CommandContext context, RespArgs target)
    {
        CommandDefinition? definition = context.Server.Commands.Find(target[0]);
        if (definition?.SubCommands is not null)
        {
            definition = target.Count > 1 ? CommandTable.FindSub(definition, target[1]) : null;
        }

        if (definition is null)
        {
            context.WriteError("ERR Invalid command specified"u8);
            return null;
        }

        if (definition.FirstKey <= 0 && definition.FindKeys is null)
        {
            context.WriteError("ERR The command has no key arguments"u8);
            return null;
        }

        if (!definition.AcceptsArgumentCount(target.Count))
        {
            context.WriteError("ERR Invalid number of arguments specified for command"u8);
            return null;
        }

        return definition;
    }

    private static List<int>? KeyIndexes(CommandContext context, CommandDefinition definition, RespArgs target)
    {
        List<int> indexes = [];
        definition.GetKeyIndexes(target, indexes);
        if (indexes.Count == 0)
        {
            context.WriteError("ERR Invalid arguments specified for command"u8);
            return null;
        }

        return indexes;
    }

    private static void GetKeys(CommandContext context, RespArgs args)
    {
        RespArgs target = args.Slice(2);
        if (FindTarget(context, target) is not { } definition || KeyIndexes(context, definition, target) is not { } indexes)
        {
            return;
        }

        context.WriteArrayHeader(indexes.Count);
        foreach (int index in indexes)
        {
            context.WriteBulk(target[index]);
        }
    }

    // Keys come from our table; each key's flags from the Redis key spec that covers its position (none when the
    // specs do not fit and Redis falls back to the command's getkeys procedure).
    private static void GetKeysAndFlags(CommandContext context, RespArgs args)
    {
        RespArgs target = args.Slice(2);
        if (FindTarget(context, target) is not { } definition || KeyIndexes(context, definition, target) is not { } indexes)
        {
            return;
        }

        RespNode[] specs = CommandDocs.Instance.Info(definition.FullName)?.Children[8].Children ?? [];
        Dictionary<int, RespNode>? flagsByIndex = KeySpecs.FlagsByPosition(specs, target);
        context.WriteArrayHeader(indexes.Count);
        foreach (int index in indexes)
        {
            context.WriteArrayHeader(2);
            context.WriteBulk(target[index]);
            if (definition.FullName == "set")
            {
                // Redis's setGetKeys: SET's key is RW access update with GET, otherwise OW update (its spec says variable_flags).
                bool get = false;
                for (int i = 3; i < target.Count; i++)
                {
                    get |= target.Is(i, "GET"u8);
                }

                context.WriteSetHeader(get ? 3 : 2);
                context.WriteSimple(get ? "RW"u8 : "OW"u8);
                if (get)
                {
                    context.WriteSimple("access"u8);
                }

                context.WriteSimple("update"u8);
                continue;
            }

            RespNode? flags = flagsByIndex is null ? null : flagsByIndex.GetValueOrDefault(index) ?? (specs.Length > 0 ? specs[0]["flags"] : null);
            WriteOrEmptySet(context, flags);
        }
    }

    private static void Help(CommandContext context, RespArgs args) => HelpReply.Write(context, "COMMAND", s_help);
}
