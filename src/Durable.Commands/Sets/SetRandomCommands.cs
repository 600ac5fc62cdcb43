using Durable.Commands.Collections;
using Durable.Protocol;

namespace Durable.Commands.Sets;

/// <summary>
/// SPOP and SRANDMEMBER, with and without a count. The count is checked before the key, as in Redis; random picks use
/// <see cref="Random.Shared"/>, and what SPOP removed is logged as the set's new value (an effect, not a request).
/// </summary>
internal static class SetRandomCommands
{
    // Redis SPOP_MOVE_STRATEGY_MUL: when at most a fifth as many members remain as are popped, Redis builds a new set
    // of the remaining ones (which may be an intset again) instead of removing the popped ones from the old set.
    private const long RebuildFactor = 5;

    // Redis SRANDMEMBER_SUB_STRATEGY_MUL: below a third of the set, distinct members are picked one by one (a bucketed
    // set then reads only the buckets picked from) rather than taken from a copy of the whole set.
    private const long DistinctPickFactor = 3;

    public static void Register(CommandTable table)
    {
        table.Add("SPOP", -2, CommandFlags.Write | CommandFlags.Fast, SPop, 1, 1, 1, ["write", "set", "fast"]);
        table.Add("SRANDMEMBER", -2, CommandFlags.ReadOnly, SRandMember, 1, 1, 1, ["read", "set", "slow"]);
    }

    private static void SPop(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            context.WriteSyntaxError();
            return;
        }

        if (args.Count == 3)
        {
            SPopCount(context, args);
            return;
        }

        ReadOnlySpan<byte> key = args[1];
        if (!SetRecords.ReadForUpdate(context, key, out SetMembers set, out bool exists, out long expiresAtMs))
        {
            return;
        }

        if (!exists)
        {
            context.WriteNull();
            return;
        }

        byte[] member = set.RandomMember();
        set.Remove(member);
        SetRecords.Save(context, key, set, expiresAtMs);
        SetRecords.Notify(context, key, "spop"u8, set.Count);
        context.WriteBulk(member);
        context.PropagateAs("SREM"u8.ToArray(), key.ToArray(), member);
    }

    // Redis 7.0 spopWithCountCommand: replicas remove the members picked here, one SREM each.
    private static void PropagateRemoved(CommandContext context, ReadOnlySpan<byte> key, List<byte[]> members)
    {
        if (!context.Server.ReplicationFeed.Active)
        {
            return;
        }

        byte[] name = key.ToArray();
        foreach (byte[] member in members)
        {
            context.PropagateAs("SREM"u8.ToArray(), name, member);
        }
    }

    /// <summary>
    /// Redis spopWithCountCommand: a count of at least the set's size pops it whole (in its order) and deletes the key;
    /// otherwise <c>count</c> distinct random members, replied as a set in random order.
    /// </summary>
    private static void SPopCount(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[2], out long count) || count < 0)
        {
            context.WriteError(SetErrors.NotPositive);
            return;
        }

        ReadOnlySpan<byte> key = args[1];
        if (!SetRecords.ReadForUpdate(context, key, out SetMembers set, out _, out long expiresAtMs))
        {
            return;
        }

        if (count == 0 || set.Count == 0)
        {
            context.WriteSetHeader(0);
            return;
        }

        if (count >= set.Count)
        {
            // Redis replies with SUNION of the key: a new set, so an intset again (sorted) when it qualifies.
            List<byte[]> all = set.Items;
            long limit = context.Server.Config.SetMaxIntsetEntries;
            SetRecords.Save(context, key, new SetMembers(limit), expiresAtMs);
            SetRecords.Notify(context, key, "spop"u8, 0);
            SetRecords.WriteMembers(context, SetMembers.Build(all, limit).Items);
            context.PropagateAs("DEL"u8.ToArray(), key.ToArray());
            return;
        }

        int popCount = (int)count;
        if (set.Bucketed is not null && (set.Count - count) * RebuildFactor > count)
        {
            // Redis's strategy when most of the set stays: pick and remove one member at a time. A bucketed set then
            // reads and rewrites only the buckets picked from.
            List<byte[]> picked = new(popCount);
            for (int i = 0; i < popCount; i++)
            {
                byte[] member = set.RandomMember();
                set.Remove(member);
                picked.Add(member);
            }

            SetRecords.Save(context, key, set, expiresAtMs);
            SetRecords.Notify(context, key, "spop"u8, set.Count);
            SetRecords.WriteMembers(context, picked);
            PropagateRemoved(context, key, picked);
            return;
        }

        List<byte[]> items = set.Items;
        int[] order = Shuffled(items.Count, popCount);
        List<byte[]> popped = new(popCount);
        bool[] isPopped = new bool[items.Count];
        for (int i = 0; i < popCount; i++)
        {
            popped.Add(items[order[i]]);
            isPopped[order[i]] = true;
        }

        List<byte[]> remaining = new(items.Count - popCount);
        for (int i = 0; i < items.Count; i++)
        {
            if (!isPopped[i])
            {
                remaining.Add(items[i]);
            }
        }

        long maxIntSetEntries = context.Server.Config.SetMaxIntsetEntries;
        SetMembers rest = remaining.Count * RebuildFactor <= count
            ? SetMembers.Build(remaining, maxIntSetEntries)
            : new SetMembers(remaining, set.Flags, maxIntSetEntries);
        SetRecords.Save(context, key, rest, expiresAtMs);
        SetRecords.Notify(context, key, "spop"u8, rest.Count);
        SetRecords.WriteMembers(context, popped);
        PropagateRemoved(context, key, popped);
    }

    /// <summary>
    /// Redis srandmemberWithCountCommand: a negative count (or 1) picks that many with repeats; a count of at least the
    /// set's size replies with the whole set in its order; otherwise <c>count</c> distinct random members. An array in
    /// both protocols.
    /// </summary>
    private static void SRandMember(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            context.WriteSyntaxError();
            return;
        }

        long count = 0;
        if (args.Count == 3)
        {
            if (!RedisNumber.TryParseInt64(args[2], out count))
            {
                context.WriteNotInteger();
                return;
            }

            if (count == long.MinValue)
            {
                context.WriteError(SetErrors.CountOutOfRange);
                return;
            }
        }

        if (SetRecords.ReadForReply(context, args[1]) is not { } set)
        {
            return;
        }

        if (args.Count == 2)
        {
            if (set.Count == 0)
            {
                context.WriteNull();
            }
            else
            {
                context.WriteBulk(set.RandomMember());
            }

            return;
        }

        if (set.Bucketed is { } bucketed && count > 1 && count <= set.Count / DistinctPickFactor)
        {
            SetRecords.WriteMembers(context, bucketed.PickDistinct((int)count), asSet: false);
            return;
        }

        List<byte[]> items = set.Items;

        if (count == 0 || items.Count == 0)
        {
            context.WriteArrayHeader(0);
            return;
        }

        if (count < 0 || count == 1)
        {
            long picks = Math.Abs(count);
            if (!RepeatedPicks.Fit(context, "SRANDMEMBER", "members", picks, items.Max(static m => m.Length) + RepeatedPicks.OverheadPerItem))
            {
                return;
            }

            context.WriteArrayHeader(picks);
            for (long i = 0; i < picks; i++)
            {
                context.WriteBulk(items[Random.Shared.Next(items.Count)]);
            }

            return;
        }

        if (count >= items.Count)
        {
            SetRecords.WriteMembers(context, items, asSet: false);
            return;
        }

        int[] order = Shuffled(items.Count, (int)count);
        context.WriteArrayHeader(count);
        for (int i = 0; i < count; i++)
        {
            context.WriteBulk(items[order[i]]);
        }
    }

    /// <summary>The indexes 0..size-1 with the first <paramref name="picks"/> a uniform random choice in random order (a partial Fisher-Yates shuffle).</summary>
    private static int[] Shuffled(int size, int picks)
    {
        int[] order = new int[size];
        for (int i = 0; i < size; i++)
        {
            order[i] = i;
        }

        for (int i = 0; i < picks; i++)
        {
            int j = Random.Shared.Next(i, size);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}
