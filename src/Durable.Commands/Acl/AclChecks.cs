using System.Text;
using Durable.Commands.Server;
using Durable.Protocol;

namespace Durable.Commands.Acl;

/// <summary>
/// Where commands meet the ACL: Redis's authRequired and ACL steps of processCommand, the check EXEC repeats for each
/// queued command, and the ACL log entries each refusal (and each failed AUTH) adds.
/// </summary>
internal static class AclChecks
{
    public const string Toplevel = "toplevel";
    public const string Multi = "multi";
    public const string Lua = "lua";

    /// <summary>Redis authRequired: the connection has not logged in while the default user needs a password or is off.</summary>
    public static bool NeedsAuth(CommandContext context) => !context.Client.Authenticated && !context.Server.Acl.NewConnectionsAuthenticated;

    /// <summary>Redis ACLCheckAllPerm; the denial (logged under <paramref name="where"/>) and the argument it is about.</summary>
    public static AclDenial Check(CommandContext context, CommandDefinition definition, RespArgs args, string where)
    {
        AclRules rules = context.Client.AclUser!.Rules;
        if (rules.Unrestricted)
        {
            return AclDenial.None;
        }

        AclDenial denial = rules.Check(definition, args, out int position);
        if (denial != AclDenial.None)
        {
            // Redis set the client's last command when it looked the command up, before any check.
            context.Client.LastCommand = definition.FullName;
            string obj = denial == AclDenial.Command ? definition.FullName : Encoding.Latin1.GetString(args[position]);
            AddLogEntry(context, denial, where, obj, context.Client.User);
        }

        return denial;
    }

    /// <summary>
    /// Redis ACLUserCheckCmdWithUnrestrictedKeyAccess for SORT's BY and GET, which read keys named by the data: some
    /// selector allows the command and may read every key.
    /// </summary>
    public static bool MayReadEveryKey(CommandContext context, RespArgs args)
    {
        AclRules rules = context.Client.AclUser!.Rules;
        return rules.Unrestricted || (context.Server.Commands.Find(args[0]) is { } command && rules.MayRunOnEveryKey(command, args, AclSelector.ReadPermission));
    }

    /// <summary>The NOPERM error processCommand replies for a denial.</summary>
    public static string Refusal(AclDenial denial, CommandDefinition definition) => denial switch
    {
        AclDenial.Command => $"NOPERM this user has no permissions to run the '{definition.FullName}' command",
        AclDenial.Key => "NOPERM this user has no permissions to access one of the keys used as arguments",
        _ => "NOPERM this user has no permissions to access one of the channels used as arguments",
    };

    /// <summary>The reason EXEC gives when the rules changed after a command was queued.</summary>
    public static string ExecRefusal(AclDenial denial) =>
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " +
        denial switch
        {
            AclDenial.Command => "no permission to execute the command or subcommand",
            AclDenial.Key => "no permission to touch the specified keys",
            _ => "no permission to access one of the channels used as arguments",
        };

    /// <summary>Redis getAclErrorMessage, after "The user executing the script " in a script's error.</summary>
    public static string ScriptRefusal(AclDenial denial) => "The user executing the script " + denial switch
    {
        AclDenial.Command => "can't run this command or subcommand",
        AclDenial.Key => "can't access at least one of the keys mentioned in the command arguments",
        _ => "can't publish to the channel mentioned in the command",
    };

    /// <summary>A failed AUTH or HELLO AUTH: logged with the command name as sent and the user tried.</summary>
    public static void AuthFailed(CommandContext context, RespArgs args, string user) =>
        AddLogEntry(context, AclDenial.Auth, context.Client.Transaction.Active ? Multi : Toplevel, Encoding.Latin1.GetString(args[0]), user);

    private static void AddLogEntry(CommandContext context, AclDenial denial, string where, string obj, string user) =>
        context.Server.Acl.Log.Add(denial, where, obj, user, ClientCommands.Describe(context.Client, context.NowMs), context.NowMs, context.Server.Config.AclLogMaxLength);
}
