using Durable.Commands.PubSub;
using Durable.Protocol;

namespace Durable.Commands.Hashes;

/// <summary>
/// Hash commands that set, read and delete fields: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HEXISTS, HLEN, HSTRLEN,
/// HKEYS, HVALS, HGETALL. Counters, HRANDFIELD and HSCAN live in the other Hashes/ files. A missing key reads as an
/// empty hash, which is exactly Redis's reply for each of them; writes keep the key's expiry.
/// </summary>
internal static class HashCommands
{
    public static void Register(CommandTable table)
    {
        const CommandFlags Write = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
        const CommandFlags Read = CommandFlags.ReadOnly | CommandFlags.Fast;
        string[] write = ["write", "hash", "fast"];
        string[] read = ["read", "hash", "fast"];
        string[] readSlow = ["read", "hash", "slow"];
        table.Add("HSET", -4, Write, HSet, 1, 1, 1, write).Warm = WarmFieldPairs;
        table.Add("HSETNX", 4, Write, HSetNx, 1, 1, 1, write).Warm = WarmFields;
        table.Add("HMSET", -4, Write, HMSet, 1, 1, 1, write).Warm = WarmFieldPairs;
        table.Add("HDEL", -3, CommandFlags.Write | CommandFlags.Fast, HDel, 1, 1, 1, write).Warm = WarmFields;
        table.Add("HGET", 3, Read, HGet, 1, 1, 1, read).Warm = WarmFields;
        table.Add("HMGET", -3, Read, HMGet, 1, 1, 1, read).Warm = WarmFields;
        table.Add("HEXISTS", 3, Read, HExists, 1, 1, 1, read).Warm = WarmFields;
        table.Add("HLEN", 2, Read, HLen, 1, 1, 1, read);
        table.Add("HSTRLEN", 3, Read, HStrLen, 1, 1, 1, read).Warm = WarmFields;
        table.Add("HKEYS", 2, CommandFlags.ReadOnly, HKeys, 1, 1, 1, readSlow);
        table.Add("HVALS", 2, CommandFlags.ReadOnly, HVals, 1, 1, 1, readSlow);
        table.Add("HGETALL", 2, CommandFlags.ReadOnly, HGetAll, 1, 1, 1, readSlow);
    }

    /// <summary>
    /// Warming (<see cref="CommandDefinition.Warm"/>): the buckets of the fields from args[2] on (HSETNX, HINCRBY and the
    /// like name one field; the value after it costs one more bucket lookup, which is only a hint read).
    /// </summary>
    internal static void WarmFields(CommandContext context, RespArgs args) => Warm(context, args, step: 1);

    private static void WarmFieldPairs(CommandContext context, RespArgs args) => Warm(context, args, step: 2);

    private static void Warm(CommandContext context, RespArgs args, int step)
    {
        if (PackedHash.Read(context, args[1], countStats: false, out PackedHash hash) != ReadResult.Found)
        {
            return;
        }

        for (int i = 2; i < args.Count; i += step)
        {
            hash.Contains(args[i]);
        }
    }

    private static void HSet(CommandContext context, RespArgs args)
    {
        if (TrySetPairs(context, args, "hset", out long created))
        {
            context.WriteInteger(created);
        }
    }

    private static void HMSet(CommandContext context, RespArgs args)
    {
        if (TrySetPairs(context, args, "hmset", out _))
        {
            context.WriteOk();
        }
    }

    /// <summary>Redis hsetCommand (HSET and HMSET): an odd number of field/value arguments is an arity error, before WRONGTYPE.</summary>
    private static bool TrySetPairs(CommandContext context, RespArgs args, string name, out long created)
    {
        created = 0;
        if (args.Count % 2 == 1)
        {
            context.WriteArityError(name);
            return false;
        }

        if (!PackedHash.TryRead(context, args[1], countStats: false, out PackedHash hash))
        {
            return false;
        }

        for (int i = 2; i < args.Count; i += 2)
        {
            if (hash.Set(args[i], args[i + 1].ToArray()))
            {
                created++;
            }
        }

        if (!hash.Save(context, args[1]))
        {
            return false;
        }

        context.Notify(KeyspaceEventClass.Hash, "hset"u8, args[1]);
        return true;
    }

    // Redis: an existing field is left alone (and does not convert the encoding, however long the new value).
    private static void HSetNx(CommandContext context, RespArgs args)
    {
        if (!PackedHash.TryRead(context, args[1], countStats: false, out PackedHash hash))
        {
            return;
        }

        if (hash.Contains(args[2]))
        {
            context.WriteInteger(0);
            return;
        }

        hash.Set(args[2], args[3].ToArray());
        if (hash.Save(context, args[1]))
        {
            context.Notify(KeyspaceEventClass.Hash, "hset"u8, args[1]);
            context.WriteInteger(1);
        }
    }

    private static void HDel(CommandContext context, RespArgs args)
    {
        if (!PackedHash.TryRead(context, args[1], countStats: false, out PackedHash hash))
        {
            return;
        }

        long deleted = 0;
        for (int i = 2; i < args.Count; i++)
        {
            if (hash.Delete(args[i]))
            {
                deleted++;
            }
        }

        if (deleted == 0)
        {
            context.WriteInteger(0);
        }
        else if (hash.Save(context, args[1]))
        {
            context.Notify(KeyspaceEventClass.Hash, "hdel"u8, args[1]);
            if (hash.Count == 0)
            {
                context.Notify(KeyspaceEventClass.Generic, "del"u8, args[1]);
            }

            context.WriteInteger(deleted);
        }
    }

    private static void HGet(CommandContext context, RespArgs args)
    {
        if (PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            WriteBulkOrNull(context, hash.Get(args[2]));
        }
    }

    // Redis: one keyspace hit or miss for the key, a null for each missing field.
    private static void HMGet(CommandContext context, RespArgs args)
    {
        if (!PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            return;
        }

        context.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            WriteBulkOrNull(context, hash.Get(args[i]));
        }
    }

    private static void HExists(CommandContext context, RespArgs args)
    {
        if (PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            context.WriteInteger(hash.Contains(args[2]) ? 1 : 0);
        }
    }

    private static void HLen(CommandContext context, RespArgs args)
    {
        if (PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            context.WriteInteger(hash.Count);
        }
    }

    private static void HStrLen(CommandContext context, RespArgs args)
    {
        if (PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            context.WriteInteger(hash.Get(args[2])?.Length ?? 0);
        }
    }

    private static void HKeys(CommandContext context, RespArgs args) => WriteItems(context, args[1], first: 0, step: 2);

    private static void HVals(CommandContext context, RespArgs args) => WriteItems(context, args[1], first: 1, step: 2);

    // Redis: a map in RESP3 (an empty map for a missing key), a flat array of field, value... in RESP2.
    private static void HGetAll(CommandContext context, RespArgs args)
    {
        if (!PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            return;
        }

        context.WriteMapHeader(hash.Count);
        WriteEvery(context, hash.Items, 0, 1);
    }

    // HKEYS and HVALS answer a plain array in RESP3 too.
    private static void WriteItems(CommandContext context, ReadOnlySpan<byte> key, int first, int step)
    {
        if (!PackedHash.TryRead(context, key, countStats: true, out PackedHash hash))
        {
            return;
        }

        context.WriteArrayHeader(hash.Count);
        WriteEvery(context, hash.Items, first, step);
    }

    private static void WriteEvery(CommandContext context, List<byte[]> items, int first, int step)
    {
        for (int i = first; i < items.Count; i += step)
        {
            context.WriteBulk(items[i]);
        }
    }

    private static void WriteBulkOrNull(CommandContext context, byte[]? value)
    {
        if (value is null)
        {
            context.WriteNull();
        }
        else
        {
            context.WriteBulk(value);
        }
    }
}
