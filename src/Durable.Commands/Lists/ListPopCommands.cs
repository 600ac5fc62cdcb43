using Durable.Protocol;

namespace Durable.Commands.Lists;

/// <summary>
/// List commands that take elements off an end: LPOP, RPOP, LMOVE, RPOPLPUSH, LMPOP. The pops and moves here are also
/// what the blocking forms (ListBlockingCommands) run when they find, or are woken to, a non-empty list.
/// </summary>
internal static class ListPopCommands
{
    private const string PositiveError = "ERR value is out of range, must be positive";

    public static void Register(CommandTable table)
    {
        table.Add("LPOP", -2, CommandFlags.Write | CommandFlags.Fast, LPop, 1, 1, 1, ["write", "list", "fast"]);
        table.Add("RPOP", -2, CommandFlags.Write | CommandFlags.Fast, RPop, 1, 1, 1, ["write", "list", "fast"]);
        table.Add("LMOVE", 5, CommandFlags.Write | CommandFlags.DenyOom, LMove, 1, 2, 1, ["write", "list", "slow"]);
        table.Add("RPOPLPUSH", 3, CommandFlags.Write | CommandFlags.DenyOom, RPopLPush, 1, 2, 1, ["write", "list", "slow"]);
        table.Add("LMPOP", -4, CommandFlags.Write, LMPop, categories: ["write", "list", "slow"], findKeys: KeyArguments.NumKeys(1));
    }

    private static void LPop(CommandContext context, RespArgs args) => Pop(context, args, left: true);

    private static void RPop(CommandContext context, RespArgs args) => Pop(context, args, left: false);

    // Redis: a missing key is a null (a null array with a count), checked before a count of 0 answers an empty array.
    private static void Pop(CommandContext context, RespArgs args, bool left)
    {
        if (args.Count > 3)
        {
            context.WriteArityError(left ? "lpop" : "rpop");
            return;
        }

        bool hasCount = args.Count == 3;
        long count = 0;
        if (hasCount && !ListRecords.TryParseAtLeast(context, args[2], 0, PositiveError, out count))
        {
            return;
        }

        ReadResult found = PackedList.Read(context, args[1], countStats: false, out PackedList list);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (found == ReadResult.Missing)
        {
            if (hasCount)
            {
                context.WriteNullArray();
            }
            else
            {
                context.WriteNull();
            }

            return;
        }

        if (!hasCount)
        {
            byte[] value = list.PopOne(left);
            list.Save(context, args[1]);
            ListRecords.Notify(context, args[1], ListRecords.PopEvent(left), list.Count);
            context.WriteBulk(value);
            return;
        }

        List<byte[]> popped = list.Pop(left, count);
        if (popped.Count > 0)
        {
            list.Save(context, args[1]);
            ListRecords.Notify(context, args[1], ListRecords.PopEvent(left), list.Count);
        }

        ListRecords.WriteArray(context, popped);
    }

    private static void LMove(CommandContext context, RespArgs args)
    {
        if (ListRecords.TryParseEnd(context, args[3], out bool fromLeft) && ListRecords.TryParseEnd(context, args[4], out bool toLeft))
        {
            Move(context, args[1], args[2], fromLeft, toLeft, blocking: false, retry: false);
        }
    }

    private static void RPopLPush(CommandContext context, RespArgs args) => Move(context, args[1], args[2], fromLeft: false, toLeft: true, blocking: false, retry: false);

    /// <summary>
    /// Redis lmoveGenericCommand: moves one element and replies with it. A missing source replies null, unless the
    /// command blocks (<paramref name="blocking"/>): then it writes nothing and returns false, to wait. A source of
    /// another type is WRONGTYPE, except in a blocked command's retry (<paramref name="retry"/>), which keeps waiting as
    /// Redis 7.0 serves a blocked client only from a list. A destination of another type is WRONGTYPE, and the source is
    /// left as it was.
    /// </summary>
    public static bool Move(
        CommandContext context, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, bool fromLeft, bool toLeft, bool blocking, bool retry)
    {
        ReadResult found = PackedList.Read(context, source, countStats: false, out PackedList list);
        if (found != ReadResult.Found)
        {
            if ((found == ReadResult.Missing && blocking) || retry)
            {
                return false;
            }

            if (found == ReadResult.WrongType)
            {
                context.WriteWrongType();
            }
            else
            {
                context.WriteNull();
            }

            return true;
        }

        if (source.SequenceEqual(destination))
        {
            byte[] rotated = list.PopOne(fromLeft);
            list.Push(toLeft, rotated);
            if (list.Save(context, source))
            {
                ListRecords.Notify(context, source, ListRecords.PushEvent(toLeft), list.Count);
                ListRecords.Notify(context, source, ListRecords.PopEvent(fromLeft), list.Count);
                context.WriteBulk(rotated);
            }

            return true;
        }

        ReadResult target = PackedList.Read(context, destination, countStats: false, out PackedList targetList);
        if (target == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return true;
        }

        byte[] value = list.PopOne(fromLeft);
        targetList.Push(toLeft, value);
        if (targetList.Save(context, destination))
        {
            list.Save(context, source);
            ListRecords.Notify(context, destination, ListRecords.PushEvent(toLeft), targetList.Count);
            ListRecords.Notify(context, source, ListRecords.PopEvent(fromLeft), list.Count);
            context.WriteBulk(value);
        }

        return true;
    }

    private static void LMPop(CommandContext context, RespArgs args)
    {
        if (TryParseMultiPop(context, args, 1, out int keyCount, out bool left, out long count))
        {
            if (!PopFirst(context, KeyArguments.CopyKeys(args, 2, keyCount), left, count, retry: false))
            {
                context.WriteNullArray();
            }
        }
    }

    /// <summary>
    /// Redis lmpopGenericCommand's parsing: numkeys (at <paramref name="numKeysIndex"/>), then LEFT|RIGHT after the keys,
    /// then at most one COUNT.
    /// </summary>
    public static bool TryParseMultiPop(CommandContext context, RespArgs args, int numKeysIndex, out int keyCount, out bool left, out long count)
    {
        keyCount = 0;
        left = false;
        count = -1;
        if (!ListRecords.TryParseAtLeast(context, args[numKeysIndex], 1, "ERR numkeys should be greater than 0", out long numKeys))
        {
            return false;
        }

        long whereIndex = numKeysIndex + numKeys + 1;
        if (whereIndex >= args.Count)
        {
            context.WriteSyntaxError();
            return false;
        }

        keyCount = (int)numKeys;
        if (!ListRecords.TryParseEnd(context, args[(int)whereIndex], out left))
        {
            return false;
        }

        for (int i = (int)whereIndex + 1; i < args.Count; i++)
        {
            if (count == -1 && i + 1 < args.Count && AsciiCase.EqualsIgnoreCase(args[i], "COUNT"u8))
            {
                if (!ListRecords.TryParseAtLeast(context, args[++i], 1, "ERR count should be greater than 0", out count))
                {
                    return false;
                }
            }
            else
            {
                context.WriteSyntaxError();
                return false;
            }
        }

        count = Math.Max(count, 1);
        return true;
    }

    /// <summary>
    /// Pops from the first non-empty list of <paramref name="keys"/>: with a <paramref name="count"/> up to that many
    /// elements, replying [key, [elements]] as Redis's mpopGenericCommand; with none (-1) one element, replying
    /// [key, element] as BLPOP. False (nothing written) when every list is empty. A key of another type is WRONGTYPE,
    /// except in a blocked command's retry (<paramref name="retry"/>), which skips it as Redis 7.0 serves only lists.
    /// </summary>
    public static bool PopFirst(CommandContext context, byte[][] keys, bool left, long count, bool retry)
    {
        foreach (byte[] key in keys)
        {
            ReadResult found = PackedList.Read(context, key, countStats: false, out PackedList list);
            if (found == ReadResult.WrongType && !retry)
            {
                context.WriteWrongType();
                return true;
            }

            if (found != ReadResult.Found)
            {
                continue;
            }

            List<byte[]> popped = list.Pop(left, Math.Max(count, 1));
            list.Save(context, key);

            // Redis: replicas pop the same end of the key served (BLPOP as LPOP, LMPOP as LPOP with what it popped).
            byte[] pop = left ? "LPOP"u8.ToArray() : "RPOP"u8.ToArray();
            context.PropagateAs(count < 0 ? [pop, key] : [pop, key, Server.Propagation.Number(popped.Count)]);
            ListRecords.Notify(context, key, ListRecords.PopEvent(left), list.Count);
            context.WriteArrayHeader(2);
            context.WriteBulk(key);
            if (count < 0)
            {
                context.WriteBulk(popped[0]);
            }
            else
            {
                ListRecords.WriteArray(context, popped);
            }

            return true;
        }

        return false;
    }
}
