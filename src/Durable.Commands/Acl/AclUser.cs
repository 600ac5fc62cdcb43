using System.Security.Cryptography;
using System.Text;
using Durable.Protocol;

namespace Durable.Commands.Acl;

/// <summary>
/// An ACL user: a name and its current rules. Connections hold the user they authenticated as; ACL SETUSER swaps in new
/// rules, which every connection of the user sees from its next command, and ACL DELUSER marks it removed.
/// </summary>
internal sealed class AclUser(string name, AclRules rules)
{
    private AclRules _rules = rules;
    private volatile bool _removed;

    public string Name { get; } = name;

    public AclRules Rules
    {
        get => Volatile.Read(ref _rules);
        set => Volatile.Write(ref _rules, value);
    }

    /// <summary>Set once ACL DELUSER or ACL LOAD dropped the user; its connections are closed.</summary>
    public bool Removed
    {
        get => _removed;
        set => _removed = value;
    }
}

/// <summary>
/// A user's rules (Redis's user struct less its name): on or off, nopass, the payload sanitizing flag, password hashes
/// and the selectors, the root first. Built by applying rules to a copy (<see cref="Clone"/>, <see cref="Apply"/>) and
/// never changed once a user holds it.
/// </summary>
internal sealed class AclRules
{
    private const int HashLength = 64;
    private readonly AclCommandIndex _index;
    private string? _description;

    private AclRules(AclCommandIndex index) => _index = index;

    public bool Enabled { get; private set; }
    public bool NoPass { get; private set; }

    /// <summary>0: neither flag; 1: sanitize-payload; 2: skip-sanitize-payload.</summary>
    public int Sanitize { get; private set; }

    public List<string> Passwords { get; } = [];
    public List<AclSelector> Selectors { get; } = [];

    public AclSelector Root => Selectors[0];

    /// <summary>Whether some selector allows every command on every key and channel: no check is needed.</summary>
    public bool Unrestricted { get; private set; }

    /// <summary>A new user's rules (Redis ACLCreateUser): off, no password, no commands, no keys, channels per acl-pubsub-default.</summary>
    public static AclRules NewUser(AclCommandIndex index, bool allChannels)
    {
        AclRules rules = new(index);
        rules.Selectors.Add(new AclSelector(index, root: true, allChannels));
        return rules;
    }

    public AclRules Clone()
    {
        AclRules copy = new(_index) { Enabled = Enabled, NoPass = NoPass, Sanitize = Sanitize, Unrestricted = Unrestricted };
        copy.Passwords.AddRange(Passwords);
        copy.Selectors.AddRange(Selectors.Select(s => s.Clone()));
        return copy;
    }

    /// <summary>Redis ACLSetUser: applies one rule; an empty one does nothing.</summary>
    public AclRuleError Apply(string op, bool allChannelsByDefault)
    {
        _description = null;
        AclRuleError result = ApplyRule(op, allChannelsByDefault);
        Unrestricted = Selectors.Any(s => s.Unrestricted);
        return result;
    }

    private AclRuleError ApplyRule(string op, bool allChannelsByDefault)
    {
        if (op.Length == 0)
        {
            return AclRuleError.None;
        }

        switch (op.ToLowerInvariant())
        {
            case "on":
                Enabled = true;
                return AclRuleError.None;
            case "off":
                Enabled = false;
                return AclRuleError.None;
            case "skip-sanitize-payload":
                Sanitize = 2;
                return AclRuleError.None;
            case "sanitize-payload":
                Sanitize = 1;
                return AclRuleError.None;
            case "nopass":
                NoPass = true;
                Passwords.Clear();
                return AclRuleError.None;
            case "resetpass":
                NoPass = false;
                Passwords.Clear();
                return AclRuleError.None;
            case "clearselectors":
                Selectors.RemoveRange(1, Selectors.Count - 1);
                return AclRuleError.None;
            case "reset":
                NoPass = false;
                Passwords.Clear();
                Root.Apply("resetkeys");
                Root.Apply(allChannelsByDefault ? "allchannels" : "resetchannels");
                Enabled = false;
                Sanitize = 1;
                Selectors.RemoveRange(1, Selectors.Count - 1);
                Root.Apply("-@all");
                return AclRuleError.None;
        }

        switch (op[0])
        {
            case '>' or '#':
                string? added = op[0] == '>' ? Hash(op[1..]) : ValidHash(op[1..]);
                if (added is null)
                {
                    return AclRuleError.BadHash;
                }

                if (!Passwords.Contains(added))
                {
                    Passwords.Add(added);
                }

                NoPass = false;
                return AclRuleError.None;
            case '<' or '!':
                string? removed = op[0] == '<' ? Hash(op[1..]) : ValidHash(op[1..]);
                if (removed is null)
                {
                    return AclRuleError.BadHash;
                }

                return Passwords.Remove(removed) ? AclRuleError.None : AclRuleError.NoSuchPassword;
            case '(' when op[^1] == ')':
                AclSelector selector = new(_index, root: false, allChannelsByDefault);
                foreach (string inner in AclRuleText.Split(op[1..^1]) ?? [])
                {
                    AclRuleError error = selector.Apply(inner);
                    if (error != AclRuleError.None)
                    {
                        return error;
                    }
                }

                Selectors.Add(selector);
                return AclRuleError.None;
            default:
                return Root.Apply(op);
        }
    }

    /// <summary>Redis ACLHashPassword: SHA-256 in lower-case hex; the password's bytes are the op's Latin-1 characters.</summary>
    public static string Hash(string password) => Convert.ToHexStringLower(SHA256.HashData(Encoding.Latin1.GetBytes(password)));

    public static string Hash(ReadOnlySpan<byte> password) => Convert.ToHexStringLower(SHA256.HashData(password));

    private static string? ValidHash(string hash) =>
        hash.Length == HashLength && hash.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')) ? hash : null;

    /// <summary>Redis ACLCheckUserCredentials for an existing user: enabled, and nopass or a matching password.</summary>
    public bool Accepts(ReadOnlySpan<byte> password)
    {
        if (!Enabled)
        {
            return false;
        }

        if (NoPass)
        {
            return true;
        }

        byte[] hashed = Encoding.ASCII.GetBytes(Hash(password));
        bool matched = false;
        foreach (string stored in Passwords)
        {
            matched |= CryptographicOperations.FixedTimeEquals(hashed, Encoding.ASCII.GetBytes(stored));
        }

        return matched;
    }

    /// <summary>
    /// Redis ACLCheckAllUserCommandPerm: allowed if any selector allows it; otherwise the denial to report: a key or
    /// channel over the command, and among those the one found furthest into the arguments.
    /// </summary>
    public AclDenial Check(CommandDefinition command, RespArgs args, out int position)
    {
        position = 0;
        if (Unrestricted)
        {
            return AclDenial.None;
        }

        AclDenial relevant = AclDenial.Command;
        AclKeys keys = AclKeys.ForCheck();
        foreach (AclSelector selector in Selectors)
        {
            AclDenial denial = selector.Check(command, args, keys, out int at);
            if (denial == AclDenial.None)
            {
                position = 0;
                return AclDenial.None;
            }

            if (denial > relevant || (denial == relevant && at > position))
            {
                relevant = denial;
                position = at;
            }
        }

        return relevant;
    }

    /// <summary>Redis ACLUserCheckCmdWithUnrestrictedKeyAccess: some selector allows the command and every key with <paramref name="needs"/>.</summary>
    public bool MayRunOnEveryKey(CommandDefinition command, RespArgs args, int needs)
    {
        AclKeys keys = AclKeys.ForCheck();
        foreach (AclSelector selector in Selectors)
        {
            if (selector.Check(command, args, keys, out _) == AclDenial.None && selector.MayAccessEveryKey(needs))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Redis ACLDescribeUser: flags, password hashes, the root selector, then the others in parentheses.</summary>
    public string Describe()
    {
        if (_description is not null)
        {
            return _description;
        }

        StringBuilder text = new();
        text.Append(Enabled ? "on " : "off ");
        if (NoPass)
        {
            text.Append("nopass ");
        }

        if (Sanitize != 0)
        {
            text.Append(Sanitize == 2 ? "skip-sanitize-payload " : "sanitize-payload ");
        }

        foreach (string password in Passwords)
        {
            text.Append('#').Append(password).Append(' ');
        }

        foreach (AclSelector selector in Selectors)
        {
            text.Append(selector.Root ? selector.Describe() : $" ({selector.Describe()})");
        }

        return _description = text.ToString();
    }

    /// <summary>ACL GETUSER's flags, in Redis's order.</summary>
    public IEnumerable<string> Flags()
    {
        yield return Enabled ? "on" : "off";
        if (NoPass)
        {
            yield return "nopass";
        }

        if (Sanitize != 0)
        {
            yield return Sanitize == 2 ? "skip-sanitize-payload" : "sanitize-payload";
        }
    }
}

/// <summary>Splitting rule text as Redis does: sdssplitargs for a selector's inside, and the merging of a selector spread over arguments.</summary>
internal static class AclRuleText
{
    /// <summary>Redis sdssplitargs (quotes and escapes); null when the quotes do not balance.</summary>
    public static List<string>? Split(string text)
    {
        byte[][]? parts = InlineSplitter.Split(Encoding.Latin1.GetBytes(text));
        return parts?.Select(p => Encoding.Latin1.GetString(p)).ToList();
    }

    /// <summary>
    /// Redis ACLMergeSelectorArguments: "(~key" "+get)" becomes one "(~key +get)". Null when a "(" is never closed;
    /// <paramref name="unclosed"/> is then its index.
    /// </summary>
    public static List<string>? MergeSelectors(IReadOnlyList<string> ops, out int unclosed)
    {
        unclosed = -1;
        List<string> merged = [];
        StringBuilder? selector = null;
        for (int i = 0; i < ops.Count; i++)
        {
            string op = ops[i];
            if (op.Length > 0 && op[0] == '(' && op[^1] != ')')
            {
                selector = new StringBuilder(op);
                unclosed = i;
                continue;
            }

            if (unclosed >= 0)
            {
                selector!.Append(' ').Append(op);
                if (op.Length > 0 && op[^1] == ')')
                {
                    unclosed = -1;
                    merged.Add(selector.ToString());
                }

                continue;
            }

            merged.Add(op);
        }

        return unclosed >= 0 ? null : merged;
    }

    /// <summary>Redis ACLSetUserStringError.</summary>
    public static string Message(AclRuleError error) => error switch
    {
        AclRuleError.UnknownCommand => "Unknown command or category name in ACL",
        AclRuleError.Syntax => "Syntax error",
        AclRuleError.KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
        AclRuleError.ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
        AclRuleError.NoSuchPassword => "The password you are trying to remove from the user does not exist",
        AclRuleError.BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        AclRuleError.FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        _ => "Wrong format",
    };
}
