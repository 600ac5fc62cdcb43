using System.Buffers;
using System.Text;
using Durable.Protocol;
using Microsoft.Extensions.Logging;

namespace Durable.Commands.Server;

/// <summary>
/// DEBUG, as Redis 7.0 guards it: refused unless <c>enable-debug-command</c> is yes, or local and the client is on
/// loopback (Redis's default, no, refuses it with the text that says so). Durable has HELP, SLEEP (it holds the calling
/// connection only, where Redis stops the whole server), ERROR, LOG, PROTOCOL and POPULATE; Redis's other subcommands
/// answer that Durable does not have them.
/// </summary>
internal static partial class DebugCommands
{
    private static readonly string[] s_help =
    [
        "AOF-FLUSH-SLEEP <microsec>",
        "    Server will sleep before flushing the AOF, this is used for testing.",
        "ASSERT",
        "    Crash by assertion failed.",
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "CONFIG-REWRITE-FORCE-ALL",
        "    Like CONFIG REWRITE but writes all configuration options, including",
        "    keywords not listed in original configuration file or default values.",
        "CRASH-AND-RECOVER [<milliseconds>]",
        "    Hard crash and restart after a <milliseconds> delay (default 0).",
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LEAK <string>",
        "    Create a memory leak of the input string.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "HTSTATS <dbid>",
        "    Return hash table statistics of the specified Redis database.",
        "HTSTATS-KEY <key>",
        "    Like HTSTATS but for the hash table stored at <key>'s value.",
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        "REPLICATE <string>",
        "    Replicates the provided string to replicas, allowing data divergence.",
        "MALLCTL <key> [<val>]",
        "    Get or set a malloc tuning integer.",
        "MALLCTL-STR <key> [<val>]",
        "    Get or set a malloc tuning string.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "DROP-CLUSTER-PACKET-FILTER <packet-type>",
        "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
        "OOM",
        "    Crash the server simulating an out-of-memory error.",
        "PANIC",
        "    Crash the server simulating a panic.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "RELOAD [option ...]",
        "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
        "    * MERGE: conflicting keys will be loaded from RDB.",
        "    * NOFLUSH: the existing database will not be removed before load, but",
        "      conflicting keys will generate an exception and kill the server.",
        "    * NOSAVE: the database will be loaded from an existing RDB file.",
        "    Examples:",
        "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
        "      the database.",
        "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
        "      existing RDB file.",
        "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
        "      file to the database.",
        "RESTART [<milliseconds>]",
        "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
        "SDSLEN <key>",
        "    Show low level SDS string info representing `key` and value.",
        "SEGFAULT",
        "    Crash the server with sigsegv.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Sets the threshold for elements to be inserted as plain vs packed nodes",
        "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "STRINGMATCH-TEST",
        "    Run a fuzz tester against the stringmatchlen() function.",
        "STRUCTSIZE",
        "    Return the size of different Redis core C structures.",
        "LISTPACK <key>",
        "    Show low level info about the listpack encoding of <key>.",
        "QUICKLIST <key> [<0|1>]",
        "    Show low level info about the quicklist encoding of <key>.",
        "    The optional argument (0 by default) sets the level of detail",
        "CLIENT-EVICTION",
        "    Show low level client eviction pools info (maxmemory-clients).",
        "PAUSE-CRON <0|1>",
        "    Stop periodic cron job processing.",
        "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
        "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
        "    In case NEVER is provided the last observed peak will never be reset",
        "    In case RESET is provided the peak reset time will be restored to the default value",
        "REPLYBUFFER RESIZING <0|1>",
        "    Enable or disable the reply buffer resize cron job",
        "CLUSTERLINK KILL <to|from|all> <node-id>",
        "    Kills the link based on the direction to/from (both) with the provided node.",
    ];

    // Redis's subcommands Durable does not have (answered so, rather than as unknown).
    private static readonly string[] s_missing =
    [
        "AOF-FLUSH-SLEEP", "ASSERT", "CHANGE-REPL-ID", "CONFIG-REWRITE-FORCE-ALL", "CRASH-AND-RECOVER", "DIGEST", "DIGEST-VALUE", "LEAK",
        "HTSTATS", "HTSTATS-KEY", "LOADAOF", "REPLICATE", "MALLCTL", "MALLCTL-STR", "OBJECT", "DROP-CLUSTER-PACKET-FILTER", "OOM", "PANIC",
        "RELOAD", "RESTART", "SDSLEN", "SEGFAULT", "SET-ACTIVE-EXPIRE", "QUICKLIST-PACKED-THRESHOLD", "SET-SKIP-CHECKSUM-VALIDATION",
        "STRINGMATCH-TEST", "STRUCTSIZE", "LISTPACK", "QUICKLIST", "CLIENT-EVICTION", "PAUSE-CRON", "REPLYBUFFER", "CLUSTERLINK", "ZIPLIST",
    ];

    public static void Register(CommandTable table) =>
        table.Add(
            "DEBUG", -2, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Protected, Debug,
            categories: ["admin", "slow", "dangerous"]);

    /// <summary>Redis allowProtectedAction for enable-debug-command: yes, or local and a client on loopback.</summary>
    public static bool Allowed(CommandContext context) => context.Server.Config.EnableDebugCommand switch
    {
        "yes" => true,
        "local" => context.Client.Address.StartsWith("127.0.0.1:", StringComparison.Ordinal) || context.Client.Address.StartsWith("[::1]:", StringComparison.Ordinal),
        _ => false,
    };

    public const string Refusal =
        "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

    private static void Debug(CommandContext context, RespArgs args)
    {
        string name = Encoding.Latin1.GetString(args[1]).ToUpperInvariant();
        switch (name)
        {
            case "HELP" when args.Count == 2:
                HelpReply.Write(context, "DEBUG", s_help);
                return;
            case "SLEEP" when args.Count == 3:
                Sleep(context, args[2]);
                return;
            case "ERROR" when args.Count == 3:
                context.WriteErrorOneLine(Encoding.Latin1.GetString(args[2]));
                return;
            case "LOG" when args.Count == 3:
                Log.DebugLog(context.Server.Logger, Encoding.Latin1.GetString(args[2]));
                context.WriteOk();
                return;
            case "PROTOCOL" when args.Count == 3:
                Protocol(context, Encoding.Latin1.GetString(args[2]).ToLowerInvariant());
                return;
            case "POPULATE" when args.Count is >= 3 and <= 5:
                Populate(context, args);
                return;
        }

        if (s_missing.Contains(name))
        {
            context.WriteError($"ERR DEBUG {name} is not supported by Durable");
            return;
        }

        context.WriteSubcommandSyntaxError(args);
    }

    // Redis: strtod of the argument (garbage reads as 0), in microseconds. The connection's reply waits; others go on.
    private static void Sleep(CommandContext context, ReadOnlySpan<byte> text)
    {
        double seconds = Strtod(Encoding.Latin1.GetString(text));
        long microseconds = double.IsNaN(seconds) || seconds <= 0 ? 0 : (long)Math.Min(seconds * 1_000_000, long.MaxValue / 2);
        context.WriteOk();
        if (microseconds > 0)
        {
            context.DeferredReply = async (_, cancellationToken) => await TimedWaits.DelayAsync((microseconds + 999) / 1000, context.Server.Time, cancellationToken);
        }
    }

    // The longest prefix that parses as a number, as strtod reads it.
    private static double Strtod(string text)
    {
        string trimmed = text.TrimStart();
        for (int length = trimmed.Length; length > 0; length--)
        {
            if (double.TryParse(trimmed.AsSpan(0, length), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value))
            {
                return value;
            }
        }

        return 0;
    }

    private static void Protocol(CommandContext context, string type)
    {
        RespVersion protocol = context.Protocol;
        switch (type)
        {
            case "string":
                context.WriteBulk("Hello World"u8);
                break;
            case "integer":
                context.WriteInteger(12345);
                break;
            case "double":
                RespWriter.WriteDouble(context.Reply, "3.141"u8, protocol);
                break;
            case "bignum":
                byte[] number = "1234567999999999999999999999999999999"u8.ToArray();
                if (protocol == RespVersion.Resp3)
                {
                    context.Reply.Write([(byte)'(', .. number, (byte)'\r', (byte)'\n']);
                }
                else
                {
                    context.WriteBulk(number);
                }

                break;
            case "null":
                context.WriteNull();
                break;
            case "array" or "set":
                if (type == "set")
                {
                    context.WriteSetHeader(3);
                }
                else
                {
                    context.WriteArrayHeader(3);
                }

                for (int i = 0; i < 3; i++)
                {
                    context.WriteInteger(i);
                }

                break;
            case "map":
                context.WriteMapHeader(3);
                for (int i = 0; i < 3; i++)
                {
                    context.WriteInteger(i);
                    RespWriter.WriteBoolean(context.Reply, i == 1, protocol);
                }

                break;
            case "attrib":
                if (protocol == RespVersion.Resp3)
                {
                    context.Reply.Write("|1\r\n"u8);
                    context.WriteBulk("key-popularity"u8);
                    context.WriteArrayHeader(2);
                    context.WriteBulk("key:123"u8);
                    context.WriteInteger(90);
                }

                context.WriteBulk("Some real reply following the attribute"u8);
                break;
            case "push":
                if (protocol != RespVersion.Resp3)
                {
                    context.WriteError("ERR RESP2 is not supported by this command"u8);
                    return;
                }

                RespWriter.WritePushHeader(context.Reply, 2, protocol);
                context.WriteBulk("server-cpu-usage"u8);
                context.WriteInteger(42);
                context.WriteBulk("Some real reply following the push reply"u8);
                break;
            case "true" or "false":
                RespWriter.WriteBoolean(context.Reply, type == "true", protocol);
                break;
            case "verbatim":
                RespWriter.WriteVerbatim(context.Reply, "This is a verbatim\nstring"u8, protocol);
                break;
            default:
                context.WriteError("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"u8);
                break;
        }
    }

    // Redis DEBUG POPULATE count [prefix] [size]: string keys prefix:N holding "value:N" (cut or zero-padded to size),
    // keys that exist left alone. Each is a write like SETNX's (logged, so it survives a crash, and told to watchers and
    // keyspace notifications as a set).
    private static void Populate(CommandContext context, RespArgs args)
    {
        long size = 0;
        if (!TryParsePositive(context, args[2], out long count) || (args.Count == 5 && !TryParsePositive(context, args[4], out size)))
        {
            return;
        }

        string prefix = args.Count >= 4 ? Encoding.Latin1.GetString(args[3]) : "key";

        // The size comes from the client: one past the largest record is refused before anything is allocated, with the
        // error a SET of it gets (the longest key and value decide; writes below reply into nothing).
        if (count > 0 && !TypedRecords.FitsRecord(context, Encoding.Latin1.GetBytes($"{prefix}:{count - 1}"), Math.Max(size, $"value:{count - 1}".Length)))
        {
            return;
        }

        IBufferWriter<byte> reply = context.Reply;
        ArrayBufferWriter<byte> discarded = new();
        try
        {
            context.Reply = discarded;
            for (long i = 0; i < count; i++)
            {
                byte[] key = Encoding.Latin1.GetBytes($"{prefix}:{i}");
                byte[] text = Encoding.ASCII.GetBytes($"value:{i}");
                byte[] value = size == 0 ? text : new byte[size];
                if (size > 0)
                {
                    text.AsSpan(0, (int)Math.Min(size, text.Length)).CopyTo(value);
                }

                discarded.ResetWrittenCount();
                CommandDispatcher.ExecuteLocked(context, [key], c =>
                {
                    // Redis's populate does not reach replicas; here each key it adds does, so replicas hold what this server holds.
                    if (Strings.StringSetCommands.SetIfAbsent(c, key, value))
                    {
                        c.PropagateAs("SET"u8.ToArray(), key, value);
                    }

                    return true;
                });
            }
        }
        finally
        {
            context.Reply = reply;
        }

        context.WriteOk();
    }

    // Redis getPositiveLongFromObjectOrReply: one error for what is not a number and for what is negative.
    private static bool TryParsePositive(CommandContext context, ReadOnlySpan<byte> text, out long value)
    {
        if (RedisNumber.TryParseInt64(text, out value) && value >= 0)
        {
            return true;
        }

        context.WriteError("ERR value is out of range, must be positive"u8);
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 153, Level = LogLevel.Warning, Message = "DEBUG LOG: {Message}")]
        public static partial void DebugLog(ILogger logger, string message);
    }
}
