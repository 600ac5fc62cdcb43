using Durable.Commands.Collections;
using Durable.Commands.PubSub;
using Durable.Protocol;

namespace Durable.Commands.Sets;

/// <summary>
/// SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE. Every source key is looked up (counting
/// keyspace hits and misses, as Redis 7.0 does for the STORE forms too) and checked for WRONGTYPE before anything is
/// computed; a missing key is an empty set. The STORE forms overwrite the destination whatever its type (dropping its
/// expiry) and delete it when the result is empty.
/// </summary>
internal static class SetAlgebraCommands
{
    private enum Operation
    {
        Inter,
        Union,
        Diff,
    }

    public static void Register(CommandTable table)
    {
        const CommandFlags Store = CommandFlags.Write | CommandFlags.DenyOom;
        string[] read = ["read", "set", "slow"];
        string[] write = ["write", "set", "slow"];
        table.Add("SINTER", -2, CommandFlags.ReadOnly, (context, args) => Reply(context, args, Operation.Inter), 1, -1, 1, read);
        table.Add("SINTERCARD", -3, CommandFlags.ReadOnly, SInterCard, categories: read, findKeys: KeyArguments.NumKeys(1));
        table.Add("SINTERSTORE", -3, Store, (context, args) => StoreResult(context, args, Operation.Inter), 1, -1, 1, write);
        table.Add("SUNION", -2, CommandFlags.ReadOnly, (context, args) => Reply(context, args, Operation.Union), 1, -1, 1, read);
        table.Add("SUNIONSTORE", -3, Store, (context, args) => StoreResult(context, args, Operation.Union), 1, -1, 1, write);
        table.Add("SDIFF", -2, CommandFlags.ReadOnly, (context, args) => Reply(context, args, Operation.Diff), 1, -1, 1, read);
        table.Add("SDIFFSTORE", -3, Store, (context, args) => StoreResult(context, args, Operation.Diff), 1, -1, 1, write);
    }

    /// <summary>
    /// SINTER, SUNION, SDIFF. SINTER replies in the order of its smallest set (sorted when that is an intset, as
    /// Redis's iteration is); SUNION and SDIFF in the order of the set they build (sorted when it is an intset).
    /// </summary>
    private static void Reply(CommandContext context, RespArgs args, Operation operation)
    {
        if (SetRecords.ReadAll(context, args, 1, args.Count - 1, out SetMembers?[] sets))
        {
            SetRecords.WriteMembers(context, Compute(context, sets, operation, limit: 0));
        }
    }

    private static void StoreResult(CommandContext context, RespArgs args, Operation operation)
    {
        if (!SetRecords.ReadAll(context, args, 2, args.Count - 2, out SetMembers?[] sets))
        {
            return;
        }

        // Redis builds the result as a new set (an intset while it qualifies) and stores it with no expiry.
        SetMembers result = SetMembers.Build(Compute(context, sets, operation, limit: 0), context.Server.Config.SetMaxIntsetEntries);
        if (result.Count == 0)
        {
            CollectionRecords.DeleteDestination(context, args[1]);
            context.WriteInteger(0);
        }
        else if (SetRecords.Save(context, args[1], result, expiresAtMs: 0))
        {
            context.Notify(
                KeyspaceEventClass.Set, operation switch { Operation.Inter => "sinterstore"u8, Operation.Union => "sunionstore"u8, _ => "sdiffstore"u8 }, args[1]);
            context.WriteInteger(result.Count);
        }
    }

    /// <summary>Redis sinterCardCommand: numkeys, then the key count against the arguments, then LIMIT options, then the keys.</summary>
    private static void SInterCard(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[1], out long keyCount) || keyCount < 1)
        {
            context.WriteError(SetErrors.NumKeysNotPositive);
            return;
        }

        if (keyCount > args.Count - 2)
        {
            context.WriteError(SetErrors.TooManyKeys);
            return;
        }

        long limit = 0;
        for (int i = 2 + (int)keyCount; i < args.Count; i++)
        {
            if (!args.Is(i, "LIMIT"u8) || i + 1 == args.Count)
            {
                context.WriteSyntaxError();
                return;
            }

            if (!RedisNumber.TryParseInt64(args[++i], out limit) || limit < 0)
            {
                context.WriteError(SetErrors.NegativeLimit);
                return;
            }
        }

        if (SetRecords.ReadAll(context, args, 2, (int)keyCount, out SetMembers?[] sets))
        {
            context.WriteInteger(Compute(context, sets, Operation.Inter, limit).Count);
        }
    }

    /// <summary>The members of the result, in the order Redis would reply with them; at most <paramref name="limit"/> (0: all) for SINTERCARD.</summary>
    private static List<byte[]> Compute(CommandContext context, SetMembers?[] sets, Operation operation, long limit)
    {
        // Union and difference build a new set, an intset while it can be one (its members then reply sorted).
        long maxIntSetEntries = context.Server.Config.SetMaxIntsetEntries;
        switch (operation)
        {
            case Operation.Inter:
                return Intersect(sets, limit);
            case Operation.Union:
                SetMembers union = new(maxIntSetEntries);
                foreach (SetMembers? set in sets)
                {
                    foreach (byte[] member in set?.Items ?? [])
                    {
                        union.Add(member);
                    }
                }

                return union.Items;
            default:
                SetMembers difference = new(maxIntSetEntries);
                foreach (byte[] member in sets[0]?.Items ?? [])
                {
                    if (!sets.Skip(1).Any(other => other is not null && other.Contains(member)))
                    {
                        difference.Add(member);
                    }
                }

                return difference.Items;
        }
    }

    // Redis sinterGenericCommand: any missing key makes the result empty; otherwise it walks the smallest set.
    private static List<byte[]> Intersect(SetMembers?[] sets, long limit)
    {
        List<byte[]> result = [];
        if (Array.Exists(sets, set => set is null))
        {
            return result;
        }

        SetMembers[] bySize = [.. sets.OrderBy(set => set!.Count)!];
        foreach (byte[] member in bySize[0].Items)
        {
            bool inAll = true;
            for (int i = 1; i < bySize.Length && inAll; i++)
            {
                inAll = bySize[i].Contains(member);
            }

            if (inAll)
            {
                result.Add(member);
                if (result.Count == limit)
                {
                    break;
                }
            }
        }

        return result;
    }
}
