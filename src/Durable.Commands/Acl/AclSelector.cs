using System.Text;
using Durable.Commands.Server;
using Durable.Protocol;

namespace Durable.Commands.Acl;

/// <summary>Why a user may not run a command; Redis's ACL_DENIED_* values, whose order picks the error to report.</summary>
internal enum AclDenial
{
    None = 0,
    Command = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

/// <summary>
/// One selector of a user (Redis 7.0 aclSelector): the commands it allows (a bit per command and subcommand, plus the
/// reserved bit of +@all that lets the user run commands added later), the first arguments allowed for an otherwise
/// blocked command, key patterns with read and write permissions, and channel patterns. The root selector holds the
/// rules given outside parentheses. Changed only while being built (ACL SETUSER works on a copy); read by any thread after.
/// </summary>
internal sealed class AclSelector
{
    public const int ReadPermission = 1;
    public const int WritePermission = 2;
    public const int AllPermissions = ReadPermission | WritePermission;

    private readonly AclCommandIndex _index;

    public AclSelector(AclCommandIndex index, bool root, bool allChannels)
    {
        _index = index;
        Root = root;
        AllChannels = allChannels;
        Allowed = new ulong[index.Words];
    }

    private AclSelector(AclSelector source)
    {
        _index = source._index;
        Root = source.Root;
        AllKeys = source.AllKeys;
        AllChannels = source.AllChannels;
        AllCommands = source.AllCommands;
        Allowed = (ulong[])source.Allowed.Clone();
        Patterns = [.. source.Patterns];
        Channels = [.. source.Channels];
        FirstArgs = source.FirstArgs?.ToDictionary(e => e.Key, e => new List<string>(e.Value));
    }

    public bool Root { get; }
    public bool AllKeys { get; private set; }
    public bool AllChannels { get; private set; }
    public bool AllCommands { get; private set; }
    public ulong[] Allowed { get; }
    public List<AclPattern> Patterns { get; } = [];
    public List<AclPattern> Channels { get; } = [];

    /// <summary>Command id to the first arguments allowed for it while its bit is off (+select|0); null when none.</summary>
    public Dictionary<int, List<string>>? FirstArgs { get; private set; }

    /// <summary>Whether this selector lets its user run anything, on any key and channel.</summary>
    public bool Unrestricted => AllCommands && AllKeys && AllChannels;

    public AclSelector Clone() => new(this);

    public bool IsAllowed(int id) => (Allowed[id >> 6] & (1UL << (id & 63))) != 0;

    /// <summary>Redis ACLSetSelector: applies one rule; on failure returns the errno Redis would set.</summary>
    public AclRuleError Apply(string op)
    {
        if (Is(op, "allkeys") || op == "~*")
        {
            AllKeys = true;
            Patterns.Clear();
        }
        else if (Is(op, "resetkeys"))
        {
            AllKeys = false;
            Patterns.Clear();
        }
        else if (Is(op, "allchannels") || op == "&*")
        {
            AllChannels = true;
            Channels.Clear();
        }
        else if (Is(op, "resetchannels"))
        {
            AllChannels = false;
            Channels.Clear();
        }
        else if (Is(op, "allcommands") || Is(op, "+@all"))
        {
            Array.Fill(Allowed, ulong.MaxValue);
            AllCommands = true;
            FirstArgs = null;
        }
        else if (Is(op, "nocommands") || Is(op, "-@all"))
        {
            Array.Clear(Allowed);
            AllCommands = false;
            FirstArgs = null;
        }
        else if (op.Length > 0 && op[0] is '~' or '%')
        {
            return AddKeyPattern(op);
        }
        else if (op.Length > 0 && op[0] == '&')
        {
            if (AllChannels)
            {
                return AclRuleError.ChannelAfterAll;
            }

            if (HasSpaces(op.AsSpan(1)))
            {
                return AclRuleError.Syntax;
            }

            if (!Channels.Exists(c => c.Pattern == op[1..]))
            {
                Channels.Add(new AclPattern(op[1..], 0));
            }

            AllChannels = false;
        }
        else if (op.Length > 0 && op[0] == '+' && (op.Length < 2 || op[1] != '@'))
        {
            return Allow(op[1..]);
        }
        else if (op.Length > 0 && op[0] == '-' && (op.Length < 2 || op[1] != '@'))
        {
            CommandDefinition? command = _index.Lookup(op[1..]);
            if (command is null)
            {
                return AclRuleError.UnknownCommand;
            }

            ChangePermission(command, allow: false);
        }
        else if (op.Length > 1 && op[0] is '+' or '-' && op[1] == '@')
        {
            int category = Array.FindIndex(CommandCommands.CategoryOrder, c => c.Equals(op[2..], StringComparison.OrdinalIgnoreCase));
            if (category < 0)
            {
                return AclRuleError.UnknownCommand;
            }

            SetCategory(category, op[0] == '+');
        }
        else
        {
            return AclRuleError.Syntax;
        }

        return AclRuleError.None;
    }

    // "~pattern", "%R~pattern", "%W~pattern", "%RW~pattern": a pattern already there gains the new permissions.
    private AclRuleError AddKeyPattern(string op)
    {
        if (AllKeys)
        {
            return AclRuleError.KeyAfterAll;
        }

        int flags = 0;
        int offset = 1;
        if (op[0] == '%')
        {
            bool permissionsOk = true;
            for (; offset < op.Length; offset++)
            {
                char c = char.ToUpperInvariant(op[offset]);
                if (c == 'R' && (flags & ReadPermission) == 0)
                {
                    flags |= ReadPermission;
                }
                else if (c == 'W' && (flags & WritePermission) == 0)
                {
                    flags |= WritePermission;
                }
                else if (op[offset] == '~')
                {
                    offset++;
                    break;
                }
                else
                {
                    permissionsOk = false;
                    break;
                }
            }

            if (flags == 0 || !permissionsOk)
            {
                return AclRuleError.Syntax;
            }
        }
        else
        {
            flags = AllPermissions;
        }

        string pattern = op[offset..];
        if (HasSpaces(pattern))
        {
            return AclRuleError.Syntax;
        }

        int existing = Patterns.FindIndex(p => p.Pattern == pattern);
        if (existing < 0)
        {
            Patterns.Add(new AclPattern(pattern, flags));
        }
        else
        {
            Patterns[existing] = Patterns[existing] with { Flags = Patterns[existing].Flags | flags };
        }

        AllKeys = false;
        return AclRuleError.None;
    }

    // "+command", "+container|sub", or the deprecated "+command|firstarg" of a command without subcommands.
    private AclRuleError Allow(string name)
    {
        int bar = name.LastIndexOf('|');
        if (bar < 0)
        {
            CommandDefinition? whole = _index.Lookup(name);
            if (whole is null)
            {
                return AclRuleError.UnknownCommand;
            }

            ChangePermission(whole, allow: true);
            return AclRuleError.None;
        }

        CommandDefinition? command = _index.Lookup(name[..bar]);
        if (command is null)
        {
            return AclRuleError.UnknownCommand;
        }

        if (command.Parent is not null)
        {
            return AclRuleError.FirstArgOfSubcommand;
        }

        string sub = name[(bar + 1)..];
        if (sub.Length == 0)
        {
            return AclRuleError.Syntax;
        }

        if (command.SubCommands is not null)
        {
            CommandDefinition? subcommand = _index.Lookup(name);
            if (subcommand is null)
            {
                return AclRuleError.UnknownCommand;
            }

            ChangePermission(subcommand, allow: true);
            return AclRuleError.None;
        }

        FirstArgs ??= [];
        if (!FirstArgs.TryGetValue(command.AclId, out List<string>? allowed))
        {
            FirstArgs[command.AclId] = allowed = [];
        }

        if (!allowed.Contains(sub, StringComparer.OrdinalIgnoreCase))
        {
            allowed.Add(sub);
        }

        return AclRuleError.None;
    }

    /// <summary>Redis ACLChangeSelectorPerm: a command's bit, and a container's subcommands' bits with it.</summary>
    public void ChangePermission(CommandDefinition command, bool allow)
    {
        SetBit(command.AclId, allow);
        FirstArgs?.Remove(command.AclId);
        if (command.SubCommands is not null)
        {
            foreach (CommandDefinition sub in command.SubCommands.Values)
            {
                SetBit(sub.AclId, allow);
            }
        }
    }

    public void SetCategory(int category, bool allow)
    {
        foreach (CommandDefinition command in _index.ById)
        {
            if ((_index.Categories(command) & (1u << category)) != 0)
            {
                ChangePermission(command, allow);
            }
        }
    }

    private void SetBit(int id, bool value)
    {
        if (value)
        {
            Allowed[id >> 6] |= 1UL << (id & 63);
        }
        else
        {
            Allowed[id >> 6] &= ~(1UL << (id & 63));
            AllCommands = false;
        }
    }

    /// <summary>Redis ACLSelectorCheckCmd: whether this selector lets the command run on its keys and channels.</summary>
    public AclDenial Check(CommandDefinition command, RespArgs args, AclKeys keys, out int position)
    {
        position = 0;
        if (!AllCommands && (command.Flags & CommandFlags.NoAuth) == 0 && !IsAllowed(command.AclId))
        {
            int index = command.Parent is null ? 1 : 2;
            if (args.Count < 2 || FirstArgs is null || !FirstArgs.TryGetValue(command.AclId, out List<string>? allowed)
                || index >= args.Count || !AnyEqualsIgnoreCase(allowed, args[index]))
            {
                return AclDenial.Command;
            }
        }

        if (!AllKeys && AclKeys.CommandHasKeys(command))
        {
            foreach ((int at, int flags) in keys.Of(command, args))
            {
                if (!MayAccessKey(args[at], flags))
                {
                    position = at;
                    return AclDenial.Key;
                }
            }
        }

        if (!AllChannels)
        {
            (int first, int last, bool pattern) = AclKeys.Channels(command, args.Count);
            for (int at = first; at <= last; at++)
            {
                if (!MayUseChannel(args[at], pattern))
                {
                    position = at;
                    return AclDenial.Channel;
                }
            }
        }

        return AclDenial.None;
    }

    private static bool AnyEqualsIgnoreCase(List<string> allowed, ReadOnlySpan<byte> argument)
    {
        foreach (string candidate in allowed)
        {
            if (AsciiCase.EqualsIgnoreCase(argument, Encoding.Latin1.GetBytes(candidate)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Redis ACLSelectorCheckKey: <paramref name="needs"/> is the read and write permissions the key's access needs.</summary>
    public bool MayAccessKey(ReadOnlySpan<byte> key, int needs)
    {
        if (AllKeys)
        {
            return true;
        }

        foreach (AclPattern pattern in Patterns)
        {
            if ((pattern.Flags & needs) == needs && GlobPattern.IsMatch(pattern.Bytes, key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Redis ACLSelectorHasUnrestrictedKeyAccess: a pattern "*" (or allkeys) with the permissions asked.</summary>
    public bool MayAccessEveryKey(int needs) => AllKeys || Patterns.Any(p => (p.Flags & needs) == needs && p.Pattern == "*");

    /// <summary>Redis ACLCheckChannelAgainstList: a channel is matched against the patterns, a pattern only literally.</summary>
    public bool MayUseChannel(ReadOnlySpan<byte> channel, bool isPattern)
    {
        if (AllChannels)
        {
            return true;
        }

        foreach (AclPattern allowed in Channels)
        {
            if (isPattern ? channel.SequenceEqual(allowed.Bytes) : GlobPattern.IsMatch(allowed.Bytes, channel))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Redis ACLDescribeSelector: keys, channels, then the command rules.</summary>
    public string Describe()
    {
        StringBuilder text = new();
        if (AllKeys)
        {
            text.Append("~* ");
        }
        else
        {
            foreach (AclPattern pattern in Patterns)
            {
                text.Append(pattern.DescribeKey()).Append(' ');
            }
        }

        if (AllChannels)
        {
            text.Append("&* ");
        }
        else
        {
            text.Append("resetchannels ");
            foreach (AclPattern channel in Channels)
            {
                text.Append('&').Append(channel.Pattern).Append(' ');
            }
        }

        return text.Append(DescribeCommands()).ToString();
    }

    /// <summary>The key patterns as ACL GETUSER's "keys" field: "~*", or each pattern separated by a space.</summary>
    public string DescribeKeys() => AllKeys ? "~*" : string.Join(' ', Patterns.Select(p => p.DescribeKey()));

    public string DescribeChannels() => AllChannels ? "&*" : string.Join(' ', Channels.Select(c => "&" + c.Pattern));

    /// <summary>
    /// Redis ACLDescribeSelectorCommandRules: +@all or -@all, then the categories that fit the bits best (each with more
    /// commands in common than different, fewest differences first), then single commands and first arguments for what
    /// is left. Redis lists the single commands in its command table's hash order, which changes with every process;
    /// Durable lists them in name order.
    /// </summary>
    public string DescribeCommands()
    {
        StringBuilder rules = new();
        bool additive = !IsAllowed(_index.FutureBit);
        AclSelector fake = new(_index, root: false, allChannels: false);
        fake.Apply(additive ? "-@all" : "+@all");
        rules.Append(additive ? "-@all " : "+@all ");
        AclSelector temp = new(_index, root: false, allChannels: false);
        Array.Copy(Allowed, temp.Allowed, Allowed.Length);
        bool[] applied = new bool[CommandCommands.CategoryOrder.Length];
        while (true)
        {
            int best = -1;
            long leastDifferent = int.MaxValue;
            long mostSame = 0;
            for (int category = 0; category < applied.Length; category++)
            {
                if (applied[category])
                {
                    continue;
                }

                (long on, long off) = temp.Count(category);
                long different = additive ? off : on;
                long same = additive ? on : off;
                if (same > different && (different < leastDifferent || (different == leastDifferent && same > mostSame)))
                {
                    best = category;
                    leastDifferent = different;
                    mostSame = same;
                }
            }

            if (best < 0)
            {
                break;
            }

            fake.SetCategory(best, additive);
            temp.SetCategory(best, !additive);
            rules.Append(additive ? "+@" : "-@").Append(CommandCommands.CategoryOrder[best]).Append(' ');
            applied[best] = true;
        }

        foreach (CommandDefinition command in _index.ById)
        {
            bool mine = IsAllowed(command.AclId);
            if (mine != fake.IsAllowed(command.AclId))
            {
                rules.Append(mine ? '+' : '-').Append(command.FullName).Append(' ');
                fake.ChangePermission(command, mine);
            }

            if (!mine && FirstArgs is not null && FirstArgs.TryGetValue(command.AclId, out List<string>? firstArgs))
            {
                foreach (string firstArg in firstArgs)
                {
                    rules.Append('+').Append(command.FullName).Append('|').Append(firstArg).Append(' ');
                }
            }
        }

        return rules.ToString(0, rules.Length - 1);
    }

    // Commands (and subcommands) of a category this selector allows and does not.
    private (long On, long Off) Count(int category)
    {
        long on = 0;
        long off = 0;
        foreach (CommandDefinition command in _index.ById)
        {
            if ((_index.Categories(command) & (1u << category)) != 0)
            {
                if (IsAllowed(command.AclId))
                {
                    on++;
                }
                else
                {
                    off++;
                }
            }
        }

        return (on, off);
    }

    private static bool Is(string op, string word) => op.Equals(word, StringComparison.OrdinalIgnoreCase);

    /// <summary>Redis ACLStringHasSpaces: isspace or NUL.</summary>
    public static bool HasSpaces(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r' or '\0')
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// A key or channel pattern, with its bytes for matching; a key pattern's <paramref name="Flags"/> are the permissions
/// it grants (<see cref="AclSelector.ReadPermission"/>, WritePermission), a channel's are 0.
/// </summary>
internal sealed record AclPattern(string Pattern, int Flags)
{
    public byte[] Bytes { get; } = Encoding.Latin1.GetBytes(Pattern);

    public string DescribeKey() => Flags switch
    {
        AclSelector.AllPermissions => "~" + Pattern,
        AclSelector.ReadPermission => "%R~" + Pattern,
        _ => "%W~" + Pattern,
    };
}

/// <summary>Why a rule was refused: Redis's errno values in ACLSetUser, each with its message.</summary>
internal enum AclRuleError
{
    None,
    UnknownCommand,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}
