using Durable.Commands.Collections;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Lists;

/// <summary>
/// A list kept whole in its key's record: the items of its <see cref="PackedItems"/> payload are the elements, head to
/// tail. Shared parsing and replies of the list commands.
/// </summary>
internal static class ListRecords
{
    /// <summary>Reads the list of <paramref name="key"/>; empty when missing or of another type.</summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out List<byte[]> items, out StoredRecord record) =>
        CollectionRecords.Read(context, key, RecordType.List, countStats, out items, out _, out record);

    /// <summary>Stores the list (deleting the key when empty), keeping <paramref name="expiresAtMs"/>; false after writing an error.</summary>
    public static bool Save(CommandContext context, ReadOnlySpan<byte> key, List<byte[]> items, long expiresAtMs) =>
        CollectionRecords.Save(context, key, RecordType.List, 0, items, expiresAtMs);

    /// <summary>Redis getListPositionFromObjectOrReply: LEFT (head, true) or RIGHT (tail, false); writes a syntax error otherwise.</summary>
    public static bool TryParseEnd(CommandContext context, ReadOnlySpan<byte> text, out bool left)
    {
        left = AsciiCase.EqualsIgnoreCase(text, "LEFT"u8);
        if (left || AsciiCase.EqualsIgnoreCase(text, "RIGHT"u8))
        {
            return true;
        }

        context.WriteSyntaxError();
        return false;
    }

    /// <summary>Redis getLongFromObjectOrReply: an integer, or "value is not an integer or out of range".</summary>
    public static bool TryParseLong(CommandContext context, ReadOnlySpan<byte> text, out long value)
    {
        if (RedisNumber.TryParseInt64(text, out value))
        {
            return true;
        }

        context.WriteNotInteger();
        return false;
    }

    /// <summary>
    /// Redis getRangeLongFromObjectOrReply (and getPositiveLongFromObjectOrReply, min 0) with a message: an integer
    /// from <paramref name="min"/> up, else <paramref name="error"/>, which Redis sends for a non-integer too.
    /// </summary>
    public static bool TryParseAtLeast(CommandContext context, ReadOnlySpan<byte> text, long min, string error, out long value)
    {
        if (RedisNumber.TryParseInt64(text, out value) && value >= min)
        {
            return true;
        }

        context.WriteError(error);
        return false;
    }

    /// <summary>Removes <paramref name="count"/> elements from one end, in pop order (RPOP pops the tail first).</summary>
    public static List<byte[]> PopRange(List<byte[]> items, bool left, int count)
    {
        List<byte[]> popped;
        if (left)
        {
            popped = items.GetRange(0, count);
            items.RemoveRange(0, count);
        }
        else
        {
            popped = items.GetRange(items.Count - count, count);
            items.RemoveRange(items.Count - count, count);
            popped.Reverse();
        }

        return popped;
    }

    /// <summary>Removes and returns one element from one end of a non-empty list.</summary>
    public static byte[] PopOne(List<byte[]> items, bool left)
    {
        int index = left ? 0 : items.Count - 1;
        byte[] value = items[index];
        items.RemoveAt(index);
        return value;
    }

    public static void Push(List<byte[]> items, bool left, byte[] value)
    {
        if (left)
        {
            items.Insert(0, value);
        }
        else
        {
            items.Add(value);
        }
    }

    public static void WriteArray(CommandContext context, List<byte[]> items)
    {
        context.WriteArrayHeader(items.Count);
        foreach (byte[] item in items)
        {
            context.WriteBulk(item);
        }
    }
}
