using System.Security.Cryptography;
using System.Text;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// ACL as Redis 7.0 answers it for its one built-in user, <c>default</c> (on, no password, every key, channel and
/// command), which is the only user Durable has: WHOAMI, USERS, LIST, GETUSER, CAT, DRYRUN, LOG (always empty: nothing is
/// ever denied), GENPASS and HELP. SETUSER, DELUSER, LOAD and SAVE would create or change users, and are refused with an
/// error that says so rather than pretend.
/// </summary>
internal static class AclCommands
{
    private const CommandFlags Plain = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags Admin = CommandFlags.Admin | Plain;
    private static readonly string[] s_slow = ["slow"];
    private static readonly string[] s_admin = ["admin", "slow", "dangerous"];

    private const string DefaultUser = "default";

    private static readonly string[] s_help =
    [
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
    ];

    public static void Register(CommandTable table) =>
        table.AddContainer(
            "ACL",
            -2,
            CommandFlags.None,
            static (context, args) => { },
            s_slow,
            CommandTable.Sub("CAT", -2, Plain, Cat, categories: s_slow),
            CommandTable.Sub("WHOAMI", 2, Plain, (c, a) => c.WriteBulk(Encoding.Latin1.GetBytes(c.Client.User)), categories: s_slow),
            CommandTable.Sub("USERS", 2, Admin, (c, a) => WriteStrings(c, [DefaultUser]), categories: s_admin),
            CommandTable.Sub("LIST", 2, Admin, (c, a) => WriteStrings(c, ["user default on nopass ~* &* +@all"]), categories: s_admin),
            CommandTable.Sub("GETUSER", 3, Admin, GetUser, categories: s_admin),
            CommandTable.Sub("DRYRUN", -4, Admin, DryRun, categories: s_admin),
            CommandTable.Sub("LOG", -2, Admin, Log, categories: s_admin),
            CommandTable.Sub("GENPASS", -2, Plain, GenPass, categories: s_slow),
            CommandTable.Sub("SETUSER", -3, Admin, Refuse, categories: s_admin),
            CommandTable.Sub("DELUSER", -3, Admin, Refuse, categories: s_admin),
            CommandTable.Sub("LOAD", 2, Admin, Refuse, categories: s_admin),
            CommandTable.Sub("SAVE", 2, Admin, Refuse, categories: s_admin),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, (c, a) => HelpReply.Write(c, "ACL", s_help), categories: s_slow));

    private static void WriteStrings(CommandContext context, string[] items)
    {
        context.WriteArrayHeader(items.Length);
        foreach (string item in items)
        {
            context.WriteBulk(Encoding.ASCII.GetBytes(item));
        }
    }

    // The categories, or every command and subcommand of one (Redis lists them in its hash table's order).
    private static void Cat(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        if (args.Count == 2)
        {
            WriteStrings(context, CommandCommands.CategoryOrder);
            return;
        }

        string category = Encoding.Latin1.GetString(args[2]).ToLowerInvariant();
        if (!CommandCommands.CategoryOrder.Contains(category))
        {
            context.WriteError($"ERR Unknown category '{Encoding.Latin1.GetString(args[2])}'");
            return;
        }

        WriteStrings(context, [.. context.Server.Commands.AllWithSubcommands.Where(c => CommandCommands.CategoriesOf(c).Contains(category)).Select(c => c.FullName)]);
    }

    private static void GetUser(CommandContext context, RespArgs args)
    {
        if (!args[2].SequenceEqual("default"u8))
        {
            context.WriteNull();
            return;
        }

        context.WriteMapHeader(6);
        context.WriteBulk("flags"u8);
        context.WriteSetHeader(2);
        context.WriteBulk("on"u8);
        context.WriteBulk("nopass"u8);
        context.WriteBulk("passwords"u8);
        context.WriteArrayHeader(0);
        context.WriteBulk("commands"u8);
        context.WriteBulk("+@all"u8);
        context.WriteBulk("keys"u8);
        context.WriteBulk("~*"u8);
        context.WriteBulk("channels"u8);
        context.WriteBulk("&*"u8);
        context.WriteBulk("selectors"u8);
        context.WriteArrayHeader(0);
    }

    // Redis aclCommand DRYRUN: the user, the command (a container's subcommand too) and its arity; default may run all.
    private static void DryRun(CommandContext context, RespArgs args)
    {
        if (!args[2].SequenceEqual("default"u8))
        {
            context.WriteError($"ERR User '{Encoding.Latin1.GetString(args[2])}' not found");
            return;
        }

        CommandDefinition? command = context.Server.Commands.Find(args[3]);
        if (command?.SubCommands is not null && args.Count > 4)
        {
            command = CommandTable.FindSub(command, args[4]);
        }

        if (command is null)
        {
            context.WriteError($"ERR Command '{Encoding.Latin1.GetString(args[3])}' not found");
            return;
        }

        if (!command.AcceptsArgumentCount(args.Count - 3))
        {
            context.WriteArityError(command.FullName);
            return;
        }

        context.WriteOk();
    }

    // Nothing is ever denied, so the log is empty; RESET and a count are accepted as Redis accepts them.
    private static void Log(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        if (args.Count == 3 && args.Is(2, "RESET"u8))
        {
            context.WriteOk();
            return;
        }

        if (args.Count == 3 && !RedisNumber.TryParseInt64(args[2], out _))
        {
            context.WriteNotInteger();
            return;
        }

        context.WriteArrayHeader(0);
    }

    private static void GenPass(CommandContext context, RespArgs args)
    {
        long bits = 256;
        if (args.Count > 3)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        if (args.Count == 3 && !RedisNumber.TryParseInt64(args[2], out bits))
        {
            context.WriteNotInteger();
            return;
        }

        if (bits is <= 0 or > 4096)
        {
            context.WriteError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"u8);
            return;
        }

        // Redis: as many hex digits as the bits need, from a secure source.
        int digits = (int)((bits + 3) / 4);
        context.WriteBulk(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes((digits + 1) / 2))[..digits]));
    }

    private static void Refuse(CommandContext context, RespArgs args) =>
        context.WriteError($"ERR ACL {Encoding.ASCII.GetString(args[1]).ToUpperInvariant()} is not supported: Durable has one user, default, with every permission and no password");
}
