namespace Durable.Commands.Server;

/// <summary>
/// CLUSTER (every Redis 7.0 subcommand), ASKING, READONLY and READWRITE as a Redis started without cluster-enabled
/// answers them: "This instance has cluster support disabled". Clients that probe for a cluster get the answer they
/// expect from a standalone server, and COMMAND, ACL CAT and ACL rules know the commands as Redis does.
/// </summary>
internal static class ClusterCommands
{
    private const CommandFlags Admin = CommandFlags.NoAsyncLoading | CommandFlags.Admin | CommandFlags.Stale;
    private static readonly string[] s_admin = ["admin", "slow", "dangerous"];
    private static readonly string[] s_slow = ["slow"];
    private static readonly string[] s_connection = ["fast", "connection"];

    public static void Register(CommandTable table)
    {
        (string Name, int Arity, CommandFlags Flags)[] subcommands =
        [
            ("ADDSLOTS", -3, Admin), ("ADDSLOTSRANGE", -4, Admin), ("BUMPEPOCH", 2, Admin),
            ("COUNT-FAILURE-REPORTS", 3, CommandFlags.Admin | CommandFlags.Stale), ("COUNTKEYSINSLOT", 3, CommandFlags.Stale),
            ("DELSLOTS", -3, Admin), ("DELSLOTSRANGE", -4, Admin), ("FAILOVER", -2, Admin), ("FLUSHSLOTS", 2, Admin), ("FORGET", 3, Admin),
            ("GETKEYSINSLOT", 4, CommandFlags.Stale), ("HELP", 2, CommandFlags.Loading | CommandFlags.Stale), ("INFO", 2, CommandFlags.Stale),
            ("KEYSLOT", 3, CommandFlags.Stale), ("LINKS", 2, CommandFlags.Stale), ("MEET", -4, Admin), ("MYID", 2, CommandFlags.Stale),
            ("NODES", 2, CommandFlags.Stale), ("REPLICAS", 3, CommandFlags.Admin | CommandFlags.Stale), ("REPLICATE", 3, Admin),
            ("RESET", -2, CommandFlags.Admin | CommandFlags.Stale | CommandFlags.NoScript), ("SAVECONFIG", 2, Admin), ("SET-CONFIG-EPOCH", 3, Admin),
            ("SETSLOT", -4, Admin), ("SHARDS", 2, CommandFlags.Stale), ("SLAVES", 3, CommandFlags.Admin | CommandFlags.Stale), ("SLOTS", 2, CommandFlags.Stale),
        ];
        table.AddContainer(
            "CLUSTER",
            -2,
            CommandFlags.None,
            Disabled,
            null,
            [.. subcommands.Select(s => CommandTable.Sub(s.Name, s.Arity, s.Flags, Disabled, categories: (s.Flags & CommandFlags.Admin) != 0 ? s_admin : s_slow))]);
        table.Add("ASKING", 1, CommandFlags.Fast, Disabled, categories: s_connection);
        table.Add("READONLY", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, Disabled, categories: s_connection);
        table.Add("READWRITE", 1, CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, Disabled, categories: s_connection);
    }

    private static void Disabled(CommandContext context, Protocol.RespArgs args) => context.WriteError("ERR This instance has cluster support disabled"u8);
}
