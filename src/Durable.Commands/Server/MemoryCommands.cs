using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// MEMORY USAGE, PURGE, MALLOC-STATS and HELP. USAGE estimates what a key takes in the store, wherever its records are
/// (memory or disk): its records in the log and their index entries, a large collection's parts sampled as Redis samples
/// a collection's members. PURGE has the .NET GC give back what it can (a full, compacting collection), as Redis has
/// jemalloc purge its dirty pages; MALLOC-STATS answers as a Redis built without jemalloc does (Durable's allocator is
/// the .NET GC, which INFO memory reports). STATS and DOCTOR read the same numbers as INFO memory
/// (<see cref="MemoryOverview"/>), in Redis's fields and with Redis's checks.
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
            CommandTable.Sub("DOCTOR", 2, CommandFlags.None, Doctor, categories: ["slow"]),
            CommandTable.Sub("STATS", 2, CommandFlags.None, Stats, categories: ["slow"]),
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

    // Redis MEMORY STATS, field for field. Durable's allocator is the .NET GC: "allocator.allocated" is the heap in use,
    // "active" and "resident" what the GC has committed; "aof.buffer" is the WAL's buffer; the hash index is shared by
    // the databases, and each database's "overhead.hashtable.main" is its share by keys.
    private static void Stats(CommandContext context, RespArgs args)
    {
        MemoryOverview memory = MemoryOverview.Read(context.Server);
        List<(int Db, long Keys)> databases = [];
        for (int db = 0; db < context.Store.Databases; db++)
        {
            if (context.Store.KeyCount(db) is > 0 and long keys)
            {
                databases.Add((db, keys));
            }
        }

        long totalKeys = databases.Sum(d => d.Keys);
        long index = memory.Store.IndexBytes + memory.Store.IndexOverflowBytes;
        static long Buffers(ClientState c) => c.InputBufferBytes + c.OutputBufferBytes + c.QueuedPushBytes;
        long clients = context.Server.Clients.All.Where(c => !c.IsReplica).Sum(Buffers);
        long replicas = context.Server.Clients.All.Where(c => c.IsReplica).Sum(Buffers);
        long used = memory.Used;
        context.WriteMapHeader(27 + databases.Count);
        Integer(context, "peak.allocated", memory.Peak);
        Integer(context, "total.allocated", used);
        Integer(context, "startup.allocated", 0);
        Integer(context, "replication.backlog", context.Server.ReplicationFeed.BacklogBytes);
        Integer(context, "clients.slaves", replicas);
        Integer(context, "clients.normal", clients);
        Integer(context, "cluster.links", 0);
        Integer(context, "aof.buffer", memory.Store.WalBufferBytes);
        Integer(context, "lua.caches", memory.CachedScripts);
        Integer(context, "functions.caches", memory.FunctionsCode);
        foreach ((int db, long keys) in databases)
        {
            context.WriteBulk($"db.{db}");
            context.WriteMapHeader(3);
            Integer(context, "overhead.hashtable.main", totalKeys == 0 ? 0 : (long)((double)index * keys / totalKeys));
            Integer(context, "overhead.hashtable.expires", 0);
            Integer(context, "overhead.hashtable.slot-to-keys", 0);
        }

        Integer(context, "overhead.total", memory.Overhead);
        Integer(context, "keys.count", totalKeys);
        Integer(context, "keys.bytes-per-key", totalKeys == 0 ? 0 : used / totalKeys);
        Integer(context, "dataset.bytes", memory.Dataset);
        Double(context, "dataset.percentage", used == 0 ? 0 : memory.Dataset * 100.0 / used);
        Double(context, "peak.percentage", memory.Peak == 0 ? 0 : used * 100.0 / memory.Peak);
        Integer(context, "allocator.allocated", used);
        Integer(context, "allocator.active", memory.Committed);
        Integer(context, "allocator.resident", memory.Committed);
        Double(context, "allocator-fragmentation.ratio", used == 0 ? 0 : (double)memory.Committed / used);
        Integer(context, "allocator-fragmentation.bytes", memory.Committed - used);
        Double(context, "allocator-rss.ratio", 1);
        Integer(context, "allocator-rss.bytes", 0);
        Double(context, "rss-overhead.ratio", memory.Committed == 0 ? 0 : (double)memory.Rss / memory.Committed);
        Integer(context, "rss-overhead.bytes", memory.Rss - memory.Committed);
        Double(context, "fragmentation", used == 0 ? 0 : (double)memory.Rss / used);
        Integer(context, "fragmentation.bytes", memory.Rss - used);
    }

    private static void Integer(CommandContext context, string name, long value)
    {
        context.WriteBulk(name);
        context.WriteInteger(value);
    }

    // Redis addReplyDouble of a float: "%.17g" of the float's value.
    private static void Double(CommandContext context, string name, double value)
    {
        context.WriteBulk(name);
        RespWriter.WriteDouble(context.Reply, System.Text.Encoding.ASCII.GetBytes(((double)(float)value).ToString("G17", System.Globalization.CultureInfo.InvariantCulture)), context.Protocol);
    }

    // Redis getMemoryDoctorReport's checks on Durable's numbers. "Empty" is a log (the records written, in memory or on
    // disk) under 5 MB, where Redis looks at everything allocated: Durable's heap holds its log pages and index from the
    // start. The allocator's checks are left out (the .NET GC has no such layers), and so is the check of RSS against
    // what is allocated: Durable's RSS holds the .NET runtime and its compiled code, 60-100 MB that Redis's 1.4 ratio
    // does not allow for, and the advice that comes with it (use jemalloc) does not apply.
    private static void Doctor(CommandContext context, RespArgs args)
    {
        MemoryOverview memory = MemoryOverview.Read(context.Server);
        List<string> issues = [];
        bool empty = memory.Store.LogTailAddress - memory.Store.LogBeginAddress < 5 << 20;
        if (!empty)
        {
            if ((double)memory.Peak / memory.Used > 1.5)
            {
                issues.Add(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
            }

            int clients = Math.Max(1, context.Server.Clients.Count);
            if (context.Server.Clients.All.Sum(c => c.OutputBufferBytes + c.QueuedPushBytes) / clients > 200 * 1024)
            {
                issues.Add(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
            }

            if ((context.Server.ScriptsIfCreated?.CachedScripts ?? 0) > 1000)
            {
                issues.Add(" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n");
            }
        }

        string report = empty
            ? "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
            : issues.Count == 0
                ? "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
                : "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + string.Concat(issues) + "I'm here to keep you safe, Sam. I want to help you.\n";
        RespWriter.WriteVerbatim(context.Reply, System.Text.Encoding.ASCII.GetBytes(report), context.Protocol);
    }

    private static void Purge(CommandContext context, RespArgs args)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        context.WriteOk();
    }

    private static void Help(CommandContext context, RespArgs args) => HelpReply.Write(context, "MEMORY", [
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
    ]);
}
