using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Durable.Protocol;

using Durable.Commands.Server;

namespace Durable.Commands.Acl;

/// <summary>
/// ACL as Redis 7.0: SETUSER, DELUSER, GETUSER, LIST, USERS, WHOAMI, CAT, DRYRUN, LOG, GENPASS, LOAD and SAVE (with
/// aclfile), HELP. The users and their checks are in <see cref="AclUsers"/>.
/// </summary>
internal static class AclCommands
{
    private const CommandFlags Plain = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags Admin = CommandFlags.Admin | Plain;
    private static readonly string[] s_slow = ["slow"];
    private static readonly string[] s_admin = ["admin", "slow", "dangerous"];

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
            CommandTable.Sub("USERS", 2, Admin, (c, a) => WriteStrings(c, [.. c.Server.Acl.All.Select(u => u.Name)]), categories: s_admin),
            CommandTable.Sub("LIST", 2, Admin, (c, a) => WriteStrings(c, [.. c.Server.Acl.Lines()]), categories: s_admin),
            CommandTable.Sub("GETUSER", 3, Admin, GetUser, categories: s_admin),
            CommandTable.Sub("DRYRUN", -4, Admin, DryRun, categories: s_admin),
            CommandTable.Sub("LOG", -2, Admin, Log, categories: s_admin),
            CommandTable.Sub("GENPASS", -2, Plain, GenPass, categories: s_slow),
            CommandTable.Sub("SETUSER", -3, Admin, SetUser, categories: s_admin),
            CommandTable.Sub("DELUSER", -3, Admin, DeleteUsers, categories: s_admin),
            CommandTable.Sub("LOAD", 2, Admin, Load, categories: s_admin),
            CommandTable.Sub("SAVE", 2, Admin, Save, categories: s_admin),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, (c, a) => HelpReply.Write(c, "ACL", s_help), categories: s_slow));

    private static void WriteStrings(CommandContext context, string[] items)
    {
        context.WriteArrayHeader(items.Length);
        foreach (string item in items)
        {
            context.WriteBulk(Encoding.Latin1.GetBytes(item));
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

    private static void SetUser(CommandContext context, RespArgs args)
    {
        string name = Encoding.Latin1.GetString(args[2]);
        if (AclSelector.HasSpaces(name))
        {
            context.WriteError("ERR Usernames can't contain spaces or null characters"u8);
            return;
        }

        List<string> ops = [];
        for (int i = 3; i < args.Count; i++)
        {
            ops.Add(Encoding.Latin1.GetString(args[i]));
        }

        if (context.Server.Acl.SetUser(name, ops, context.Server.Clients) is { } error)
        {
            context.WriteErrorOneLine("ERR " + error);
            return;
        }

        context.WriteOk();
    }

    private static void DeleteUsers(CommandContext context, RespArgs args)
    {
        List<string> names = [];
        for (int i = 2; i < args.Count; i++)
        {
            names.Add(Encoding.Latin1.GetString(args[i]));
        }

        if (names.Contains("default"))
        {
            context.WriteError("ERR The 'default' user cannot be removed"u8);
            return;
        }

        context.WriteInteger(context.Server.Acl.Delete(names, context.Server.Clients, context.Client));
    }

    // Redis ACL GETUSER: flags, passwords, the root selector's commands, keys and channels, then the other selectors.
    private static void GetUser(CommandContext context, RespArgs args)
    {
        if (context.Server.Acl.Find(Encoding.Latin1.GetString(args[2])) is not { } user)
        {
            context.WriteNull();
            return;
        }

        AclRules rules = user.Rules;
        context.WriteMapHeader(6);
        context.WriteBulk("flags"u8);
        string[] flags = [.. rules.Flags()];
        context.WriteSetHeader(flags.Length);
        foreach (string flag in flags)
        {
            context.WriteBulk(flag);
        }

        context.WriteBulk("passwords"u8);
        WriteStrings(context, [.. rules.Passwords]);
        WriteSelector(context, rules.Root);
        context.WriteBulk("selectors"u8);
        context.WriteArrayHeader(rules.Selectors.Count - 1);
        foreach (AclSelector selector in rules.Selectors.Skip(1))
        {
            context.WriteMapHeader(3);
            WriteSelector(context, selector);
        }
    }

    private static void WriteSelector(CommandContext context, AclSelector selector)
    {
        context.WriteBulk("commands"u8);
        context.WriteBulk(Encoding.Latin1.GetBytes(selector.DescribeCommands()));
        context.WriteBulk("keys"u8);
        context.WriteBulk(Encoding.Latin1.GetBytes(selector.DescribeKeys()));
        context.WriteBulk("channels"u8);
        context.WriteBulk(Encoding.Latin1.GetBytes(selector.DescribeChannels()));
    }

    // Redis ACL DRYRUN: the user, the command (a container's subcommand too) and its arity, then the user's check.
    private static void DryRun(CommandContext context, RespArgs args)
    {
        if (context.Server.Acl.Find(Encoding.Latin1.GetString(args[2])) is not { } user)
        {
            context.WriteError($"ERR User '{Encoding.Latin1.GetString(args[2])}' not found");
            return;
        }

        byte[][] parts = new byte[args.Count - 3][];
        for (int i = 3; i < args.Count; i++)
        {
            parts[i - 3] = args[i].ToArray();
        }

        if (context.Server.Commands.Lookup(parts) is not { } command)
        {
            context.WriteError($"ERR Command '{Encoding.Latin1.GetString(args[3])}' not found");
            return;
        }

        if (!command.AcceptsArgumentCount(parts.Length))
        {
            context.WriteArityError(command.FullName);
            return;
        }

        AclDenial denial = user.Rules.Check(command, PackedArgs.Of(parts).Args, out int position);
        string? refusal = denial switch
        {
            AclDenial.None => null,
            AclDenial.Command => $"This user has no permissions to run the '{command.FullName}' command",
            AclDenial.Key => $"This user has no permissions to access the '{Encoding.Latin1.GetString(parts[position])}' key",
            _ => $"This user has no permissions to access the '{Encoding.Latin1.GetString(parts[position])}' channel",
        };
        if (refusal is null)
        {
            context.WriteOk();
        }
        else
        {
            context.WriteBulk(Encoding.Latin1.GetBytes(refusal));
        }
    }

    // Redis ACL LOG [count | RESET]: the latest entries first, ten unless a count says otherwise.
    private static void Log(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        long count = 10;
        if (args.Count == 3 && args.Is(2, "RESET"u8))
        {
            context.Server.Acl.Log.Clear();
            context.WriteOk();
            return;
        }

        if (args.Count == 3 && !RedisNumber.TryParseInt64(args[2], out count))
        {
            context.WriteNotInteger();
            return;
        }

        AclLogEntry[] entries = context.Server.Acl.Log.Latest(Math.Max(0, count));
        context.WriteArrayHeader(entries.Length);
        foreach (AclLogEntry entry in entries)
        {
            context.WriteMapHeader(7);
            context.WriteBulk("count"u8);
            context.WriteInteger(entry.Count);
            context.WriteBulk("reason"u8);
            context.WriteBulk(entry.Reason switch
            {
                AclDenial.Command => "command",
                AclDenial.Key => "key",
                AclDenial.Channel => "channel",
                _ => "auth",
            });
            context.WriteBulk("context"u8);
            context.WriteBulk(entry.Context);
            context.WriteBulk("object"u8);
            context.WriteBulk(Encoding.Latin1.GetBytes(entry.Object));
            context.WriteBulk("username"u8);
            context.WriteBulk(Encoding.Latin1.GetBytes(entry.User));
            context.WriteBulk("age-seconds"u8);
            // Redis addReplyDouble: "%.17g" (milliseconds over 1000 never need an exponent).
            string seconds = ((context.NowMs - entry.TimeMs) / 1000.0).ToString("G17", System.Globalization.CultureInfo.InvariantCulture);
            RespWriter.WriteDouble(context.Reply, Encoding.ASCII.GetBytes(seconds), context.Protocol);
            context.WriteBulk("client-info"u8);
            context.WriteBulk(Encoding.Latin1.GetBytes(entry.ClientInfo));
        }
    }

    private static bool HasAclFile(CommandContext context)
    {
        if (context.Server.Config.AclFile.Length > 0)
        {
            return true;
        }

        context.WriteError("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."u8);
        return false;
    }

    private static void Load(CommandContext context, RespArgs args)
    {
        if (!HasAclFile(context))
        {
            return;
        }

        if (context.Server.Acl.LoadFile(context.Server.Clients, context.Client) is { } errors)
        {
            context.WriteErrorOneLine("ERR " + errors);
            return;
        }

        context.WriteOk();
    }

    private static void Save(CommandContext context, RespArgs args)
    {
        if (!HasAclFile(context))
        {
            return;
        }

        try
        {
            context.Server.Acl.SaveFile();
            context.WriteOk();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            context.Server.Logger.LogWarning("ACL SAVE: writing {File} failed: {Error}", context.Server.Config.AclFile, e.Message);
            context.WriteError("ERR There was an error trying to save the ACLs. Please check the server logs for more information"u8);
        }
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

}
