using Durable.Storage;

namespace Durable.Commands.Collections;

/// <summary>Reading and writing a collection kept whole in its key's record (<see cref="PackedItems"/>).</summary>
internal static class CollectionRecords
{
    /// <summary>
    /// Reads the collection of <paramref name="key"/> when it is of <paramref name="type"/>; <paramref name="items"/>
    /// is empty (and <paramref name="flags"/> 0) when the key is missing or of another type.
    /// </summary>
    public static ReadResult Read(
        CommandContext context, ReadOnlySpan<byte> key, RecordType type, bool countStats,
        out List<byte[]> items, out byte flags, out StoredRecord record)
    {
        context.Scratch.ResetWrittenCount();
        ReadResult result = TypedRecords.Read(context, key, type, context.Scratch, countStats, out record);
        if (result == ReadResult.Found)
        {
            items = PackedItems.Decode(context.Scratch.WrittenSpan, out flags);
        }
        else
        {
            items = [];
            flags = 0;
        }

        context.Scratch.ResetWrittenCount();
        return result;
    }

    /// <summary>
    /// Stores <paramref name="items"/> as the collection of <paramref name="key"/> with the given expiry (0 = none);
    /// no items deletes the key, as Redis deletes a collection when its last member goes. Returns false, having written
    /// the error and changed nothing, when the collection would not fit in one record.
    /// </summary>
    public static bool Save(
        CommandContext context, ReadOnlySpan<byte> key, RecordType type, byte flags, IReadOnlyList<byte[]> items, long expiresAtMs)
    {
        if (items.Count == 0)
        {
            context.Session.Delete(context.Db, key);
            return true;
        }

        if (!TypedRecords.FitsRecord(context, key, PackedItems.EncodedLength(items)))
        {
            return false;
        }

        context.Scratch.ResetWrittenCount();
        PackedItems.Encode(context.Scratch, flags, items);
        context.Session.Write(context.Db, key, type, context.Scratch.WrittenSpan, expiresAtMs);
        context.Scratch.ResetWrittenCount();
        return true;
    }
}
