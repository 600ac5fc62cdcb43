using System.Buffers;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>Connection commands: PING, ECHO, QUIT, SELECT.</summary>
internal static class ConnectionCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("PING", -1, CommandFlags.Fast | CommandFlags.Stale | CommandFlags.Loading, Ping, categories: ["fast", "connection"]);
        table.Add("ECHO", 2, CommandFlags.Fast | CommandFlags.Stale | CommandFlags.Loading, Echo, categories: ["fast", "connection"]);
        table.Add("QUIT", -1, CommandFlags.Fast | CommandFlags.Stale | CommandFlags.Loading | CommandFlags.NoAuth | CommandFlags.AllowBusy, Quit, categories: ["fast", "connection"]);
        table.Add("SELECT", 2, CommandFlags.Fast | CommandFlags.Stale | CommandFlags.Loading, Select, categories: ["fast", "connection"]);
    }

    private static void Ping(CommandContext context, RespArgs args)
    {
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
}
