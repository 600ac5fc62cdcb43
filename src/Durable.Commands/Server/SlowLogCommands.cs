using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>SLOWLOG GET/LEN/RESET/HELP.</summary>
internal static class SlowLogCommands
{
    private const CommandFlags Admin = CommandFlags.Admin | CommandFlags.Loading | CommandFlags.Stale;
    private static readonly string[] s_admin = ["admin", "slow", "dangerous"];

    private static readonly string[] s_help =
    [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ];

    public static void Register(CommandTable table) =>
        table.AddContainer(
            "SLOWLOG",
            -2,
            CommandFlags.None,
            CommandTable.Sub("GET", -2, Admin, Get, categories: s_admin),
            CommandTable.Sub("LEN", 2, Admin, Len, categories: s_admin),
            CommandTable.Sub("RESET", 2, Admin, Reset, categories: s_admin),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: ["slow"]));

    private static void Get(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            // Redis: addReplySubcommandSyntaxError.
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        long count = 10;
        if (args.Count == 3 && (!RedisNumber.TryParseInt64(args[2], out count) || count < -1))
        {
            context.WriteError("ERR count should be greater than or equal to -1"u8);
            return;
        }

        IReadOnlyList<SlowLogEntry> entries = context.Server.SlowLog.Latest(count == -1 ? int.MaxValue : (int)Math.Min(count, int.MaxValue));
        context.WriteArrayHeader(entries.Count);
        foreach (SlowLogEntry entry in entries)
        {
            context.WriteArrayHeader(6);
            context.WriteInteger(entry.Id);
            context.WriteInteger(entry.UnixSeconds);
            context.WriteInteger(entry.Microseconds);
            context.WriteArrayHeader(entry.Arguments.Length);
            foreach (byte[] argument in entry.Arguments)
            {
                context.WriteBulk(argument);
            }

            context.WriteBulk(entry.ClientAddress);
            context.WriteBulk(entry.ClientName);
        }
    }

    private static void Len(CommandContext context, RespArgs args) => context.WriteInteger(context.Server.SlowLog.Count);

    private static void Reset(CommandContext context, RespArgs args)
    {
        context.Server.SlowLog.Reset();
        context.WriteOk();
    }

    private static void Help(CommandContext context, RespArgs args) => HelpReply.Write(context, "SLOWLOG", s_help);
}
