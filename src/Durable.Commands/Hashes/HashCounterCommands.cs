using Durable.Commands.PubSub;
using System.Buffers.Text;
using Durable.Commands.Strings;
using Durable.Protocol;

namespace Durable.Commands.Hashes;

/// <summary>HINCRBY and HINCRBYFLOAT: the increment is checked first, then the key's type, then the stored value.</summary>
internal static class HashCounterCommands
{
    public static void Register(CommandTable table)
    {
        const CommandFlags Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
        table.Add("HINCRBY", 4, Flags, HIncrBy, 1, 1, 1, ["write", "hash", "fast"]).Warm = HashCommands.WarmFields;
        table.Add("HINCRBYFLOAT", 4, Flags, HIncrByFloat, 1, 1, 1, ["write", "hash", "fast"]).Warm = HashCommands.WarmFields;
    }

    /// <summary>Redis hincrbyCommand: a missing field counts from 0; the stored value must be a string2ll integer.</summary>
    private static void HIncrBy(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[3], out long increment))
        {
            context.WriteNotInteger();
            return;
        }

        if (!PackedHash.TryRead(context, args[1], countStats: false, out PackedHash hash))
        {
            return;
        }

        long value = 0;
        byte[]? stored = hash.Get(args[2]);
        if (stored is not null && !RedisNumber.TryParseInt64(stored, out value))
        {
            context.WriteError(HashErrors.NotInteger);
            return;
        }

        if (!StringCounterCommands.TryAdd(context, ref value, increment))
        {
            return;
        }

        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int length);
        hash.Set(args[2], digits[..length].ToArray());
        if (hash.Save(context, args[1]))
        {
            context.Notify(KeyspaceEventClass.Hash, "hincrby"u8, args[1]);
            context.WriteInteger(value);
        }
    }

    /// <summary>
    /// Redis hincrbyfloatCommand: the increment must parse as strtold does and be finite ("value is NaN or Infinity"),
    /// the stored value must parse too ("hash value is not a float"), and the sum must be finite. Long double
    /// arithmetic and %.17Lf text as INCRBYFLOAT (<see cref="LongDouble"/>); a result longer than 64 bytes converts
    /// the hash to a hashtable, as Redis's hashTypeSet does.
    /// </summary>
    private static void HIncrByFloat(CommandContext context, RespArgs args)
    {
        if (!LongDouble.TryParse(args[3], out LongDouble increment))
        {
            context.WriteError(RespErrors.NotFloat);
            return;
        }

        if (increment.IsInfinity)
        {
            context.WriteError(HashErrors.IncrementNaNOrInfinity);
            return;
        }

        if (!PackedHash.TryRead(context, args[1], countStats: false, out PackedHash hash))
        {
            return;
        }

        LongDouble value = LongDouble.Zero;
        byte[]? stored = hash.Get(args[2]);
        if (stored is not null && !LongDouble.TryParse(stored, out value))
        {
            context.WriteError(HashErrors.NotFloat);
            return;
        }

        if (!LongDouble.TryAdd(value, increment, out LongDouble sum))
        {
            context.WriteError(RespErrors.IncrFloatNaN);
            return;
        }

        byte[] text = sum.ToFixed17();
        hash.Set(args[2], text);
        if (hash.Save(context, args[1]))
        {
            context.Notify(KeyspaceEventClass.Hash, "hincrbyfloat"u8, args[1]);
            context.WriteBulk(text);
            context.PropagateAs("HSET"u8.ToArray(), args[1].ToArray(), args[2].ToArray(), text);
        }
    }
}
