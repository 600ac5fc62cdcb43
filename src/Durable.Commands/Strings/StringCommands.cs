using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>String commands: GET, SET.</summary>
internal static class StringCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("GET", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Get, 1, 1, 1, ["read", "string", "fast"]);
        table.Add("SET", -3, CommandFlags.Write | CommandFlags.DenyOom, Set, 1, 1, 1, ["write", "string", "slow"]);
    }

    private static void Get(CommandContext context, RespArgs args)
    {
        if (!context.Session.TryRead(context.Db, args[1], context.Scratch, out StoredRecord record))
        {
            Interlocked.Increment(ref context.Server.Stats.KeyspaceMisses);
            context.WriteNull();
            return;
        }

        Interlocked.Increment(ref context.Server.Stats.KeyspaceHits);
        if (record.Type != RecordType.String)
        {
            context.WriteWrongType();
            return;
        }

        context.WriteBulk(context.Scratch.WrittenSpan);
    }

    private static void Set(CommandContext context, RespArgs args)
    {
        if (args.Count != 3)
        {
            context.WriteSyntaxError();
            return;
        }

        context.Session.Write(context.Db, args[1], RecordType.String, args[2], 0);
        context.WriteOk();
    }
}
