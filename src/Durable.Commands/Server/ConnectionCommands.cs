using System.Buffers;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET. CLIENT is in <see cref="ClientCommands"/>.</summary>
internal static class ConnectionCommands
{
    private const CommandFlags HandshakeFlags =
        CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.NoAuth | CommandFlags.AllowBusy;

    public static void Register(CommandTable table)
    {
        table.Add("PING", -1, CommandFlags.Fast | CommandFlags.Stale | CommandFlags.Loading | CommandFlags.KeyReadsOnly, Ping, categories: ["fast", "connection"]);
        table.Add("ECHO", 2, CommandFlags.Fast | CommandFlags.Stale | CommandFlags.Loading | CommandFlags.KeyReadsOnly, Echo, categories: ["fast", "connection"]);
        table.Add("QUIT", -1, HandshakeFlags | CommandFlags.RunsInTransaction, Quit, categories: ["fast", "connection"]);
        table.Add("SELECT", 2, CommandFlags.Fast | CommandFlags.Stale | CommandFlags.Loading, Select, categories: ["fast", "connection"]);
        table.Add("HELLO", -1, HandshakeFlags, Hello, categories: ["fast", "connection"]);
        table.Add("AUTH", -2, HandshakeFlags, Auth, categories: ["fast", "connection"]);
        table.Add("RESET", 1, HandshakeFlags | CommandFlags.RunsInTransaction, Reset, categories: ["fast", "connection"]);
    }

    private static void Ping(CommandContext context, RespArgs args)
    {
        // Redis: a RESP2 client with subscriptions gets PING's answer in the shape of a message, ["pong", argument or ""].
        if (context.Protocol == RespVersion.Resp2 && context.Client.Subscriptions.Any && args.Count <= 2)
        {
            context.WriteArrayHeader(2);
            context.WriteBulk("pong"u8);
            context.WriteBulk(args.Count == 2 ? args[1] : default);
            return;
        }

        switch (args.Count)
        {
            case 1:
                context.Reply.Write(RespConstants.Pong);
                break;
            case 2:
                context.WriteBulk(args[1]);
                break;
            default:
                context.WriteArityError("ping");
                break;
        }
    }

    private static void Echo(CommandContext context, RespArgs args) => context.WriteBulk(args[1]);

    private static void Quit(CommandContext context, RespArgs args)
    {
        context.WriteOk();
        context.Client.CloseAfterReply = true;
    }

    private static void Select(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[1], out long db) || db is < int.MinValue or > int.MaxValue)
        {
            context.WriteNotInteger();
            return;
        }

        if (db < 0 || db >= context.Store.Databases)
        {
            context.WriteError(RespErrors.DbIndexOutOfRange);
            return;
        }

        context.Client.Db = (int)db;
        context.WriteOk();
    }

    // Redis order: protocol version, options parsed, AUTH checked, name set, then the protocol switched and the map sent.
    private static void Hello(CommandContext context, RespArgs args)
    {
        long version = 0;
        int next = 1;
        if (args.Count >= 2)
        {
            if (!RedisNumber.TryParseInt64(args[1], out version))
            {
                context.WriteError("ERR Protocol version is not an integer or out of range"u8);
                return;
            }

            if (version is < 2 or > 3)
            {
                context.WriteError(RespErrors.NoProto);
                return;
            }

            next = 2;
        }

        // Redis helloCommand: each option takes effect as it is read, so an AUTH before a bad option has logged in.
        for (int i = next; i < args.Count; i++)
        {
            int more = args.Count - 1 - i;
            if (args.Is(i, "AUTH"u8) && more >= 2)
            {
                if (!Authenticate(context, args, System.Text.Encoding.Latin1.GetString(args[i + 1]), args[i + 2]))
                {
                    return;
                }

                i += 2;
            }
            else if (args.Is(i, "SETNAME"u8) && more >= 1)
            {
                if (!ClientCommands.TrySetName(context, args[i + 1]))
                {
                    return;
                }

                i++;
            }
            else
            {
                context.WriteError($"ERR Syntax error in HELLO option '{System.Text.Encoding.Latin1.GetString(args[i])}'");
                return;
            }
        }

        if (Acl.AclChecks.NeedsAuth(context))
        {
            context.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"u8);
            return;
        }

        if (version != 0)
        {
            context.Client.Protocol = (RespVersion)version;
        }

        context.WriteMapHeader(7);
        context.WriteBulk("server"u8);
        context.WriteBulk("redis"u8);
        context.WriteBulk("version"u8);
        context.WriteBulk(ServerState.Version);
        context.WriteBulk("proto"u8);
        context.WriteInteger((long)context.Client.Protocol);
        context.WriteBulk("id"u8);
        context.WriteInteger(context.Client.Id);
        context.WriteBulk("mode"u8);
        context.WriteBulk("standalone"u8);
        context.WriteBulk("role"u8);
        context.WriteBulk("master"u8);
        context.WriteBulk("modules"u8);
        context.WriteArrayHeader(0);
    }

    // Redis authCommand: AUTH password logs in as the default user (an error while it needs none), AUTH user password as that user.
    private static void Auth(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            context.WriteSyntaxError();
            return;
        }

        if (args.Count == 2 && context.Server.Acl.Default.Rules.NoPass)
        {
            context.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"u8);
            return;
        }

        string user = args.Count == 2 ? "default" : System.Text.Encoding.Latin1.GetString(args[1]);
        if (Authenticate(context, args, user, args[^1]))
        {
            context.WriteOk();
        }
    }

    // Redis ACLAuthenticateUser: on success the connection runs as the user; a failure is logged and answered WRONGPASS.
    private static bool Authenticate(CommandContext context, RespArgs args, string user, ReadOnlySpan<byte> password)
    {
        if (context.Server.Acl.Authenticate(user, password) is not { } authenticated)
        {
            Acl.AclChecks.AuthFailed(context, args, user);
            context.WriteError("WRONGPASS invalid username-password pair or user is disabled."u8);
            return false;
        }

        context.Client.AclUser = authenticated;
        context.Client.Authenticated = true;
        return true;
    }

    // Redis clearClientConnectionState: RESP2, db 0, no name, replies on, not a monitor; NO-EVICT survives.
    private static void Reset(CommandContext context, RespArgs args)
    {
        ClientState client = context.Client;
        if (client.ReplyMode == ClientReplyMode.Off && context.SuppressedReply is { } output)
        {
            // Redis turns CLIENT REPLY OFF off before replying, so RESET's own reply is sent (a pending SKIP still applies).
            context.Reply = output;
        }

        client.Protocol = RespVersion.Resp2;
        client.Db = 0;
        client.Name = null;
        // Redis clearClientConnectionState: back to the default user, logged in only if it needs no password.
        client.AclUser = context.Server.Acl.Default;
        client.Authenticated = context.Server.Acl.NewConnectionsAuthenticated;
        client.ReplyMode = ClientReplyMode.On;
        client.NoTouch = false;
        context.EndTransaction();
        if (client.IsMonitor)
        {
            client.IsMonitor = false;
            client.MonitorFeed = null;
            context.Server.Monitors.Remove(client);
        }

        context.Server.PubSub.RemoveAll(client);
        context.Server.Tracking.Disable(client);
        context.WriteSimple("RESET"u8);
    }
}
