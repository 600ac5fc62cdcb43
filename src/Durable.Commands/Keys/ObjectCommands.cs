using Durable.Commands.Collections;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>
/// OBJECT ENCODING, FREQ, IDLETIME, REFCOUNT, HELP. Durable stores values as bytes, so encodings and reference
/// counts are what Redis would report for the same value written by SET; access times and frequencies are not kept.
/// </summary>
internal static class ObjectCommands
{
    // Redis OBJ_ENCODING_EMBSTR_SIZE_LIMIT, OBJ_SHARED_INTEGERS and OBJ_SHARED_REFCOUNT.
    private const int EmbeddedStringLimit = 44;
    private const long SharedIntegers = 10000;
    private const long SharedRefCount = int.MaxValue;

    public static void Register(CommandTable table)
    {
        string[] read = ["keyspace", "read", "slow"];
        table.AddContainer(
            "OBJECT",
            -2,
            CommandFlags.None,
            CommandTable.Sub("ENCODING", 3, CommandFlags.ReadOnly, Encoding, 2, 2, 1, read),
            CommandTable.Sub("FREQ", 3, CommandFlags.ReadOnly, Freq, 2, 2, 1, read),
            CommandTable.Sub("IDLETIME", 3, CommandFlags.ReadOnly, IdleTime, 2, 2, 1, read),
            CommandTable.Sub("REFCOUNT", 3, CommandFlags.ReadOnly, RefCount, 2, 2, 1, read),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: ["keyspace", "slow"]));
    }

    private static void Encoding(CommandContext context, RespArgs args)
    {
        if (context.Session.TryRead(context.Db, args[2], null, out StoredRecord record) && record.Type != RecordType.String)
        {
            context.WriteBulk(record.Type switch
            {
                RecordType.Hash => IsLargeEncoding(context, args[2]) ? "hashtable"u8 : "listpack"u8,
                RecordType.SortedSet => IsLargeEncoding(context, args[2]) ? "skiplist"u8 : "listpack"u8,

                // Redis 7.0: intset while every member is an integer and there are at most 512, else hashtable.
                RecordType.Set => IsLargeEncoding(context, args[2]) ? "hashtable"u8 : "intset"u8,

                // Redis 7.0 keeps every list as a quicklist.
                RecordType.List => "quicklist"u8,
                RecordType.Stream => "stream"u8,
                _ => throw new InvalidOperationException($"no encoding name for record type {record.Type}"),
            });
            return;
        }

        if (!TryReadShape(context, args[2], out StringShape shape))
        {
            context.WriteNull();
            return;
        }

        context.WriteBulk(shape switch
        {
            StringShape.Integer or StringShape.SharedInteger => "int"u8,
            StringShape.Embedded => "embstr"u8,
            _ => "raw"u8,
        });
    }

    private static void RefCount(CommandContext context, RespArgs args)
    {
        if (!TryReadShape(context, args[2], out StringShape shape))
        {
            context.WriteNull();
            return;
        }

        context.WriteInteger(shape == StringShape.SharedInteger ? SharedRefCount : 1);
    }

    // Redis answers FREQ only under an LFU maxmemory policy; Durable has no eviction policy, so always the non-LFU error.
    private static void Freq(CommandContext context, RespArgs args)
    {
        if (!context.Session.TryRead(context.Db, args[2], null, out StoredRecord _))
        {
            context.WriteNull();
            return;
        }

        context.WriteError(RespErrors.LfuNotSelected);
    }

    // Durable keeps no access times (reads would have to write); every key reports as just used, 0 seconds idle.
    private static void IdleTime(CommandContext context, RespArgs args)
    {
        if (!context.Session.TryRead(context.Db, args[2], null, out StoredRecord _))
        {
            context.WriteNull();
            return;
        }

        context.WriteInteger(0);
    }

    private static void Help(CommandContext context, RespArgs args)
    {
        ReadOnlySpan<string> lines =
        [
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Prints this help.",
        ];
        context.WriteArrayHeader(lines.Length);
        foreach (string line in lines)
        {
            context.WriteSimple(System.Text.Encoding.ASCII.GetBytes(line));
        }
    }

    /// <summary>
    /// Whether a collection has been converted to Redis's large encoding: the flags byte of its compact payload; a
    /// collection kept in parts is always large.
    /// </summary>
    private static bool IsLargeEncoding(CommandContext context, ReadOnlySpan<byte> key)
    {
        context.Scratch.ResetWrittenCount();
        return context.Session.TryRead(context.Db, key, context.Scratch, out StoredRecord record)
            && IsLargeEncoding(record.Type, context.Scratch.WrittenSpan);
    }

    /// <summary>Whether a collection whose record payload is <paramref name="payload"/> is in Redis's large encoding.</summary>
    public static bool IsLargeEncoding(RecordType type, ReadOnlySpan<byte> payload) =>
        payload.Length > 1 && (PartsDescriptor.TryRead(type, payload, out _) || (payload[1] & PackedItems.LargeEncoding) != 0);

    /// <summary>
    /// How Redis's tryObjectEncoding would store the value: an integer when it is at most 20 bytes and string2l
    /// parses it (shared below 10000 and not negative, as no maxmemory is set), else embstr up to 44 bytes, else raw.
    /// Reads the payload only when it could be an integer. False when the key does not exist.
    /// </summary>
    private static bool TryReadShape(CommandContext context, ReadOnlySpan<byte> key, out StringShape shape)
    {
        shape = StringShape.Raw;
        if (!context.Session.TryRead(context.Db, key, null, out StoredRecord record))
        {
            return false;
        }

        if (record.Type != RecordType.String)
        {
            return true;
        }

        if (record.Length <= 20
            && context.Session.TryRead(context.Db, key, context.Scratch, out _)
            && RedisNumber.TryParseInt64(context.Scratch.WrittenSpan, out long value))
        {
            shape = value is >= 0 and < SharedIntegers ? StringShape.SharedInteger : StringShape.Integer;
        }
        else
        {
            shape = record.Length <= EmbeddedStringLimit ? StringShape.Embedded : StringShape.Raw;
        }

        return true;
    }

    private enum StringShape
    {
        SharedInteger,
        Integer,
        Embedded,
        Raw,
    }
}
