using Durable.Commands.PubSub;
using Durable.Commands.Collections;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Lists;

/// <summary>Storing a list whole (compact or chunked), and the parsing and replies the list commands share.</summary>
internal static class ListRecords
{
    /// <summary>
    /// Stores <paramref name="items"/> as the list of <paramref name="key"/> (deleting the key when empty), keeping
    /// <paramref name="expiresAtMs"/>: compact while it has at most <see cref="CollectionRecords.BucketAboveEntries"/>
    /// elements and <see cref="CollectionRecords.BucketAboveBytes"/> bytes, else chunked (<see cref="ChunkedList"/>).
    /// False after writing an error.
    /// </summary>
    public static bool Save(CommandContext context, ReadOnlySpan<byte> key, List<byte[]> items, long expiresAtMs) =>
        items.Count > CollectionRecords.BucketAboveEntries || PackedItems.EncodedLength(items) > CollectionRecords.BucketAboveBytes
            ? ChunkedList.Create(context, items).Save(key, expiresAtMs)
            : CollectionRecords.Save(context, key, RecordType.List, 0, items, expiresAtMs);

    /// <summary>Redis's events for a write to a list: <paramref name="eventName"/>, then "del" when it left the list empty (and so deleted the key).</summary>
    public static void Notify(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> eventName, long remaining) =>
        context.NotifyCollectionWrite(KeyspaceEventClass.List, eventName, key, remaining);

    /// <summary>"lpop" or "rpop".</summary>
    public static ReadOnlySpan<byte> PopEvent(bool left) => left ? "lpop"u8 : "rpop"u8;

    /// <summary>"lpush" or "rpush".</summary>
    public static ReadOnlySpan<byte> PushEvent(bool left) => left ? "lpush"u8 : "rpush"u8;

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

    public static void WriteArray(CommandContext context, List<byte[]> items)
    {
        context.WriteArrayHeader(items.Count);
        foreach (byte[] item in items)
        {
            context.WriteBulk(item);
        }
    }
}
