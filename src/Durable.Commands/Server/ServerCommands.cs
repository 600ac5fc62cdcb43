using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>Server commands: DBSIZE, FLUSHDB, FLUSHALL.</summary>
internal static class ServerCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("DBSIZE", 1, CommandFlags.ReadOnly | CommandFlags.Fast, DbSize, categories: ["keyspace", "read", "fast"]);
        table.Add("FLUSHDB", -1, CommandFlags.Write | CommandFlags.LocksAll, FlushDb, categories: ["keyspace", "write", "slow", "dangerous"]);
        table.Add("FLUSHALL", -1, CommandFlags.Write | CommandFlags.LocksAll, FlushAll, categories: ["keyspace", "write", "slow", "dangerous"]);
    }

    private static void DbSize(CommandContext context, RespArgs args) => context.WriteInteger(context.Store.KeyCount(context.Db));

    private static void FlushDb(CommandContext context, RespArgs args)
    {
        if (!IsValidFlushMode(args))
        {
            context.WriteSyntaxError();
            return;
        }

        context.Session.FlushDatabase(context.Db);
        context.WriteOk();
    }

    private static void FlushAll(CommandContext context, RespArgs args)
    {
        if (!IsValidFlushMode(args))
        {
            context.WriteSyntaxError();
            return;
        }

        for (int db = 0; db < context.Store.Databases; db++)
        {
            context.Session.FlushDatabase(db);
        }

        context.WriteOk();
    }

    // Redis: FLUSHDB/FLUSHALL take nothing, SYNC or ASYNC. Both run synchronously here; ASYNC is accepted for compatibility.
    private static bool IsValidFlushMode(RespArgs args) =>
        args.Count == 1 || (args.Count == 2 && (args.Is(1, "SYNC"u8) || args.Is(1, "ASYNC"u8)));
}
