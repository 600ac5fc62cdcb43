using System.Globalization;
using System.Text;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>CLIENT and its subcommands, with Redis 7.0 semantics (SETINFO and NO-TOUCH as Redis 7.2 has them).</summary>
internal static class ClientCommands
{
    private const CommandFlags Plain = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags Admin = CommandFlags.Admin | Plain;
    private static readonly string[] s_plain = ["slow", "connection"];
    private static readonly string[] s_admin = ["admin", "slow", "dangerous", "connection"];

    private static readonly string[] s_help =
    [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
    ];

    public static void Register(CommandTable table) =>
        table.AddContainer(
            "CLIENT",
            -2,
            CommandFlags.None,
            CommandTable.Sub("ID", 2, Plain, Id, categories: s_plain),
            CommandTable.Sub("GETNAME", 2, Plain, GetName, categories: s_plain),
            CommandTable.Sub("SETNAME", 3, Plain, SetName, categories: s_plain),
            CommandTable.Sub("SETINFO", 4, Plain, SetInfo, categories: s_plain),
            CommandTable.Sub("LIST", -2, Admin, List, categories: s_admin),
            CommandTable.Sub("INFO", 2, Plain, Info, categories: s_plain),
            CommandTable.Sub("KILL", -3, Admin, Kill, categories: s_admin),
            CommandTable.Sub("PAUSE", -3, Admin, Pause, categories: s_admin),
            CommandTable.Sub("UNPAUSE", 2, Admin, Unpause, categories: s_admin),
            CommandTable.Sub("UNBLOCK", -3, Admin, Unblock, categories: s_admin),
            CommandTable.Sub("REPLY", 3, Plain, Reply, categories: s_plain),
            CommandTable.Sub("NO-EVICT", 3, Admin, NoEvict, categories: s_admin),
            CommandTable.Sub("NO-TOUCH", 3, Plain, NoTouch, categories: s_plain),
            CommandTable.Sub("TRACKING", -3, Plain, Tracking, categories: s_plain),
            CommandTable.Sub("TRACKINGINFO", 2, Plain, TrackingInfo, categories: s_plain),
            CommandTable.Sub("CACHING", 3, Plain, Caching, categories: s_plain),
            CommandTable.Sub("GETREDIR", 2, Plain, GetRedirect, categories: s_plain),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: s_plain));

    /// <summary>Redis clientSetNameOrReply: an empty name clears it; bytes outside '!'..'~' are refused.</summary>
    public static bool TrySetName(CommandContext context, ReadOnlySpan<byte> name)
    {
        if (!IsPrintableWord(name))
        {
            context.WriteError("ERR Client names cannot contain spaces, newlines or special characters."u8);
            return false;
        }

        context.Client.Name = name.IsEmpty ? null : Encoding.Latin1.GetString(name);
        return true;
    }

    private static bool IsPrintableWord(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b is < (byte)'!' or > (byte)'~')
            {
                return false;
            }
        }

        return true;
    }

    private static void Id(CommandContext context, RespArgs args) => context.WriteInteger(context.Client.Id);

    private static void GetName(CommandContext context, RespArgs args)
    {
        if (context.Client.Name is null)
        {
            context.WriteNull();
        }
        else
        {
            context.WriteBulk(context.Client.Name);
        }
    }

    private static void SetName(CommandContext context, RespArgs args)
    {
        if (TrySetName(context, args[2]))
        {
            context.WriteOk();
        }
    }

    // Redis 7.2 clientSetinfoCommand.
    private static void SetInfo(CommandContext context, RespArgs args)
    {
        bool name = args.Is(2, "LIB-NAME"u8);
        if (!name && !args.Is(2, "LIB-VER"u8))
        {
            context.WriteError($"ERR Unrecognized option '{Encoding.Latin1.GetString(args[2])}'");
            return;
        }

        if (!IsPrintableWord(args[3]))
        {
            context.WriteError($"ERR {Encoding.Latin1.GetString(args[2])} cannot contain spaces, newlines or special characters.");
            return;
        }

        string? value = args[3].IsEmpty ? null : Encoding.Latin1.GetString(args[3]);
        if (name)
        {
            context.Client.LibraryName = value;
        }
        else
        {
            context.Client.LibraryVersion = value;
        }

        context.WriteOk();
    }

    private static void List(CommandContext context, RespArgs args)
    {
        HashSet<long>? ids = null;
        ClientType? type = null;
        if (args.Count == 4 && args.Is(2, "TYPE"u8))
        {
            if (!TryParseType(args[3], out ClientType parsed))
            {
                context.WriteError($"ERR Unknown client type '{Encoding.Latin1.GetString(args[3])}'");
                return;
            }

            type = parsed;
        }
        else if (args.Count > 3 && args.Is(2, "ID"u8))
        {
            ids = [];
            for (int i = 3; i < args.Count; i++)
            {
                if (!RedisNumber.TryParseInt64(args[i], out long id))
                {
                    context.WriteError("ERR Invalid client ID"u8);
                    return;
                }

                ids.Add(id);
            }
        }
        else if (args.Count != 2)
        {
            context.WriteSyntaxError();
            return;
        }

        StringBuilder text = new();
        foreach (ClientState client in context.Server.Clients.All)
        {
            if ((ids is null || ids.Contains(client.Id)) && (type is null || TypeOf(client) == type))
            {
                AppendClient(text, client, context.NowMs);
            }
        }

        RespWriter.WriteVerbatim(context.Reply, Encoding.Latin1.GetBytes(text.ToString()), context.Protocol);
    }

    private static void Info(CommandContext context, RespArgs args)
    {
        StringBuilder text = new();
        AppendClient(text, context.Client, context.NowMs);
        RespWriter.WriteVerbatim(context.Reply, Encoding.Latin1.GetBytes(text.ToString()), context.Protocol);
    }

    /// <summary>The client as CLIENT INFO describes it, without the line end (the ACL log's client-info).</summary>
    internal static string Describe(ClientState client, long nowMs)
    {
        StringBuilder text = new();
        AppendClient(text, client, nowMs);
        return text.ToString(0, text.Length - 1);
    }

    // Redis 7.0 catClientInfoString, plus lib-name and lib-ver as Redis 7.2 prints them. Durable does not track the
    // per-client buffer sizes Redis reports (qbuf, argv-mem, rbs, omem, tot-mem...): they read 0 unless known.
    private static void AppendClient(StringBuilder text, ClientState client, long nowMs)
    {
        Transactions.Transaction transaction = client.Transaction;
        TrackingSettings? tracking = client.Tracking;
        string flags = (client.IsReplica ? "S" : "") + (client.IsMonitor ? "O" : "") + (client.Subscriptions.Any ? "P" : "") + (transaction.Active ? "x" : "") + (client.IsBlocked ? "b" : "") +
            (tracking is null ? "" : "t") + (tracking?.RedirectBroken == true ? "R" : "") + (tracking?.Broadcast == true ? "B" : "") + (transaction.WatchedKeyModified ? "d" : "") +
            (client.CloseAfterReply ? "c" : "") + (client.NoEvict ? "e" : "") + (client.NoTouch ? "T" : "");
        text.Append(CultureInfo.InvariantCulture,
            $"id={client.Id} addr={client.Address} laddr={client.LocalAddress} fd={client.Fd} name={client.Name} " +
            $"age={(nowMs - client.CreatedAtMs) / 1000} idle={(nowMs - client.LastInteractionMs) / 1000} flags={(flags.Length == 0 ? "N" : flags)} " +
            $"db={client.Db} sub={client.Subscriptions.Count(PubSub.SubscriptionKind.Channel)} psub={client.Subscriptions.Count(PubSub.SubscriptionKind.Pattern)} ssub={client.Subscriptions.Count(PubSub.SubscriptionKind.ShardChannel)} multi={(transaction.Active ? transaction.Queued.Count : -1)} qbuf={client.InputBufferBytes} qbuf-free=0 argv-mem=0 multi-mem=0 " +
            $"rbs=0 rbp=0 obl=0 oll=0 omem={client.OutputBufferBytes} tot-mem={client.InputBufferBytes + client.OutputBufferBytes} " +
            $"events=r cmd={client.LastCommand} user={client.User} redir={tracking?.Redirect ?? -1} resp={(int)client.Protocol} " +
            $"lib-name={client.LibraryName} lib-ver={client.LibraryVersion}\n");
    }

    // Redis getClientTypeByName: normal, slave/replica, master, pubsub (a primary's link is not listed, so master matches none).
    private static bool TryParseType(ReadOnlySpan<byte> name, out ClientType type)
    {
        type = AsciiCase.EqualsIgnoreCase(name, "normal"u8) ? ClientType.Normal
            : AsciiCase.EqualsIgnoreCase(name, "pubsub"u8) ? ClientType.PubSub
            : AsciiCase.EqualsIgnoreCase(name, "master"u8) ? ClientType.Master
            : ClientType.Replica;
        return type != ClientType.Replica
            || AsciiCase.EqualsIgnoreCase(name, "slave"u8)
            || AsciiCase.EqualsIgnoreCase(name, "replica"u8);
    }

    // Redis getClientType: a replica of this server, else a client with subscriptions is of type pubsub (a monitor is normal).
    private static ClientType TypeOf(ClientState client) =>
        client.IsReplica ? ClientType.Replica : client.Subscriptions.Any ? ClientType.PubSub : ClientType.Normal;

    private enum ClientType
    {
        Normal,
        PubSub,
        Replica,
        Master,
    }

    private static void Kill(CommandContext context, RespArgs args)
    {
        if (args.Count == 3)
        {
            // Old form: CLIENT KILL addr, an error when nobody matches.
            string address = Encoding.Latin1.GetString(args[2]);
            ClientState? victim = context.Server.Clients.All.FirstOrDefault(c => c.Address == address);
            if (victim is null)
            {
                context.WriteError("ERR No such client"u8);
                return;
            }

            context.WriteOk();
            Close(context, victim);
            return;
        }

        long id = 0;
        string? addr = null;
        string? laddr = null;
        ClientType? type = null;
        bool skipMe = true;
        for (int i = 2; i < args.Count; i += 2)
        {
            bool more = i + 1 < args.Count;
            if (!more)
            {
                context.WriteSyntaxError();
                return;
            }

            ReadOnlySpan<byte> value = args[i + 1];
            if (args.Is(i, "ID"u8))
            {
                if (!RedisNumber.TryParseInt64(value, out id) || id <= 0)
                {
                    context.WriteError("ERR client-id should be greater than 0"u8);
                    return;
                }
            }
            else if (args.Is(i, "TYPE"u8))
            {
                if (!TryParseType(value, out ClientType parsed))
                {
                    context.WriteError($"ERR Unknown client type '{Encoding.Latin1.GetString(value)}'");
                    return;
                }

                type = parsed;
            }
            else if (args.Is(i, "ADDR"u8))
            {
                addr = Encoding.Latin1.GetString(value);
            }
            else if (args.Is(i, "LADDR"u8))
            {
                laddr = Encoding.Latin1.GetString(value);
            }
            else if (args.Is(i, "USER"u8))
            {
                if (!value.SequenceEqual("default"u8))
                {
                    context.WriteError($"ERR No such user '{Encoding.Latin1.GetString(value)}'");
                    return;
                }
            }
            else if (args.Is(i, "SKIPME"u8))
            {
                if (AsciiCase.EqualsIgnoreCase(value, "yes"u8))
                {
                    skipMe = true;
                }
                else if (AsciiCase.EqualsIgnoreCase(value, "no"u8))
                {
                    skipMe = false;
                }
                else
                {
                    context.WriteSyntaxError();
                    return;
                }
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        List<ClientState> victims = [.. context.Server.Clients.All.Where(c =>
            (id == 0 || c.Id == id)
            && (addr is null || c.Address == addr)
            && (laddr is null || c.LocalAddress == laddr)
            && (type is null || TypeOf(c) == type)
            && !(skipMe && c == context.Client))];
        context.WriteInteger(victims.Count);
        foreach (ClientState victim in victims)
        {
            Close(context, victim);
        }
    }

    // Redis closes the calling client only after its reply is written.
    private static void Close(CommandContext context, ClientState victim)
    {
        if (victim == context.Client)
        {
            victim.CloseAfterReply = true;
        }
        else
        {
            victim.Close?.Invoke();
        }
    }

    private static void Pause(CommandContext context, RespArgs args)
    {
        if (!context.TryReadTimeoutMilliseconds(args[2], out long timeout))
        {
            return;
        }

        ClientPauseMode mode = ClientPauseMode.All;
        if (args.Count == 4)
        {
            if (args.Is(3, "WRITE"u8))
            {
                mode = ClientPauseMode.Write;
            }
            else if (!args.Is(3, "ALL"u8))
            {
                context.WriteError("ERR CLIENT PAUSE mode must be WRITE or ALL"u8);
                return;
            }
        }
        else if (args.Count > 4)
        {
            context.WriteSyntaxError();
            return;
        }

        context.Server.Pause.Pause(mode, context.NowMs + Math.Min(timeout, long.MaxValue / 4));
        context.WriteOk();
    }

    /// <summary>
    /// Redis clientCommand "unblock": the reason first, then the id; a client blocked on keys (BLPOP, BZPOPMIN...) ends
    /// its wait with the timeout reply or the UNBLOCKED error. A client waiting for CLIENT PAUSE or WAITAOF is not
    /// unblocked (0).
    /// </summary>
    private static void Unblock(CommandContext context, RespArgs args)
    {
        if (args.Count > 4)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        Blocking.UnblockReason reason = Blocking.UnblockReason.Timeout;
        if (args.Count == 4)
        {
            if (args.Is(3, "ERROR"u8))
            {
                reason = Blocking.UnblockReason.Error;
            }
            else if (!args.Is(3, "TIMEOUT"u8))
            {
                context.WriteError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"u8);
                return;
            }
        }

        if (!RedisNumber.TryParseInt64(args[2], out long id))
        {
            context.WriteNotInteger();
            return;
        }

        if (context.Server.Clients.Find(id)?.Unblock is { } unblock)
        {
            unblock(reason);
            context.WriteInteger(1);
        }
        else
        {
            context.WriteInteger(0);
        }
    }

    private static void Unpause(CommandContext context, RespArgs args)
    {
        context.Server.Pause.Unpause();
        context.WriteOk();
    }

    // OFF and SKIP send no reply; ON replies even when replies were off until now.
    private static void Reply(CommandContext context, RespArgs args)
    {
        ClientState client = context.Client;
        if (args.Is(2, "ON"u8))
        {
            client.ReplyMode = ClientReplyMode.On;
            if (context.SuppressedReply is { } output)
            {
                context.Reply = output;
            }

            context.WriteOk();
        }
        else if (args.Is(2, "OFF"u8))
        {
            client.ReplyMode = ClientReplyMode.Off;
        }
        else if (args.Is(2, "SKIP"u8))
        {
            if (client.ReplyMode != ClientReplyMode.Off)
            {
                client.ReplyMode = ClientReplyMode.Skip;
            }
        }
        else
        {
            context.WriteSyntaxError();
        }
    }

    private static void NoEvict(CommandContext context, RespArgs args)
    {
        if (TryParseOnOff(args[2], out bool on))
        {
            context.Client.NoEvict = on;
            context.WriteOk();
        }
        else
        {
            context.WriteSyntaxError();
        }
    }

    // Redis 7.0's CLIENT TRACKING: the options parsed first, then checked together and against the current mode.
    private static void Tracking(CommandContext context, RespArgs args)
    {
        long redirect = 0;
        bool broadcast = false;
        bool optIn = false;
        bool optOut = false;
        bool noLoop = false;
        List<byte[]> prefixes = [];
        for (int i = 3; i < args.Count; i++)
        {
            bool more = i + 1 < args.Count;
            if (args.Is(i, "REDIRECT"u8) && more)
            {
                i++;
                if (redirect != 0)
                {
                    context.WriteError("ERR A client can only redirect to a single other client"u8);
                    return;
                }

                if (!RedisNumber.TryParseInt64(args[i], out redirect))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (context.Server.Clients.Find(redirect) is null)
                {
                    context.WriteError("ERR The client ID you want redirect to does not exist"u8);
                    return;
                }
            }
            else if (args.Is(i, "BCAST"u8))
            {
                broadcast = true;
            }
            else if (args.Is(i, "OPTIN"u8))
            {
                optIn = true;
            }
            else if (args.Is(i, "OPTOUT"u8))
            {
                optOut = true;
            }
            else if (args.Is(i, "NOLOOP"u8))
            {
                noLoop = true;
            }
            else if (args.Is(i, "PREFIX"u8) && more)
            {
                prefixes.Add(args[++i].ToArray());
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        ClientState client = context.Client;
        if (args.Is(2, "OFF"u8))
        {
            context.Server.Tracking.Disable(client);
            context.WriteOk();
            return;
        }

        if (!args.Is(2, "ON"u8))
        {
            context.WriteSyntaxError();
            return;
        }

        TrackingSettings? current = client.Tracking;
        string? refusal =
            !broadcast && prefixes.Count > 0 ? "ERR PREFIX option requires BCAST mode to be enabled"
            : current is not null && current.Broadcast != broadcast ? "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
            : broadcast && (optIn || optOut) ? "ERR OPTIN and OPTOUT are not compatible with BCAST"
            : optIn && optOut ? "ERR You can't specify both OPTIN mode and OPTOUT mode"
            : (optIn && current?.OptOut == true) || (optOut && current?.OptIn == true)
                ? "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
            : broadcast ? PrefixOverlap(prefixes, current?.Prefixes ?? []) : null;
        if (refusal is not null)
        {
            context.WriteError(refusal);
            return;
        }

        context.Server.Tracking.Enable(client, new TrackingSettings { Redirect = redirect, Broadcast = broadcast, OptIn = optIn, OptOut = optOut, NoLoop = noLoop, Prefixes = prefixes });
        context.WriteOk();
    }

    // Redis's checkPrefixCollisionsOrReply: no new prefix may be a prefix of another, new or already there.
    private static string? PrefixOverlap(List<byte[]> prefixes, List<byte[]> existing)
    {
        for (int i = 0; i < prefixes.Count; i++)
        {
            foreach (byte[] other in existing)
            {
                if (prefixes[i].AsSpan().StartsWith(other) || other.AsSpan().StartsWith(prefixes[i]))
                {
                    return $"ERR Prefix '{Encoding.Latin1.GetString(prefixes[i])}' overlaps with an existing prefix '{Encoding.Latin1.GetString(other)}'. Prefixes for a single client must not overlap.";
                }
            }

            for (int j = i + 1; j < prefixes.Count; j++)
            {
                if (prefixes[i].AsSpan().StartsWith(prefixes[j]) || prefixes[j].AsSpan().StartsWith(prefixes[i]))
                {
                    return $"ERR Prefix '{Encoding.Latin1.GetString(prefixes[i])}' overlaps with another provided prefix '{Encoding.Latin1.GetString(prefixes[j])}'. Prefixes for a single client must not overlap.";
                }
            }
        }

        return null;
    }

    private static void TrackingInfo(CommandContext context, RespArgs args)
    {
        TrackingSettings? tracking = context.Client.Tracking;
        List<string> flags = tracking is null ? ["off"] : ["on"];
        if (tracking is not null)
        {
            flags.AddRange(new[] { (tracking.Broadcast, "bcast"), (tracking.OptIn, "optin"), (tracking.Caching == true, "caching-yes"), (tracking.OptOut, "optout"), (tracking.Caching == false, "caching-no"), (tracking.NoLoop, "noloop"), (tracking.RedirectBroken, "broken_redirect") }
                .Where(f => f.Item1).Select(f => f.Item2));
        }

        context.WriteMapHeader(3);
        context.WriteBulk("flags"u8);
        context.WriteSetHeader(flags.Count);
        foreach (string flag in flags)
        {
            context.WriteBulk(Encoding.ASCII.GetBytes(flag));
        }

        context.WriteBulk("redirect"u8);
        context.WriteInteger(tracking?.Redirect ?? -1);
        context.WriteBulk("prefixes"u8);
        List<byte[]> prefixes = tracking?.Prefixes ?? [];
        context.WriteArrayHeader(prefixes.Count);
        foreach (byte[] prefix in prefixes)
        {
            context.WriteBulk(prefix);
        }
    }

    private static void Caching(CommandContext context, RespArgs args)
    {
        if (context.Client.Tracking is not { } tracking)
        {
            context.WriteError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"u8);
            return;
        }

        if (args.Is(2, "YES"u8))
        {
            if (!tracking.OptIn)
            {
                context.WriteError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."u8);
                return;
            }

            tracking.Caching = true;
        }
        else if (args.Is(2, "NO"u8))
        {
            if (!tracking.OptOut)
            {
                context.WriteError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."u8);
                return;
            }

            tracking.Caching = false;
        }
        else
        {
            context.WriteSyntaxError();
            return;
        }

        context.WriteOk();
    }

    private static void GetRedirect(CommandContext context, RespArgs args) => context.WriteInteger(context.Client.Tracking?.Redirect ?? -1);

    private static void NoTouch(CommandContext context, RespArgs args)
    {
        if (TryParseOnOff(args[2], out bool on))
        {
            context.Client.NoTouch = on;
            context.WriteOk();
        }
        else
        {
            context.WriteSyntaxError();
        }
    }

    private static bool TryParseOnOff(ReadOnlySpan<byte> value, out bool on)
    {
        on = AsciiCase.EqualsIgnoreCase(value, "on"u8);
        return on || AsciiCase.EqualsIgnoreCase(value, "off"u8);
    }

    private static void Help(CommandContext context, RespArgs args) => HelpReply.Write(context, "CLIENT", s_help);
}
