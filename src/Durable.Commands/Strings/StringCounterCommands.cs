using Durable.Commands.PubSub;
using System.Buffers.Text;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT. Counters keep the key's expiry, as Redis's in-place update does.</summary>
internal static class StringCounterCommands
{
    public static void Register(CommandTable table)
    {
        const CommandFlags Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
        table.Add("INCR", 2, Flags, Incr, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("DECR", 2, Flags, Decr, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("INCRBY", 3, Flags, IncrBy, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("DECRBY", 3, Flags, DecrBy, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("INCRBYFLOAT", 3, Flags, IncrByFloat, 1, 1, 1, ["write", "string", "fast"]);
    }

    private static void Incr(CommandContext context, RespArgs args) => IncrDecr(context, args[1], 1);

    private static void Decr(CommandContext context, RespArgs args) => IncrDecr(context, args[1], -1);

    private static void IncrBy(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[2], out long increment))
        {
            context.WriteNotInteger();
            return;
        }

        IncrDecr(context, args[1], increment);
    }

    private static void DecrBy(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[2], out long decrement))
        {
            context.WriteNotInteger();
            return;
        }

        // Redis: negating LLONG_MIN would overflow, so it has its own error.
        if (decrement == long.MinValue)
        {
            context.WriteError(RespErrors.DecrementOverflow);
            return;
        }

        IncrDecr(context, args[1], -decrement);
    }

    /// <summary>Redis incrDecrCommand: WRONGTYPE first, then the stored value must be a string2ll integer, then the overflow check.</summary>
    private static void IncrDecr(CommandContext context, ReadOnlySpan<byte> key, long increment)
    {
        ReadResult read = StringRecords.Read(context, key, countStats: false, out StoredRecord record);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        long value = 0;
        if (read == ReadResult.Found && !RedisNumber.TryParseInt64(context.Scratch.WrittenSpan, out value))
        {
            context.WriteNotInteger();
            return;
        }

        if (!TryAdd(context, ref value, increment))
        {
            return;
        }

        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int length);
        if (!TypedRecords.FitsRecord(context, key, length))
        {
            return;
        }

        context.Session.Write(context.Db, key, RecordType.String, digits[..length], read == ReadResult.Found ? record.ExpiresAtMs : 0);
        context.Notify(KeyspaceEventClass.String, "incrby"u8, key);
        context.WriteInteger(value);
    }

    /// <summary>
    /// Adds <paramref name="increment"/> to <paramref name="value"/> unless the sum leaves the 64-bit range, which gets
    /// Redis's "increment or decrement would overflow" (INCRBY, HINCRBY); returns false after writing that error.
    /// </summary>
    internal static bool TryAdd(CommandContext context, ref long value, long increment)
    {
        if ((increment < 0 && value < 0 && increment < long.MinValue - value) || (increment > 0 && value > 0 && increment > long.MaxValue - value))
        {
            context.WriteError(RespErrors.Overflow);
            return false;
        }

        value += increment;
        return true;
    }

    /// <summary>
    /// Redis incrbyfloatCommand: WRONGTYPE, then the stored value, then the increment must parse as strtold does
    /// ("ERR value is not a valid float"); a NaN or infinite sum is refused. The arithmetic and the %.17Lf text are
    /// those of the x87 long double Redis computes with on x86-64, emulated exactly by <see cref="LongDouble"/>.
    /// </summary>
    private static void IncrByFloat(CommandContext context, RespArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        ReadResult read = StringRecords.Read(context, key, countStats: false, out StoredRecord record);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        LongDouble value = LongDouble.Zero;
        if ((read == ReadResult.Found && !LongDouble.TryParse(context.Scratch.WrittenSpan, out value))
            || !LongDouble.TryParse(args[2], out LongDouble increment))
        {
            context.WriteError(RespErrors.NotFloat);
            return;
        }

        if (!LongDouble.TryAdd(value, increment, out LongDouble sum))
        {
            context.WriteError(RespErrors.IncrFloatNaN);
            return;
        }

        byte[] text = sum.ToFixed17();
        if (!TypedRecords.FitsRecord(context, key, text.Length))
        {
            return;
        }

        context.Session.Write(context.Db, key, RecordType.String, text, read == ReadResult.Found ? record.ExpiresAtMs : 0);
        context.Notify(KeyspaceEventClass.String, "incrbyfloat"u8, key);
        context.WriteBulk(text);

        // Redis: replicas set the sum as text (their floating point need not agree), keeping the key's expiry.
        context.PropagateAs("SET"u8.ToArray(), key.ToArray(), text, "KEEPTTL"u8.ToArray());
    }
}
