using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>The HELP subcommands' reply, formatted as Redis's addReplyHelp: a header line, the lines given, then HELP itself.</summary>
internal static class HelpReply
{
    public static void Write(CommandContext context, string command, string[] lines)
    {
        context.WriteArrayHeader(lines.Length + 3);
        context.WriteSimple(System.Text.Encoding.ASCII.GetBytes($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        foreach (string line in lines)
        {
            RespWriter.WriteSimpleString(context.Reply, System.Text.Encoding.ASCII.GetBytes(line));
        }

        context.WriteSimple("HELP"u8);
        context.WriteSimple("    Prints this help."u8);
    }
}
