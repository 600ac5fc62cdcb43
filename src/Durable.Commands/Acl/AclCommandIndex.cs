using System.Collections.Frozen;
using Durable.Commands.Server;
using Durable.Protocol;

namespace Durable.Commands.Acl;

/// <summary>
/// The commands as ACL rules see them: an id per command and subcommand (its bit in a selector, <see cref="CommandDefinition.AclId"/>),
/// in name order, plus one reserved bit that +@all sets so that a user may run commands added later (Redis's
/// USER_COMMAND_BITS_COUNT-1); each command's categories as bits in <see cref="CommandCommands.CategoryOrder"/>.
/// </summary>
internal sealed class AclCommandIndex
{
    private readonly FrozenDictionary<string, CommandDefinition> _byName;
    private readonly uint[] _categories;

    public AclCommandIndex(CommandTable table)
    {
        ById = [.. table.AllWithSubcommands.OrderBy(c => c.FullName, StringComparer.Ordinal)];
        _categories = new uint[ById.Length];
        for (int id = 0; id < ById.Length; id++)
        {
            ById[id].AclId = id;
            foreach (string category in CommandCommands.CategoriesOf(ById[id]))
            {
                int bit = Array.IndexOf(CommandCommands.CategoryOrder, category);
                if (bit >= 0)
                {
                    _categories[id] |= 1u << bit;
                }
            }
        }

        _byName = ById.ToFrozenDictionary(c => c.FullName, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Every command and subcommand by id.</summary>
    public CommandDefinition[] ById { get; }

    /// <summary>The bit only +@all (allcommands) sets.</summary>
    public int FutureBit => ById.Length;

    public int Words => (ById.Length + 64) / 64;

    public uint Categories(CommandDefinition command) => _categories[command.AclId];

    /// <summary>Redis ACLLookupCommand: "get" or "config|get", in any case.</summary>
    public CommandDefinition? Lookup(string name) => _byName.GetValueOrDefault(name);
}

/// <summary>
/// The keys of one command and the permissions each needs (Redis getKeysFromCommandWithSpecs and the key specs' flags:
/// ACCESS needs read, INSERT, DELETE and UPDATE need write), found once per check and shared by the user's selectors.
/// One per thread, reused: a check runs start to end on its thread.
/// </summary>
internal sealed class AclKeys
{
    // A command's needs when its one key spec covers every key alike; VariesByKey when they must be found per key.
    private const int VariesByKey = -1;

    [ThreadStatic]
    private static AclKeys? s_current;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<CommandDefinition, int> s_uniformNeeds = new();

    private readonly List<int> _indexes = [];
    private readonly List<(int At, int Flags)> _keys = [];
    private bool _found;

    /// <summary>This thread's instance, emptied for a new check.</summary>
    public static AclKeys ForCheck()
    {
        AclKeys keys = s_current ??= new AclKeys();
        keys._found = false;
        return keys;
    }

    public static bool CommandHasKeys(CommandDefinition command) => command.FirstKey > 0 || command.FindKeys is not null;

    public List<(int At, int Flags)> Of(CommandDefinition command, RespArgs args)
    {
        if (_found)
        {
            return _keys;
        }

        _found = true;
        _keys.Clear();
        _indexes.Clear();
        command.GetKeyIndexes(args, _indexes);
        int uniform = VariableFlags(command, args) ?? s_uniformNeeds.GetOrAdd(command, UniformNeeds);
        Dictionary<int, RespNode>? flags = uniform == VariesByKey ? KeySpecs.FlagsByPosition(Specs(command), args) : null;
        foreach (int at in _indexes)
        {
            _keys.Add((at, uniform != VariesByKey ? uniform : flags?.GetValueOrDefault(at) is { } node ? Needs(node) : 0));
        }

        return _keys;
    }

    private static RespNode[] Specs(CommandDefinition command) => CommandDocs.Instance.Info(command.FullName)?.Children[8].Children ?? [];

    private static int UniformNeeds(CommandDefinition command)
    {
        RespNode[] specs = Specs(command);
        return specs.Length == 1 && specs[0]["flags"] is { } flags ? Needs(flags) : VariesByKey;
    }

    private static int Needs(RespNode flags)
    {
        int needs = 0;
        foreach (RespNode flag in flags.Children)
        {
            needs |= flag.Text?.ToUpperInvariant() switch
            {
                "ACCESS" => AclSelector.ReadPermission,
                "INSERT" or "DELETE" or "UPDATE" => AclSelector.WritePermission,
                _ => 0,
            };
        }

        return needs;
    }

    // The key specs flagged VARIABLE_FLAGS take their flags from the arguments (Redis setGetKeys, bitfieldGetKeys):
    // SET reads its key only with GET; BITFIELD with only GET and OVERFLOW operations does not write it.
    private static int? VariableFlags(CommandDefinition command, RespArgs args)
    {
        if (command.FullName == "set")
        {
            for (int i = 3; i < args.Count; i++)
            {
                if (args.Is(i, "GET"u8))
                {
                    return AclSelector.AllPermissions;
                }
            }

            return AclSelector.WritePermission;
        }

        if (command.FullName != "bitfield")
        {
            return null;
        }

        for (int i = 2; i < args.Count; i++)
        {
            int more = args.Count - i - 1;
            if (args.Is(i, "GET"u8) && more >= 2)
            {
                i += 2;
            }
            else if (args.Is(i, "OVERFLOW"u8) && more >= 1)
            {
                i++;
            }
            else
            {
                return AclSelector.AllPermissions;
            }
        }

        return AclSelector.ReadPermission;
    }

    /// <summary>
    /// Redis commands_with_channels: the channels a command publishes to (PUBLISH, SPUBLISH: the first argument) or
    /// subscribes to ((S|P)SUBSCRIBE: every argument; PSUBSCRIBE's are patterns); unsubscribing is not checked. Returns
    /// the first and last argument, and whether they are patterns; none when last &lt; first.
    /// </summary>
    public static (int First, int Last, bool Pattern) Channels(CommandDefinition command, int count) => command.FullName switch
    {
        "publish" or "spublish" => (1, 1, false),
        "subscribe" or "ssubscribe" => (1, count - 1, false),
        "psubscribe" => (1, count - 1, true),
        _ => (1, 0, false),
    };
}
