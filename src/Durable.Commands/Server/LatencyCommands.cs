using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// LATENCY (Redis 7.0): HISTOGRAM from the per-command latency histograms (latency-tracking), and the latency monitor's
/// LATEST, HISTORY, RESET, GRAPH and DOCTOR as Redis answers them with the monitor off (latency-monitor-threshold 0, its
/// default): Durable records no latency events, so there is never a sample.
/// </summary>
internal static class LatencyCommands
{
    private const CommandFlags Admin = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private static readonly string[] s_admin = ["admin", "slow", "dangerous"];

    private static readonly string[] s_help =
    [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ];

    public static void Register(CommandTable table) =>
        table.AddContainer(
            "LATENCY",
            -2,
            CommandFlags.None,
            CommandTable.Sub("DOCTOR", 2, Admin, Doctor, categories: s_admin),
            CommandTable.Sub("GRAPH", 3, Admin, Graph, categories: s_admin),
            CommandTable.Sub("HISTORY", 3, Admin, (context, args) => context.WriteArrayHeader(0), categories: s_admin),
            CommandTable.Sub("LATEST", 2, Admin, (context, args) => context.WriteArrayHeader(0), categories: s_admin),
            CommandTable.Sub("RESET", -2, Admin, (context, args) => context.WriteInteger(0), categories: s_admin),
            CommandTable.Sub("HISTOGRAM", -2, Admin, Histogram, categories: s_admin),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, (context, args) => HelpReply.Write(context, "LATENCY", s_help), categories: ["slow"]));

    private static void Doctor(CommandContext context, RespArgs args) =>
        RespWriter.WriteVerbatim(
            context.Reply,
            "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"u8,
            context.Protocol);

    private static void Graph(CommandContext context, RespArgs args) =>
        context.WriteErrorOneLine($"ERR No samples available for event '{CommandDispatcher.Truncate(args[2], args[2].Length)}'");

    // Redis latencyAllCommandsFillCDF / latencySpecificCommandsFillCDF: a map of command full name to its calls and
    // cumulative histogram; named commands in the order given (a container's subcommands after it), unknown names
    // skipped, commands never called left out.
    private static void Histogram(CommandContext context, RespArgs args)
    {
        List<CommandDefinition> commands = [];
        if (args.Count == 2)
        {
            commands.AddRange(context.Server.Commands.AllWithSubcommands);
        }
        else
        {
            for (int i = 2; i < args.Count; i++)
            {
                if (CommandCommands.FindByFullName(context.Server.Commands, args[i]) is { } command)
                {
                    commands.Add(command);
                    commands.AddRange(command.SubCommands?.Values ?? []);
                }
            }
        }

        List<(CommandDefinition Command, LatencyHistogram Histogram)> tracked = [.. commands.Where(c => c.Latencies is not null).Select(c => (c, c.Latencies!))];
        context.WriteMapHeader(tracked.Count);
        foreach ((CommandDefinition command, LatencyHistogram histogram) in tracked)
        {
            context.WriteBulk(command.FullName);
            context.WriteMapHeader(2);
            context.WriteBulk("calls"u8);
            context.WriteInteger(histogram.TotalCount);
            context.WriteBulk("histogram_usec"u8);
            List<(long Microseconds, long Cumulative)> points = histogram.CumulativeByPowersOfTwo();
            context.WriteMapHeader(points.Count);
            foreach ((long microseconds, long cumulative) in points)
            {
                context.WriteInteger(microseconds);
                context.WriteInteger(cumulative);
            }
        }
    }
}
