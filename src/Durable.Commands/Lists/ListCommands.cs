using Durable.Protocol;

namespace Durable.Commands.Lists;

/// <summary>
/// List commands that push, read and edit in place: LPUSH, RPUSH, LPUSHX, RPUSHX, LLEN, LRANGE, LINDEX, LSET, LINSERT,
/// LREM, LTRIM, LPOS. Pops and moves (and their blocking forms) live in ListPopCommands and ListBlockingCommands.
/// </summary>
internal static class ListCommands
{
    private static readonly string[] s_writeFast = ["write", "list", "fast"];
    private static readonly string[] s_writeSlow = ["write", "list", "slow"];
    private static readonly string[] s_readFast = ["read", "list", "fast"];
    private static readonly string[] s_readSlow = ["read", "list", "slow"];

    public static void Register(CommandTable table)
    {
        const CommandFlags Push = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
        table.Add("LPUSH", -3, Push, LPush, 1, 1, 1, s_writeFast);
        table.Add("RPUSH", -3, Push, RPush, 1, 1, 1, s_writeFast);
        table.Add("LPUSHX", -3, Push, LPushX, 1, 1, 1, s_writeFast);
        table.Add("RPUSHX", -3, Push, RPushX, 1, 1, 1, s_writeFast);
        table.Add("LLEN", 2, CommandFlags.ReadOnly | CommandFlags.Fast, LLen, 1, 1, 1, s_readFast);
        table.Add("LRANGE", 4, CommandFlags.ReadOnly, LRange, 1, 1, 1, s_readSlow);
        table.Add("LINDEX", 3, CommandFlags.ReadOnly, LIndex, 1, 1, 1, s_readSlow);
        table.Add("LSET", 4, CommandFlags.Write | CommandFlags.DenyOom, LSet, 1, 1, 1, s_writeSlow);
        table.Add("LINSERT", 5, CommandFlags.Write | CommandFlags.DenyOom, LInsert, 1, 1, 1, s_writeSlow);
        table.Add("LREM", 4, CommandFlags.Write, LRem, 1, 1, 1, s_writeSlow);
        table.Add("LTRIM", 4, CommandFlags.Write, LTrim, 1, 1, 1, s_writeSlow);
        table.Add("LPOS", -3, CommandFlags.ReadOnly, LPos, 1, 1, 1, s_readSlow);
    }

    private static void LPush(CommandContext context, RespArgs args) => Push(context, args, left: true, onlyExisting: false);

    private static void RPush(CommandContext context, RespArgs args) => Push(context, args, left: false, onlyExisting: false);

    private static void LPushX(CommandContext context, RespArgs args) => Push(context, args, left: true, onlyExisting: true);

    private static void RPushX(CommandContext context, RespArgs args) => Push(context, args, left: false, onlyExisting: true);

    private static void Push(CommandContext context, RespArgs args, bool left, bool onlyExisting)
    {
        ReadResult found = PackedList.Read(context, args[1], countStats: false, out PackedList list);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (found == ReadResult.Missing && onlyExisting)
        {
            context.WriteInteger(0);
            return;
        }

        for (int i = 2; i < args.Count; i++)
        {
            list.Push(left, args[i].ToArray());
        }

        if (list.Save(context, args[1]))
        {
            ListRecords.Notify(context, args[1], ListRecords.PushEvent(left), list.Count);
            context.WriteInteger(list.Count);
        }
    }

    private static void LLen(CommandContext context, RespArgs args)
    {
        switch (PackedList.Read(context, args[1], countStats: true, out PackedList list))
        {
            case ReadResult.WrongType: context.WriteWrongType(); break;
            default: context.WriteInteger(list.Count); break;
        }
    }

    private static void LRange(CommandContext context, RespArgs args)
    {
        if (!ListRecords.TryParseLong(context, args[2], out long start) || !ListRecords.TryParseLong(context, args[3], out long end))
        {
            return;
        }

        ReadResult found = PackedList.Read(context, args[1], countStats: true, out PackedList list);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (!TryClampRange(list.Count, start, end, out long first, out long last))
        {
            context.WriteArrayHeader(0);
            return;
        }

        context.WriteArrayHeader(checked((int)(last - first + 1)));
        foreach (byte[] element in list.Range(first, last))
        {
            context.WriteBulk(element);
        }
    }

    private static void LIndex(CommandContext context, RespArgs args)
    {
        switch (ReadAtIndex(context, args, countStats: true, out PackedList list, out long position))
        {
            case IndexLookup.Found: context.WriteBulk(list.Get(position)); break;
            case IndexLookup.Missing or IndexLookup.OutOfRange: context.WriteNull(); break;
        }
    }

    private static void LSet(CommandContext context, RespArgs args)
    {
        IndexLookup lookup = ReadAtIndex(context, args, countStats: false, out PackedList list, out long position);
        if (lookup == IndexLookup.Missing)
        {
            context.WriteError(RespErrors.NoSuchKey);
            return;
        }

        if (lookup == IndexLookup.OutOfRange)
        {
            context.WriteError("ERR index out of range"u8);
        }

        if (lookup != IndexLookup.Found)
        {
            return;
        }

        list.Set(position, args[3].ToArray());
        if (list.Save(context, args[1]))
        {
            ListRecords.Notify(context, args[1], "lset"u8, list.Count);
            context.WriteOk();
        }
    }

    private static void LInsert(CommandContext context, RespArgs args)
    {
        bool after = AsciiCase.EqualsIgnoreCase(args[2], "AFTER"u8);
        if (!after && !AsciiCase.EqualsIgnoreCase(args[2], "BEFORE"u8))
        {
            context.WriteSyntaxError();
            return;
        }

        ReadResult found = PackedList.Read(context, args[1], countStats: false, out PackedList list);
        if (found != ReadResult.Found)
        {
            WriteMissingOrWrongType(context, found);
            return;
        }

        long pivot = IndexOf(list, args[3]);
        if (pivot < 0)
        {
            context.WriteInteger(-1);
            return;
        }

        list.Insert(after ? pivot + 1 : pivot, args[4].ToArray());
        if (list.Save(context, args[1]))
        {
            ListRecords.Notify(context, args[1], "linsert"u8, list.Count);
            context.WriteInteger(list.Count);
        }
    }

    // Redis: a positive count removes from the head, a negative one from the tail, 0 removes every match.
    private static void LRem(CommandContext context, RespArgs args)
    {
        if (!ListRecords.TryParseLong(context, args[2], out long count))
        {
            return;
        }

        ReadResult found = PackedList.Read(context, args[1], countStats: false, out PackedList list);
        if (found != ReadResult.Found)
        {
            WriteMissingOrWrongType(context, found);
            return;
        }

        ulong limit = count == 0 ? ulong.MaxValue : count == long.MinValue ? 1UL << 63 : (ulong)Math.Abs(count);
        ReadOnlySpan<byte> element = args[3];
        List<long> positions = [];
        for (long i = 0; i < list.Count && (ulong)positions.Count < limit; i++)
        {
            long position = count >= 0 ? i : list.Count - 1 - i;
            if (element.SequenceEqual(list.Get(position)))
            {
                positions.Add(position);
            }
        }

        if (count < 0)
        {
            positions.Reverse();
        }

        if (positions.Count > 0)
        {
            list.RemoveAt(positions);
            if (!list.Save(context, args[1]))
            {
                return;
            }

            ListRecords.Notify(context, args[1], "lrem"u8, list.Count);
        }

        context.WriteInteger(positions.Count);
    }

    private static void LTrim(CommandContext context, RespArgs args)
    {
        if (!ListRecords.TryParseLong(context, args[2], out long start) || !ListRecords.TryParseLong(context, args[3], out long end))
        {
            return;
        }

        ReadResult found = PackedList.Read(context, args[1], countStats: false, out PackedList list);
        if (found == ReadResult.Missing)
        {
            context.WriteOk();
            return;
        }

        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        // Redis: an out-of-range start, or start past end, empties the list (and so deletes the key).
        if (!TryClampRange(list.Count, start, end, out long first, out long last))
        {
            (first, last) = (1, 0);
        }

        if (last - first + 1 != list.Count)
        {
            list.Trim(first, last);
            if (!list.Save(context, args[1]))
            {
                return;
            }
        }

        ListRecords.Notify(context, args[1], "ltrim"u8, list.Count);
        context.WriteOk();
    }

    private static void LPos(CommandContext context, RespArgs args)
    {
        long rank = 1;
        long count = -1;
        long maxLength = 0;
        for (int i = 3; i < args.Count; i++)
        {
            bool hasValue = i + 1 < args.Count;
            if (hasValue && AsciiCase.EqualsIgnoreCase(args[i], "RANK"u8))
            {
                if (!ListRecords.TryParseLong(context, args[++i], out rank))
                {
                    return;
                }

                if (rank == 0)
                {
                    context.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"u8);
                    return;
                }
            }
            else if (hasValue && AsciiCase.EqualsIgnoreCase(args[i], "COUNT"u8))
            {
                if (!ListRecords.TryParseAtLeast(context, args[++i], 0, "ERR COUNT can't be negative", out count))
                {
                    return;
                }
            }
            else if (hasValue && AsciiCase.EqualsIgnoreCase(args[i], "MAXLEN"u8))
            {
                if (!ListRecords.TryParseAtLeast(context, args[++i], 0, "ERR MAXLEN can't be negative", out maxLength))
                {
                    return;
                }
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        ReadResult found = PackedList.Read(context, args[1], countStats: true, out PackedList list);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (found == ReadResult.Missing)
        {
            if (count != -1)
            {
                context.WriteArrayHeader(0);
            }
            else
            {
                context.WriteNull();
            }

            return;
        }

        List<long> matches = FindPositions(list, args[2], rank, count, maxLength);
        if (count != -1)
        {
            context.WriteArrayHeader(matches.Count);
            foreach (long match in matches)
            {
                context.WriteInteger(match);
            }
        }
        else if (matches.Count > 0)
        {
            context.WriteInteger(matches[0]);
        }
        else
        {
            context.WriteNull();
        }
    }

    // Redis lposCommand, including its arithmetic: a negative rank searches from the tail (and -LLONG_MIN stays
    // negative in C, so RANK -9223372036854775808 matches from the first hit and COUNT never stops it).
    private static List<long> FindPositions(PackedList list, ReadOnlySpan<byte> element, long rank, long count, long maxLength)
    {
        bool fromTail = rank < 0;
        if (fromTail)
        {
            rank = unchecked(-rank);
        }

        List<long> matches = [];
        long seen = 0;
        for (long index = 0; index < list.Count && (maxLength == 0 || index < maxLength); index++)
        {
            long position = fromTail ? list.Count - 1 - index : index;
            if (!element.SequenceEqual(list.Get(position)))
            {
                continue;
            }

            seen++;
            if (seen >= rank)
            {
                matches.Add(position);
                if (count == -1 || (count != 0 && unchecked(seen - rank + 1) >= count))
                {
                    break;
                }
            }
        }

        return matches;
    }

    // LINDEX and LSET: Redis checks the key's type before it parses the index (a missing key answers whatever the index).
    private static IndexLookup ReadAtIndex(
        CommandContext context, RespArgs args, bool countStats, out PackedList list, out long position)
    {
        position = 0;
        ReadResult found = PackedList.Read(context, args[1], countStats, out list);
        if (found == ReadResult.Missing)
        {
            return IndexLookup.Missing;
        }

        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return IndexLookup.ErrorWritten;
        }

        if (!ListRecords.TryParseLong(context, args[2], out long index))
        {
            return IndexLookup.ErrorWritten;
        }

        return TryResolveIndex(list.Count, index, out position) ? IndexLookup.Found : IndexLookup.OutOfRange;
    }

    private static long IndexOf(PackedList list, ReadOnlySpan<byte> element)
    {
        for (long i = 0; i < list.Count; i++)
        {
            if (element.SequenceEqual(list.Get(i)))
            {
                return i;
            }
        }

        return -1;
    }

    private static void WriteMissingOrWrongType(CommandContext context, ReadResult found)
    {
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
        }
        else
        {
            context.WriteInteger(0);
        }
    }

    // Redis LRANGE/LTRIM: negative indexes count from the tail; false when the range selects nothing.
    private static bool TryClampRange(long length, long start, long end, out long first, out long last)
    {
        if (start < 0)
        {
            start += length;
        }

        if (end < 0)
        {
            end += length;
        }

        start = Math.Max(start, 0);
        first = last = 0;
        if (start > end || start >= length)
        {
            return false;
        }

        first = start;
        last = Math.Min(end, length - 1);
        return true;
    }

    private static bool TryResolveIndex(long length, long index, out long position)
    {
        if (index < 0)
        {
            index += length;
        }

        position = index;
        return index >= 0 && index < length;
    }

    private enum IndexLookup
    {
        Found,
        Missing,
        OutOfRange,
        ErrorWritten,
    }
}
