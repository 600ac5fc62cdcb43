using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// MEMORY USAGE, PURGE, MALLOC-STATS and HELP. USAGE estimates what a key takes in the store, wherever its records are
/// (memory or disk): its records in the log and their index entries, a large collection's parts sampled as Redis samples
/// a collection's members. PURGE has the .NET GC give back what it can (a full, compacting collection), as Redis has
/// jemalloc purge its dirty pages; MALLOC-STATS answers as a Redis built without jemalloc does (Durable's allocator is
/// the .NET GC, which INFO memory reports). DOCTOR and STATS are Redis's reading of jemalloc's numbers, not built.
/// </summary>
internal static class MemoryCommands
{
    // Redis's default: 5 samples; 0 means all.
    private const long DefaultSamples = 5;

    public static void Register(CommandTable table)
    {
        table.AddContainer(
            "MEMORY",
            -2,
            CommandFlags.None,
            CommandTable.Sub("USAGE", -3, CommandFlags.ReadOnly, Usage, 2, 2, 1, ["read", "slow"]),
            CommandTable.Sub("PURGE", 2, CommandFlags.None, Purge, categories: ["slow"]),
            CommandTable.Sub("MALLOC-STATS", 2, CommandFlags.None, (context, args) => context.WriteBulk("Stats not supported for the current allocator"u8), categories: ["slow"]),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: ["slow"]));
    }

    // MEMORY USAGE key [SAMPLES count]: the options are checked before the key is looked up, as in Redis.
    private static void Usage(CommandContext context, RespArgs args)
    {
        long samples = DefaultSamples;
        for (int i = 3; i < args.Count; i++)
        {
            if (!args.Is(i, "SAMPLES"u8) || i + 1 >= args.Count)
            {
                context.WriteSyntaxError();
                return;
            }

            if (!RedisNumber.TryParseInt64(args[i + 1], out samples))
            {
                context.WriteNotInteger();
                return;
            }

            if (samples < 0)
            {
                context.WriteSyntaxError();
                return;
            }

            samples = samples == 0 ? long.MaxValue : samples;
            i++;
        }

        if (context.Session.MeasureKey(context.Db, args[2], samples) is long bytes)
        {
            context.WriteInteger(bytes);
        }
        else
        {
            context.WriteNull();
        }
    }

    private static void Purge(CommandContext context, RespArgs args)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        context.WriteOk();
    }

    private static void Help(CommandContext context, RespArgs args) => HelpReply.Write(context, "MEMORY", [
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
    ]);
}
