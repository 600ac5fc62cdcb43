using System.Text;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>CONFIG GET/SET/RESETSTAT/REWRITE/HELP over <see cref="ServerConfig"/>.</summary>
internal static class ConfigCommands
{
    private const CommandFlags Admin = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private static readonly string[] s_admin = ["admin", "slow", "dangerous"];

    private static readonly string[] s_help =
    [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ];

    // CONFIG SET changes settings that several connections read; one at a time keeps a multi-parameter SET atomic.
    private static readonly Lock s_setGate = new();

    public static void Register(CommandTable table) =>
        table.AddContainer(
            "CONFIG",
            -2,
            CommandFlags.None,
            CommandTable.Sub("GET", -3, Admin, Get, categories: s_admin),
            CommandTable.Sub("SET", -4, Admin, Set, categories: s_admin),
            CommandTable.Sub("RESETSTAT", 2, Admin, ResetStat, categories: s_admin),
            CommandTable.Sub("REWRITE", 2, Admin, Rewrite, categories: s_admin),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: ["slow"]));

    // Redis 7.0: several patterns, each parameter reported once, as a map. A name without glob characters is looked
    // up directly and reported as the client spelled it ("CONFIG GET MAXCLIENTS" answers "MAXCLIENTS").
    private static void Get(CommandContext context, RespArgs args)
    {
        ServerConfig config = context.Server.Config;
        List<(string Name, string Value)> matches = [];
        HashSet<string> seen = new(StringComparer.OrdinalIgnoreCase);
        for (int i = 2; i < args.Count; i++)
        {
            string pattern = Encoding.Latin1.GetString(args[i]);
            if (pattern.AsSpan().IndexOfAny("[*?") < 0)
            {
                if (config.Exists(pattern) && seen.Add(pattern))
                {
                    matches.Add((pattern, config.Get(pattern)));
                }

                continue;
            }

            foreach ((string name, string value) in config.Match(pattern))
            {
                if (seen.Add(name))
                {
                    matches.Add((name, value));
                }
            }
        }

        context.WriteMapHeader(matches.Count);
        foreach ((string name, string value) in matches)
        {
            context.WriteBulk(name);
            context.WriteBulk(value);
        }
    }

    // Redis 7.0 configSetCommand: check every name first (unknown, immutable, duplicate), then apply all; when one
    // value is refused, restore the ones already applied, so the whole SET takes effect or none of it does.
    private static void Set(CommandContext context, RespArgs args)
    {
        if ((args.Count - 2) % 2 != 0)
        {
            context.WriteSyntaxError();
            return;
        }

        ServerConfig config = context.Server.Config;
        List<(string Name, string Value)> pairs = [];
        HashSet<string> seen = new(StringComparer.OrdinalIgnoreCase);
        for (int i = 2; i < args.Count; i += 2)
        {
            string name = Encoding.Latin1.GetString(args[i]);
            if (!config.Exists(name))
            {
                context.WriteError($"ERR Unknown option or number of arguments for CONFIG SET - '{name}'");
                return;
            }

            if (!config.IsMutable(name))
            {
                context.WriteError(SetFailed(name, "can't set immutable config"));
                return;
            }

            if (!seen.Add(name))
            {
                context.WriteError(SetFailed(name, "duplicate parameter"));
                return;
            }

            pairs.Add((name, Encoding.Latin1.GetString(args[i + 1])));
        }

        lock (s_setGate)
        {
            List<(string Name, string Old)> applied = [];
            foreach ((string name, string value) in pairs)
            {
                string old = config.Get(name);
                string? error = config.TrySet(name, value);
                if (error is not null)
                {
                    foreach ((string appliedName, string appliedOld) in applied)
                    {
                        config.TrySet(appliedName, appliedOld);
                    }

                    context.WriteError(SetFailed(name, error));
                    return;
                }

                applied.Add((name, old));
            }
        }

        context.WriteOk();
    }

    private static string SetFailed(string name, string reason) => $"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}";

    private static void ResetStat(CommandContext context, RespArgs args)
    {
        context.Server.Stats.Reset();
        context.Server.SlowLog.Reset();
        foreach (CommandDefinition command in context.Server.Commands.All)
        {
            command.ResetStatistics();
            foreach (CommandDefinition sub in command.SubCommands?.Values ?? [])
            {
                sub.ResetStatistics();
            }
        }

        context.WriteOk();
    }

    private static void Rewrite(CommandContext context, RespArgs args)
    {
        ServerConfig config = context.Server.Config;
        if (config.ConfigFile is null)
        {
            context.WriteError("ERR The server is running without a config file"u8);
            return;
        }

        try
        {
            config.Rewrite();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Redis: "Rewriting config file: %s" with strerror; ours carries the .NET message.
            context.WriteError(Encoding.UTF8.GetBytes($"ERR Rewriting config file: {exception.Message.ReplaceLineEndings(" ")}"));
            return;
        }

        context.WriteOk();
    }

    private static void Help(CommandContext context, RespArgs args) => HelpReply.Write(context, "CONFIG", s_help);
}
