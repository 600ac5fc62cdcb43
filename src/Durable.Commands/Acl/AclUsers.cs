using System.Collections.Immutable;
using System.Text;
using Durable.Commands.Server;

namespace Durable.Commands.Acl;

/// <summary>
/// The server's ACL users (Redis's Users radix tree, in name order), the default user every connection starts as, and
/// the ACL log. Changes take a lock and publish a new table; checks read the table without one. As in Redis, users are
/// configuration, not data: they come from the config file's <c>user</c> lines or the <c>aclfile</c>, and survive a
/// restart only through ACL SAVE or CONFIG REWRITE.
/// </summary>
public sealed class AclUsers
{
    private readonly object _gate = new();
    private readonly ServerConfig _config;
    private ImmutableSortedDictionary<string, AclUser> _users = ImmutableSortedDictionary.Create<string, AclUser>(StringComparer.Ordinal);

    /// <summary>Creates the default user and the users configured; throws <see cref="ConfigException"/> when they cannot load.</summary>
    public AclUsers(CommandTable commands, ServerConfig config)
    {
        _config = config;
        Index = new AclCommandIndex(commands);
        Default = new AclUser("default", DefaultRules());
        Superuser = new AclUser("(superuser)", DefaultRules());
        _users = _users.Add(Default.Name, Default);
        if (config.RequirePass.Length > 0)
        {
            SetDefaultPassword(config.RequirePass);
        }

        LoadAtStartup();
    }

    internal AclCommandIndex Index { get; }

    internal AclUser Default { get; }

    /// <summary>The user a replica's link to its primary runs as (Redis's NULL user, "(superuser)"): everything, no login.</summary>
    internal AclUser Superuser { get; }

    internal AclLog Log { get; } = new();

    private bool AllChannelsByDefault => _config.AclPubsubDefault == "allchannels";

    internal IEnumerable<AclUser> All => Volatile.Read(ref _users).Values;

    internal AclUser? Find(string name) => Volatile.Read(ref _users).GetValueOrDefault(name);

    /// <summary>Whether a connection starting now is logged in at once (Redis: the default user is on and nopass).</summary>
    internal bool NewConnectionsAuthenticated => Default.Rules is { Enabled: true, NoPass: true };

    /// <summary>Redis ACLCheckUserCredentials; null when the user does not exist, is off, or the password is wrong.</summary>
    internal AclUser? Authenticate(string name, ReadOnlySpan<byte> password)
    {
        AclUser? user = Find(name);
        return user is not null && user.Rules.Accepts(password) ? user : null;
    }

    /// <summary>
    /// Redis ACLStringSetUser: applies every rule to a copy of the user's rules (or a new user's), and only if all are
    /// valid makes them the user's. Returns the error to reply, or null.
    /// </summary>
    internal string? SetUser(string name, IReadOnlyList<string> ops, ClientRegistry clients)
    {
        List<string>? merged = AclRuleText.MergeSelectors(ops, out int unclosed);
        if (merged is null)
        {
            return $"Unmatched parenthesis in acl selector starting at '{ops[unclosed]}'.";
        }

        lock (_gate)
        {
            AclUser? user = Find(name);
            AclRules rules = user?.Rules.Clone() ?? AclRules.NewUser(Index, AllChannelsByDefault);
            foreach (string op in merged)
            {
                AclRuleError error = rules.Apply(op, AllChannelsByDefault);
                if (error != AclRuleError.None)
                {
                    return $"Error in ACL SETUSER modifier '{op}': {AclRuleText.Message(error)}";
                }
            }

            if (user is null)
            {
                Volatile.Write(ref _users, _users.Add(name, new AclUser(name, rules)));
                return null;
            }

            AclRules before = user.Rules;
            user.Rules = rules;
            CloseSubscribersNoLongerAllowed(user, before, rules, clients);
            return null;
        }
    }

    /// <summary>Redis ACL DELUSER: removes the users and closes their connections; returns how many existed.</summary>
    internal int Delete(IEnumerable<string> names, ClientRegistry clients, ClientState current)
    {
        int deleted = 0;
        lock (_gate)
        {
            foreach (string name in names)
            {
                if (_users.TryGetValue(name, out AclUser? user))
                {
                    Volatile.Write(ref _users, _users.Remove(name));
                    Drop(user, clients, current);
                    deleted++;
                }
            }
        }

        return deleted;
    }

    /// <summary>Redis ACLUpdateDefaultUserPassword (requirepass): the password, or nopass when empty.</summary>
    internal void SetDefaultPassword(string password)
    {
        lock (_gate)
        {
            AclRules rules = Default.Rules.Clone();
            rules.Apply("resetpass", AllChannelsByDefault);
            rules.Apply(password.Length > 0 ? ">" + password : "nopass", AllChannelsByDefault);
            Default.Rules = rules;
        }
    }

    /// <summary>ACL LOAD (Redis ACLLoadFromFile): all of the file's users or, on any error, none; null or the errors.</summary>
    internal string? LoadFile(ClientRegistry? clients, ClientState? current)
    {
        string path = _config.AclFile;
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.Latin1);
        }
        catch (IOException e)
        {
            return $"Error loading ACLs, opening file '{path}': {e.Message}";
        }
        catch (UnauthorizedAccessException e)
        {
            return $"Error loading ACLs, opening file '{path}': {e.Message}";
        }

        StringBuilder errors = new();
        Dictionary<string, AclRules> loaded = new(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int line = i + 1;
            string trimmed = lines[i].Trim(' ', '\t', '\r', '\n');
            if (trimmed.Length == 0)
            {
                continue;
            }

            string[] words = trimmed.Split(' ');
            if (words[0] != "user" || words.Length < 2)
            {
                errors.Append(path).Append(':').Append(line).Append(" should start with user keyword followed by the username. ");
                continue;
            }

            if (AclSelector.HasSpaces(words[1]))
            {
                errors.Append('\'').Append(path).Append(':').Append(line).Append(": username '").Append(words[1]).Append("' contains invalid characters. ");
                continue;
            }

            if (loaded.ContainsKey(words[1]))
            {
                errors.Append("WARNING: Duplicate user '").Append(words[1]).Append("' found on line ").Append(line).Append(". ");
                continue;
            }

            AclRules rules = AclRules.NewUser(Index, AllChannelsByDefault);
            loaded[words[1]] = rules;
            List<string>? ops = AclRuleText.MergeSelectors(words[2..], out _);
            if (ops is null)
            {
                errors.Append(path).Append(':').Append(line).Append(": Unmatched parenthesis in selector definition.");
                continue;
            }

            bool syntaxError = false;
            foreach (string op in ops.Select(o => o.Trim('\t', '\r', '\n')))
            {
                AclRuleError error = rules.Apply(op, AllChannelsByDefault);
                if (error == AclRuleError.UnknownCommand)
                {
                    errors.Append(path).Append(':').Append(line).Append(": Error in applying operation '").Append(op).Append("': ").Append(AclRuleText.Message(error)).Append(". ");
                }
                else if (error != AclRuleError.None && !syntaxError)
                {
                    errors.Append(path).Append(':').Append(line).Append(": ").Append(AclRuleText.Message(error)).Append(". ");
                    syntaxError = true;
                }
            }
        }

        if (errors.Length > 0)
        {
            return errors.Append("WARNING: ACL errors detected, no change to the previously active ACL rules was performed").ToString();
        }

        lock (_gate)
        {
            ImmutableSortedDictionary<string, AclUser> old = _users;
            ImmutableSortedDictionary<string, AclUser>.Builder users = ImmutableSortedDictionary.CreateBuilder<string, AclUser>(StringComparer.Ordinal);
            foreach ((string name, AclRules rules) in loaded)
            {
                if (name != Default.Name)
                {
                    users.Add(name, new AclUser(name, rules));
                }
            }

            Default.Rules = loaded.GetValueOrDefault(Default.Name) ?? DefaultRules();
            users.Add(Default.Name, Default);
            Volatile.Write(ref _users, users.ToImmutable());
            foreach (AclUser user in old.Values.Where(u => u != Default))
            {
                if (clients is not null && current is not null)
                {
                    Drop(user, clients, current);
                }
            }
        }

        return null;
    }

    // Redis ACLCreateDefaultUser: on, no password, every command, key and channel.
    private AclRules DefaultRules()
    {
        AclRules rules = AclRules.NewUser(Index, AllChannelsByDefault);
        foreach (string op in new[] { "+@all", "~*", "&*", "on", "nopass" })
        {
            rules.Apply(op, AllChannelsByDefault);
        }

        return rules;
    }

    /// <summary>The users as ACL LIST and ACL SAVE write them: "user NAME RULES", in name order.</summary>
    internal IEnumerable<string> Lines() => All.Select(u => $"user {u.Name} {u.Rules.Describe()}");

    /// <summary>ACL SAVE: the users written over the ACL file, which a crash leaves whole (old or new).</summary>
    internal void SaveFile() =>
        Storage.Persistence.DirectorySync.ReplaceFile(_config.AclFile, Encoding.Latin1.GetBytes(string.Concat(Lines().Select(l => l + "\n"))));

    // Redis ACLLoadUsersAtStartup: the config file's users, or the ACL file's, never both.
    private void LoadAtStartup()
    {
        if (_config.AclFile.Length > 0 && _config.Users.Count > 0)
        {
            throw new ConfigException(
                "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely " +
                "to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.");
        }

        foreach (string line in _config.Users)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                throw new ConfigException("user: the user line needs a username");
            }

            if (Find(words[0]) is not null && words[0] != Default.Name)
            {
                throw new ConfigException($"user {words[0]}: Duplicate user found. A user can only be defined once in config files");
            }

            List<string>? ops = AclRuleText.MergeSelectors(words[1..], out _) ?? throw new ConfigException($"user {words[0]}: Unmatched parenthesis in acl selector");
            AclRules rules = words[0] == Default.Name ? Default.Rules.Clone() : AclRules.NewUser(Index, AllChannelsByDefault);
            if (words[0] == Default.Name)
            {
                rules.Apply("reset", AllChannelsByDefault);
            }

            foreach (string op in ops)
            {
                AclRuleError error = rules.Apply(op, AllChannelsByDefault);
                if (error != AclRuleError.None)
                {
                    throw new ConfigException($"Error loading ACL rule '{op}' for the user named '{words[0]}': {AclRuleText.Message(error)}");
                }
            }

            if (words[0] == Default.Name)
            {
                Default.Rules = rules;
            }
            else
            {
                _users = _users.Add(words[0], new AclUser(words[0], rules));
            }
        }

        if (_config.AclFile.Length > 0 && LoadFile(null, null) is { } errors)
        {
            throw new ConfigException("Aborting Redis startup because of ACL errors: " + errors);
        }
    }

    // Redis ACLFreeUserAndKillClients: the user's connections go back to the default user, unauthenticated, and close
    // (the one running the command after its reply).
    private static void Drop(AclUser user, ClientRegistry clients, ClientState current)
    {
        user.Removed = true;
        foreach (ClientState client in clients.All.Where(c => c.AclUser == user))
        {
            client.Authenticated = false;
            if (client == current)
            {
                client.CloseAfterReply = true;
            }
            else
            {
                client.Close?.Invoke();
            }
        }
    }

    // Redis ACLKillPubsubClientsIfNeeded: subscribers of the user to a channel or pattern the new rules no longer allow
    // are disconnected.
    private void CloseSubscribersNoLongerAllowed(AclUser user, AclRules before, AclRules after, ClientRegistry clients)
    {
        if (after.Selectors.Any(s => s.AllChannels))
        {
            return;
        }

        HashSet<string> upcoming = [.. after.Selectors.SelectMany(s => s.Channels).Select(c => c.Pattern)];
        if (!before.Selectors.Any(s => s.AllChannels) && before.Selectors.SelectMany(s => s.Channels).All(c => upcoming.Contains(c.Pattern)))
        {
            return;
        }

        AclSelector allowed = new(Index, root: false, allChannels: false);
        foreach (string channel in upcoming)
        {
            allowed.Apply("&" + channel);
        }

        foreach (ClientState client in clients.All.Where(c => c.AclUser == user && c.Subscriptions.Any))
        {
            bool violates;
            try
            {
                violates = client.Subscriptions.Of(PubSub.SubscriptionKind.Pattern).Any(p => !allowed.MayUseChannel(p, isPattern: true))
                    || client.Subscriptions.Of(PubSub.SubscriptionKind.Channel).Concat(client.Subscriptions.Of(PubSub.SubscriptionKind.ShardChannel))
                        .Any(c => !allowed.MayUseChannel(c, isPattern: false));
            }
            catch (InvalidOperationException)
            {
                // The connection (un)subscribed while this looked: it may hold what it may no longer have.
                violates = true;
            }

            if (violates)
            {
                client.Close?.Invoke();
            }
        }
    }
}
