using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>LCS with LEN, IDX, MINMATCHLEN and WITHMATCHLEN: a transcription of Redis 7.0's lcsCommand, replies included.</summary>
internal static class StringLcsCommands
{
    public static void Register(CommandTable table) =>
        table.Add("LCS", -3, CommandFlags.ReadOnly, Lcs, 1, 2, 1, ["read", "string", "slow"]);

    private static void Lcs(CommandContext context, RespArgs args)
    {
        // Redis reads (and type-checks) both keys before it looks at the options; a missing key is the empty string.
        bool firstFound = context.Session.TryRead(context.Db, args[1], context.Scratch, out StoredRecord first);
        int firstLength = context.Scratch.WrittenCount;
        bool secondFound = context.Session.TryRead(context.Db, args[2], context.Scratch, out StoredRecord second);
        CountLookup(context, firstFound);
        CountLookup(context, secondFound);
        if ((firstFound && first.Type != RecordType.String) || (secondFound && second.Type != RecordType.String))
        {
            context.WriteError(RespErrors.LcsKeysNotStrings);
            return;
        }

        bool getLength = false;
        bool getIndexes = false;
        bool withMatchLength = false;
        long minMatchLength = 0;
        for (int i = 3; i < args.Count; i++)
        {
            ReadOnlySpan<byte> option = args[i];
            if (StringRecords.IsOption(option, "IDX"u8))
            {
                getIndexes = true;
            }
            else if (StringRecords.IsOption(option, "LEN"u8))
            {
                getLength = true;
            }
            else if (StringRecords.IsOption(option, "WITHMATCHLEN"u8))
            {
                withMatchLength = true;
            }
            else if (StringRecords.IsOption(option, "MINMATCHLEN"u8) && i + 1 < args.Count)
            {
                if (!RedisNumber.TryParseInt64(args[++i], out minMatchLength))
                {
                    context.WriteNotInteger();
                    return;
                }

                minMatchLength = Math.Max(0, minMatchLength);
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if (getIndexes && getLength)
        {
            context.WriteError(RespErrors.LcsLenWithIdx);
            return;
        }

        ReadOnlySpan<byte> a = context.Scratch.WrittenSpan[..firstLength];
        ReadOnlySpan<byte> b = context.Scratch.WrittenSpan[firstLength..];
        long cells = (long)(a.Length + 1) * (b.Length + 1);
        if (cells * sizeof(uint) > context.Server.Config.ProtoMaxBulkLength)
        {
            context.WriteError(RespErrors.LcsTableTooLarge);
            return;
        }

        // Only reachable when proto-max-bulk-len is raised past 8 GB; Redis answers this when its malloc fails.
        if (cells > Array.MaxLength)
        {
            context.WriteError(RespErrors.LcsAllocationFailed);
            return;
        }

        uint[] table = BuildTable(a, b);
        Reply(context, a, b, table, getLength, getIndexes, withMatchLength, minMatchLength);
    }

    private static void CountLookup(CommandContext context, bool found)
    {
        if (found)
        {
            Interlocked.Increment(ref context.Server.Stats.KeyspaceHits);
        }
        else
        {
            Interlocked.Increment(ref context.Server.Stats.KeyspaceMisses);
        }
    }

    // table[j + (bLength + 1) * i] = length of the LCS of a[..i] and b[..j].
    private static uint[] BuildTable(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int width = b.Length + 1;
        uint[] table = GC.AllocateUninitializedArray<uint>((a.Length + 1) * width);
        for (int i = 0; i <= a.Length; i++)
        {
            for (int j = 0; j <= b.Length; j++)
            {
                if (i == 0 || j == 0)
                {
                    table[j + (width * i)] = 0;
                }
                else if (a[i - 1] == b[j - 1])
                {
                    table[j + (width * i)] = table[j - 1 + (width * (i - 1))] + 1;
                }
                else
                {
                    table[j + (width * i)] = Math.Max(table[j + (width * (i - 1))], table[j - 1 + (width * i)]);
                }
            }
        }

        return table;
    }

    /// <summary>
    /// Walks the table back from the end as Redis does, building the common string and, with IDX, the matched
    /// ranges (latest first) of at least <paramref name="minMatchLength"/> bytes.
    /// </summary>
    private static void Reply(
        CommandContext context, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, uint[] table, bool getLength, bool getIndexes, bool withMatchLength, long minMatchLength)
    {
        int width = b.Length + 1;
        uint total = table[b.Length + (width * a.Length)];
        if (getLength)
        {
            context.WriteInteger(total);
            return;
        }

        byte[] common = new byte[total];
        List<(long AStart, long AEnd, long BStart, long BEnd)> ranges = [];
        long aLength = a.Length;
        long aStart = aLength;
        long aEnd = 0;
        long bStart = 0;
        long bEnd = 0;
        long index = total;
        int i = a.Length;
        int j = b.Length;
        while (i > 0 && j > 0)
        {
            bool emit = false;
            if (a[i - 1] == b[j - 1])
            {
                common[index - 1] = a[i - 1];
                if (aStart == aLength)
                {
                    aStart = i - 1;
                    aEnd = i - 1;
                    bStart = j - 1;
                    bEnd = j - 1;
                }
                else if (aStart == i && bStart == j)
                {
                    aStart--;
                    bStart--;
                }
                else
                {
                    emit = true;
                }

                // Redis: emit when the match reached the first byte of either string; the loop ends right after.
                if (aStart == 0 || bStart == 0)
                {
                    emit = true;
                }

                index--;
                i--;
                j--;
            }
            else
            {
                if (table[j + (width * (i - 1))] > table[j - 1 + (width * i)])
                {
                    i--;
                }
                else
                {
                    j--;
                }

                if (aStart != aLength)
                {
                    emit = true;
                }
            }

            if (emit)
            {
                long matchLength = aEnd - aStart + 1;
                if (minMatchLength == 0 || matchLength >= minMatchLength)
                {
                    ranges.Add((aStart, aEnd, bStart, bEnd));
                }

                aStart = aLength;
            }
        }

        if (!getIndexes)
        {
            context.WriteBulk(common);
            return;
        }

        context.WriteMapHeader(2);
        context.WriteBulk("matches"u8);
        context.WriteArrayHeader(ranges.Count);
        foreach ((long rangeAStart, long rangeAEnd, long rangeBStart, long rangeBEnd) in ranges)
        {
            context.WriteArrayHeader(withMatchLength ? 3 : 2);
            context.WriteArrayHeader(2);
            context.WriteInteger(rangeAStart);
            context.WriteInteger(rangeAEnd);
            context.WriteArrayHeader(2);
            context.WriteInteger(rangeBStart);
            context.WriteInteger(rangeBEnd);
            if (withMatchLength)
            {
                context.WriteInteger(rangeAEnd - rangeAStart + 1);
            }
        }

        context.WriteBulk("len"u8);
        context.WriteInteger(total);
    }
}
