using Durable.Commands.Strings;
using System.Buffers.Text;
using Durable.Protocol;

namespace Durable.Commands.Keys;

/// <summary>
/// Keyspace iteration: KEYS and SCAN (MATCH, COUNT, TYPE). Both walk the store's scan, which needs no locks and
/// visits every key that exists for the whole iteration at least once; KEYS walks it to the end in one call.
/// </summary>
internal static class ScanCommands
{
    private const int DefaultCount = 10;
    private const int KeysBatch = 1024;

    public static void Register(CommandTable table)
    {
        table.Add("KEYS", 2, CommandFlags.ReadOnly, Keys, categories: ["keyspace", "read", "slow", "dangerous"]);
        table.Add("SCAN", -2, CommandFlags.ReadOnly, Scan, categories: ["keyspace", "read", "slow"]);
    }

    private static void Keys(CommandContext context, RespArgs args)
    {
        KeyCollector collector = new(PatternOrNull(args[1]), typeName: null, distinct: true);
        ulong cursor = 0;
        do
        {
            cursor = context.Session.Scan(context.Db, cursor, KeysBatch, collector, reclaimExpired: false);
        }
        while (cursor != 0);

        WriteKeys(context, collector);
    }

    /// <summary>Redis scanGenericCommand: the cursor is checked first, then the options from left to right; the last MATCH or COUNT wins.</summary>
    private static void Scan(CommandContext context, RespArgs args)
    {
        if (!TryParseCursor(args[1], out ulong cursor))
        {
            context.WriteError(RespErrors.InvalidCursor);
            return;
        }

        if (!TryParseOptions(context, args, 2, allowType: true, out long count, out byte[]? pattern, out byte[]? typeName))
        {
            return;
        }

        KeyCollector collector = new(pattern, typeName, distinct: false);
        ulong next = context.Session.Scan(context.Db, cursor, (int)Math.Min(count, int.MaxValue), collector, reclaimExpired: true);

        WriteReplyStart(context, next);
        WriteKeys(context, collector);
    }

    /// <summary>The start of every SCAN-family reply: a two-element array whose first element is the next cursor.</summary>
    internal static void WriteReplyStart(CommandContext context, ulong next)
    {
        context.WriteArrayHeader(2);
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(next, digits, out int written);
        context.WriteBulk(digits[..written]);
    }

    // Redis skips matching altogether for the pattern "*".
    private static byte[]? PatternOrNull(ReadOnlySpan<byte> pattern) => pattern.SequenceEqual("*"u8) ? null : pattern.ToArray();

    /// <summary>
    /// Redis scanGenericCommand's options from <paramref name="first"/> on (SCAN, HSCAN, SSCAN, ZSCAN), left to right,
    /// the last of a kind winning, compared as C strings: COUNT a positive integer, MATCH ("*" matches everything, so
    /// no pattern), TYPE for SCAN only; anything else is a syntax error. Writes the error and returns false.
    /// </summary>
    internal static bool TryParseOptions(
        CommandContext context, RespArgs args, int first, bool allowType, out long count, out byte[]? pattern, out byte[]? typeName)
    {
        count = DefaultCount;
        pattern = null;
        typeName = null;
        for (int i = first; i < args.Count; i += 2)
        {
            bool hasValue = i + 1 < args.Count;
            if (hasValue && StringRecords.IsOption(args[i], "COUNT"u8))
            {
                if (!RedisNumber.TryParseInt64(args[i + 1], out count))
                {
                    context.WriteNotInteger();
                    return false;
                }

                if (count < 1)
                {
                    context.WriteSyntaxError();
                    return false;
                }
            }
            else if (hasValue && StringRecords.IsOption(args[i], "MATCH"u8))
            {
                pattern = PatternOrNull(args[i + 1]);
            }
            else if (hasValue && allowType && StringRecords.IsOption(args[i], "TYPE"u8))
            {
                typeName = args[i + 1].ToArray();
            }
            else
            {
                context.WriteSyntaxError();
                return false;
            }
        }

        return true;
    }

    private static void WriteKeys(CommandContext context, KeyCollector collector)
    {
        context.WriteArrayHeader(collector.Count);
        for (int i = 0; i < collector.Count; i++)
        {
            context.WriteBulk(collector.KeyAt(i));
        }
    }

    /// <summary>
    /// Redis parseScanCursorOrReply, which is strtoul(3) base 10 on a C string: not starting with a space, optional sign
    /// (a minus negates modulo 2^64), digits to the end (or to a NUL byte), no overflow. The empty string is cursor 0.
    /// </summary>
    internal static bool TryParseCursor(ReadOnlySpan<byte> text, out ulong cursor)
    {
        cursor = 0;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }

        if (text.IsEmpty)
        {
            return true;
        }

        if (text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
        {
            return false;
        }

        bool negative = text[0] == (byte)'-';
        int i = text[0] is (byte)'-' or (byte)'+' ? 1 : 0;
        if (i == text.Length)
        {
            return false;
        }

        ulong value = 0;
        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - (byte)'0');
            if (digit > 9 || value > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        cursor = negative ? 0 - value : value;
        return true;
    }
}
