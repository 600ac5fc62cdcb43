using Durable.Commands.Collections;
using Durable.Commands.Strings;
using Durable.Protocol;

namespace Durable.Commands.Hashes;

/// <summary>
/// HRANDFIELD key [count [WITHVALUES]], after Redis 7.0's hrandfieldCommand: no count answers one field (or null);
/// a positive count answers distinct fields (the whole hash when count reaches its size, in hash order; otherwise a
/// random subset, in hash order as Redis's listpack sampling gives it); a negative count answers |count| fields picked
/// independently, so they may repeat. WITHVALUES pairs each field with its value: flat in RESP2, two-element arrays in
/// RESP3.
/// </summary>
internal static class HashRandomCommands
{
    // Redis HRANDFIELD_SUB_STRATEGY_MUL: below a third of the hash, distinct fields are picked one by one.
    private const long DistinctPickFactor = 3;

    // Per element of a reply: bulk headers ($ length CR LF ... CR LF) and a RESP3 pair header, generously.
    public static void Register(CommandTable table) =>
        table.Add("HRANDFIELD", -2, CommandFlags.ReadOnly, HRandField, 1, 1, 1, ["read", "hash", "slow"]);

    /// <summary>Order of checks as Redis: count, then the WITHVALUES syntax and range, then the key.</summary>
    private static void HRandField(CommandContext context, RespArgs args)
    {
        if (args.Count == 2)
        {
            RandomField(context, args[1]);
            return;
        }

        if (!RedisNumber.TryParseInt64(args[2], out long count))
        {
            context.WriteNotInteger();
            return;
        }

        // Redis getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX).
        if (count == long.MinValue)
        {
            context.WriteError(HashErrors.CountOutOfRange);
            return;
        }

        bool withValues = args.Count == 4;
        if (args.Count > 4 || (withValues && !StringRecords.IsOption(args[3], "WITHVALUES"u8)))
        {
            context.WriteSyntaxError();
            return;
        }

        // Redis: count * 2 must not overflow a long when values are asked for.
        if (withValues && (count < -(long.MaxValue / 2) || count > long.MaxValue / 2))
        {
            context.WriteError(HashErrors.CountWithValuesOutOfRange);
            return;
        }

        if (!PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            return;
        }

        if (count == 0 || hash.Count == 0)
        {
            context.WriteArrayHeader(0);
        }
        else if (count < 0)
        {
            RepeatingFields(context, hash, -count, withValues);
        }
        else if (hash.Bucketed is { } bucketed && count <= hash.Count / DistinctPickFactor)
        {
            // Redis's strategy for a count small against the hash: distinct random picks, one bucket read each.
            List<byte[]> picked = bucketed.PickDistinct((int)count);
            WriteHeader(context, count, withValues);
            for (int i = 0; i < picked.Count; i += 2)
            {
                WritePair(context, picked, i, withValues);
            }
        }
        else
        {
            DistinctFields(context, hash, (int)Math.Min(count, hash.Count), withValues);
        }
    }

    private static void RandomField(CommandContext context, ReadOnlySpan<byte> key)
    {
        if (!PackedHash.TryRead(context, key, countStats: true, out PackedHash hash))
        {
            return;
        }

        if (hash.Count == 0)
        {
            context.WriteNull();
            return;
        }

        if (hash.Bucketed is { } bucketed)
        {
            bucketed.TryPickRandom(out List<byte[]> bucket, out int index);
            context.WriteBulk(bucket[index]);
            return;
        }

        context.WriteBulk(hash.Items[2 * Random.Shared.Next(hash.Count)]);
    }

    /// <summary>
    /// |count| independent picks. The reply grows with a number the client chose, not with the hash, so it is
    /// refused when it would pass proto-max-bulk-len (Redis would build it, however large).
    /// </summary>
    private static void RepeatingFields(CommandContext context, PackedHash hash, long count, bool withValues)
    {
        List<byte[]> items = hash.Items;
        long perPick = RepeatedPicks.OverheadPerItem;
        for (int i = 0; i < items.Count; i += 2)
        {
            long size = items[i].Length + (withValues ? items[i + 1].Length + RepeatedPicks.OverheadPerItem : 0) + RepeatedPicks.OverheadPerItem;
            perPick = Math.Max(perPick, size);
        }

        if (!RepeatedPicks.Fit(context, "HRANDFIELD", "fields", count, perPick))
        {
            return;
        }

        WriteHeader(context, count, withValues);
        for (long picked = 0; picked < count; picked++)
        {
            WritePair(context, items, 2 * Random.Shared.Next(hash.Count), withValues);
        }
    }

    /// <summary>
    /// <paramref name="count"/> distinct fields in hash order, by selection sampling (Knuth's algorithm S, as Redis's
    /// lpRandomPairsUnique): each field is taken with probability (still needed) / (still left).
    /// </summary>
    private static void DistinctFields(CommandContext context, PackedHash hash, int count, bool withValues)
    {
        List<byte[]> items = hash.Items;
        WriteHeader(context, count, withValues);
        int needed = count;
        for (int field = 0, left = hash.Count; needed > 0; field++, left--)
        {
            if (Random.Shared.Next(left) < needed)
            {
                WritePair(context, items, 2 * field, withValues);
                needed--;
            }
        }
    }

    private static void WriteHeader(CommandContext context, long count, bool withValues) =>
        context.WriteArrayHeader(withValues && context.Protocol == RespVersion.Resp2 ? count * 2 : count);

    private static void WritePair(CommandContext context, List<byte[]> items, int index, bool withValues)
    {
        if (withValues && context.Protocol != RespVersion.Resp2)
        {
            context.WriteArrayHeader(2);
        }

        context.WriteBulk(items[index]);
        if (withValues)
        {
            context.WriteBulk(items[index + 1]);
        }
    }
}
