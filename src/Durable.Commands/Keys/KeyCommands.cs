using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>Generic key commands: DEL, EXISTS.</summary>
internal static class KeyCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("DEL", -2, CommandFlags.Write, Del, 1, -1, 1, ["keyspace", "write", "slow"]);
        table.Add("EXISTS", -2, CommandFlags.ReadOnly | CommandFlags.Fast, Exists, 1, -1, 1, ["keyspace", "read", "fast"]);
    }

    private static void Del(CommandContext context, RespArgs args)
    {
        long deleted = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (context.Session.Delete(context.Db, args[i]))
            {
                deleted++;
            }
        }

        context.WriteInteger(deleted);
    }

    private static void Exists(CommandContext context, RespArgs args)
    {
        long found = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (context.Session.TryRead(context.Db, args[i], null, out StoredRecord _))
            {
                found++;
            }
        }

        context.WriteInteger(found);
    }
}
