using Durable.Commands.PubSub;
using System.Globalization;
using Durable.Commands.Collections;
using Durable.Commands.Lists;
using Durable.Commands.Strings;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>
/// SORT and SORT_RO over lists, sets and sorted sets, with BY, LIMIT, GET, ASC|DESC, ALPHA and (SORT only) STORE, as
/// Redis 7.0's sortCommandGeneric. A BY or GET pattern reads keys the arguments do not name, so such a request takes
/// every key stripe (Redis runs it alone too).
/// </summary>
internal static class SortCommands
{
    public static void Register(CommandTable table)
    {
        table.Add(
            "SORT", -2, CommandFlags.Write | CommandFlags.DenyOom, Sort, 1, 1, 1, ["write", "set", "sortedset", "list", "slow", "dangerous"],
            findKeys: FindSortKeys, locksAllWhen: ReadsOtherKeys);
        table.Add(
            "SORT_RO", -2, CommandFlags.ReadOnly, SortReadOnly, 1, 1, 1, ["read", "set", "sortedset", "list", "slow", "dangerous"],
            locksAllWhen: ReadsOtherKeys);
    }

    private static void Sort(CommandContext context, RespArgs args) => Run(context, args, readOnly: false);

    private static void SortReadOnly(CommandContext context, RespArgs args) => Run(context, args, readOnly: true);

    /// <summary>The sorted key, and the destination after every STORE (the last one wins, as in the parser).</summary>
    private static void FindSortKeys(RespArgs args, List<int> keyIndexes)
    {
        keyIndexes.Add(1);
        for (int i = 2; i < args.Count - 1; i++)
        {
            if (StringRecords.IsOption(args[i], "STORE"u8))
            {
                keyIndexes.Add(i + 1);
            }
        }
    }

    /// <summary>True when a BY pattern contains '*' or a GET pattern is not "#": the command will read other keys.</summary>
    private static bool ReadsOtherKeys(RespArgs args)
    {
        for (int i = 2; i < args.Count - 1; i++)
        {
            if (StringRecords.IsOption(args[i], "BY"u8) && CString(args[i + 1]).Contains((byte)'*'))
            {
                return true;
            }

            if (StringRecords.IsOption(args[i], "GET"u8) && !CString(args[i + 1]).SequenceEqual("#"u8))
            {
                return true;
            }
        }

        return false;
    }

    private static void Run(CommandContext context, RespArgs args, bool readOnly)
    {
        bool descending = false;
        bool alpha = false;
        bool dontSort = false;
        long limitStart = 0;
        long limitCount = -1;
        byte[]? sortBy = null;
        byte[]? storeKey = null;
        List<byte[]> gets = [];
        for (int j = 2; j < args.Count; j++)
        {
            int left = args.Count - j - 1;
            ReadOnlySpan<byte> option = args[j];
            if (StringRecords.IsOption(option, "ASC"u8))
            {
                descending = false;
            }
            else if (StringRecords.IsOption(option, "DESC"u8))
            {
                descending = true;
            }
            else if (StringRecords.IsOption(option, "ALPHA"u8))
            {
                alpha = true;
            }
            else if (StringRecords.IsOption(option, "LIMIT"u8) && left >= 2)
            {
                if (!RedisNumber.TryParseInt64(args[j + 1], out limitStart) || !RedisNumber.TryParseInt64(args[j + 2], out limitCount))
                {
                    context.WriteNotInteger();
                    return;
                }

                j += 2;
            }
            else if (!readOnly && StringRecords.IsOption(option, "STORE"u8) && left >= 1)
            {
                storeKey = args[j + 1].ToArray();
                j++;
            }
            else if (StringRecords.IsOption(option, "BY"u8) && left >= 1)
            {
                // Redis sets dontsort on a pattern without '*' and never clears it: "BY nosort BY w_*" does not sort.
                sortBy = args[j + 1].ToArray();
                dontSort |= !CString(sortBy).Contains((byte)'*');
                if (CString(sortBy).Contains((byte)'*') && !Acl.AclChecks.MayReadEveryKey(context, args))
                {
                    context.WriteError("ERR BY option of SORT denied due to insufficient ACL permissions."u8);
                    return;
                }

                j++;
            }
            else if (StringRecords.IsOption(option, "GET"u8) && left >= 1)
            {
                if (!Acl.AclChecks.MayReadEveryKey(context, args))
                {
                    context.WriteError("ERR GET option of SORT denied due to insufficient ACL permissions."u8);
                    return;
                }

                gets.Add(args[j + 1].ToArray());
                j++;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if (!TryLoadElements(context, args[1], out List<byte[]> elements, out RecordType type))
        {
            context.WriteWrongType();
            return;
        }

        // Redis: a set sorted with a constant BY into STORE is sorted ALPHA instead, so that the result is deterministic.
        if (dontSort && type == RecordType.Set && storeKey is not null)
        {
            dontSort = false;
            alpha = true;
            sortBy = null;
        }

        int length = elements.Count;
        long start = Math.Min(Math.Max(limitStart, 0), length);
        long count = Math.Min(Math.Max(limitCount, -1), length);
        long end = count < 0 ? length - 1 : start + count - 1;
        if (start >= length)
        {
            start = length - 1;
            end = length - 2;
        }

        end = Math.Min(end, length - 1);

        if (dontSort)
        {
            // Lists and sorted sets keep their order (reversed by DESC); a set keeps its own order whatever DESC says.
            if (descending && type != RecordType.Set)
            {
                elements.Reverse();
            }
        }
        else
        {
            bool conversionError = false;
            SortEntry[] entries = new SortEntry[length];
            for (int i = 0; i < length; i++)
            {
                byte[]? by = sortBy is null ? elements[i] : LookupByPattern(context, sortBy, elements[i]);
                double score = 0;
                if (!alpha && by is not null && !TryParseScore(by, out score))
                {
                    conversionError = true;
                }

                entries[i] = new SortEntry(elements[i], score, alpha && sortBy is not null ? by : null);
            }

            if (conversionError)
            {
                context.WriteError("ERR One or more scores can't be converted into double"u8);
                return;
            }

            // A stable sort, as glibc's qsort (a merge sort) is for the ties Redis leaves unordered (ALPHA with BY).
            // ALPHA compares with strcoll (C strings; Durable's collation is the C locale's) unless storing, then bytes.
            bool binary = storeKey is not null;
            Comparison<SortEntry> compare = alpha
                ? sortBy is null ? (a, b) => CompareStrings(a.Element, b.Element, binary) : (a, b) => CompareByObjects(a, b, binary)
                : static (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : a.Element.AsSpan().SequenceCompareTo(b.Element);
            IEnumerable<SortEntry> sorted = descending
                ? entries.OrderBy(e => e, Comparer<SortEntry>.Create((a, b) => -compare(a, b)))
                : entries.OrderBy(e => e, Comparer<SortEntry>.Create(compare));
            elements = [.. sorted.Select(e => e.Element)];
        }

        int outputCount = (int)(end - start + 1) * Math.Max(gets.Count, 1);
        List<byte[]?> output = new(Math.Max(outputCount, 0));
        for (long j = start; j <= end; j++)
        {
            if (gets.Count == 0)
            {
                output.Add(elements[(int)j]);
            }

            foreach (byte[] pattern in gets)
            {
                output.Add(LookupByPattern(context, pattern, elements[(int)j]));
            }
        }

        if (storeKey is null)
        {
            context.WriteArrayHeader(output.Count);
            foreach (byte[]? value in output)
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

            return;
        }

        // A missing GET value is stored as an empty string; STORE replaces the destination and drops its TTL.
        List<byte[]> stored = [.. output.Select(static value => value ?? [])];
        if (stored.Count == 0)
        {
            CollectionRecords.DeleteDestination(context, storeKey);
            context.WriteInteger(0);
        }
        else if (ListRecords.Save(context, storeKey, stored, 0))
        {
            context.Notify(KeyspaceEventClass.List, "sortstore"u8, storeKey);
            context.WriteInteger(stored.Count);
        }
    }

    /// <summary>ALPHA with BY: an element whose BY key is missing sorts first.</summary>
    private static int CompareByObjects(SortEntry a, SortEntry b, bool binary) =>
        a.CompareObject is null || b.CompareObject is null
            ? (a.CompareObject is null ? 0 : 1) - (b.CompareObject is null ? 0 : 1)
            : CompareStrings(a.CompareObject, b.CompareObject, binary);

    private static int CompareStrings(byte[] a, byte[] b, bool binary) =>
        binary ? a.AsSpan().SequenceCompareTo(b) : CString(a).SequenceCompareTo(CString(b));

    /// <summary>The elements of a list, set or sorted set (members in score order); false when the key holds another type.</summary>
    private static bool TryLoadElements(CommandContext context, ReadOnlySpan<byte> key, out List<byte[]> elements, out RecordType type)
    {
        context.Scratch.ResetWrittenCount();
        bool found = context.Session.TryRead(context.Db, key, context.Scratch, out StoredRecord record);
        Interlocked.Increment(ref found ? ref context.Server.Stats.KeyspaceHits : ref context.Server.Stats.KeyspaceMisses);
        type = found ? record.Type : RecordType.List;
        if (!found)
        {
            elements = [];
            return true;
        }

        if (type is not (RecordType.List or RecordType.Set or RecordType.SortedSet))
        {
            elements = [];
            return false;
        }

        List<byte[]> items = CollectionRecords.AllItems(context, type, context.Scratch.WrittenSpan);
        context.Scratch.ResetWrittenCount();
        elements = type == RecordType.SortedSet ? [.. items.Where((_, i) => i % 2 == 0)] : items;
        return true;
    }

    /// <summary>
    /// Redis lookupKeyByPattern: "#" is the element itself; otherwise the first '*' is replaced by the element and the
    /// key read as a string, or, when "-&gt;field" follows the '*', that field of the key's hash. Null when absent.
    /// </summary>
    private static byte[]? LookupByPattern(CommandContext context, byte[] pattern, byte[] element)
    {
        ReadOnlySpan<byte> text = CString(pattern);
        if (text.SequenceEqual("#"u8))
        {
            return element;
        }

        int star = text.IndexOf((byte)'*');
        if (star < 0)
        {
            return null;
        }

        int arrow = text[(star + 1)..].IndexOf("->"u8);
        ReadOnlySpan<byte> field = default;
        ReadOnlySpan<byte> suffix = text[(star + 1)..];
        if (arrow >= 0 && star + 1 + arrow + 2 < text.Length)
        {
            field = text[(star + 1 + arrow + 2)..];
            suffix = text.Slice(star + 1, arrow);
        }

        byte[] key = [.. text[..star], .. element, .. suffix];
        RecordType expected = field.IsEmpty ? RecordType.String : RecordType.Hash;
        context.Scratch.ResetWrittenCount();
        if (TypedRecords.Read(context, key, expected, context.Scratch, countStats: true, out _) != ReadResult.Found)
        {
            return null;
        }

        if (field.IsEmpty)
        {
            return context.Scratch.WrittenSpan.ToArray();
        }

        List<byte[]> items = CollectionRecords.AllItems(context, RecordType.Hash, context.Scratch.WrittenSpan);
        for (int i = 0; i + 1 < items.Count; i += 2)
        {
            if (field.SequenceEqual(items[i]))
            {
                return items[i + 1];
            }
        }

        return null;
    }

    /// <summary>
    /// strtod over the whole C string, as Redis scores a SORT element: leading white space is skipped, nothing may
    /// follow the number, NaN and out-of-range results fail; an empty string scores 0.
    /// </summary>
    private static bool TryParseScore(byte[] value, out double score)
    {
        ReadOnlySpan<byte> text = CString(value);
        score = 0;
        if (text.IsEmpty)
        {
            return true;
        }

        int first = 0;
        while (first < text.Length && text[first] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
        {
            first++;
        }

        text = text[first..];
        if (TryParseHexInteger(text, out score))
        {
            return true;
        }

        if (!RedisNumber.TryParseDouble(text, out score))
        {
            return false;
        }

        ReadOnlySpan<byte> unsigned = text[0] is (byte)'+' or (byte)'-' ? text[1..] : text;
        bool infinityWritten = unsigned.Length > 0 && (unsigned[0] | 0x20) == 'i';
        bool overflow = double.IsInfinity(score) && !infinityWritten;
        bool underflow = Math.Abs(score) < 2.2250738585072014E-308 && HasNonZeroMantissa(unsigned);
        return !overflow && !underflow;
    }

    private static bool HasNonZeroMantissa(ReadOnlySpan<byte> number)
    {
        foreach (byte b in number)
        {
            if (b is (byte)'e' or (byte)'E')
            {
                return false;
            }

            if (b is >= (byte)'1' and <= (byte)'9')
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseHexInteger(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        ReadOnlySpan<byte> unsigned = text.Length > 0 && text[0] is (byte)'+' or (byte)'-' ? text[1..] : text;
        if (unsigned.Length < 3 || unsigned[0] != '0' || (unsigned[1] | 0x20) != 'x')
        {
            return false;
        }

        foreach (byte b in unsigned[2..])
        {
            if (!char.IsAsciiHexDigit((char)b))
            {
                return false;
            }

            value = (value * 16) + int.Parse([(char)b], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        value = text[0] == '-' ? -value : value;
        return true;
    }

    /// <summary>Redis reads patterns and compares ALPHA keys as C strings: up to the first NUL byte.</summary>
    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> value)
    {
        int nul = value.IndexOf((byte)0);
        return nul < 0 ? value : value[..nul];
    }

    private readonly record struct SortEntry(byte[] Element, double Score, byte[]? CompareObject);
}
