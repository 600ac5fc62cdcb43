using Durable.Commands.PubSub;
using Durable.Commands.Lists;
using Durable.Storage;

namespace Durable.Commands.Collections;

/// <summary>Reading and writing a collection kept whole in its key's record (<see cref="PackedItems"/>).</summary>
internal static class CollectionRecords
{
    /// <summary>
    /// A compact collection (hash, set) is stored bucketed instead (<see cref="BucketedItems"/>) once Redis would use its
    /// large encoding and it has more entries than this or more bytes than <see cref="BucketAboveBytes"/>: rewriting it
    /// whole would then cost more than touching one bucket.
    /// </summary>
    public const int BucketAboveEntries = 128;

    public const int BucketAboveBytes = 4096;

    /// <summary>
    /// Reads the collection of <paramref name="key"/> when it is of <paramref name="type"/> and compact; <paramref name="items"/>
    /// is empty (and <paramref name="flags"/> 0) when the key is missing or of another type.
    /// </summary>
    public static ReadResult Read(
        CommandContext context, ReadOnlySpan<byte> key, RecordType type, bool countStats,
        out List<byte[]> items, out byte flags, out StoredRecord record)
    {
        ReadResult result = Read(context, key, type, 1, countStats, out items, out flags, out BucketedItems? bucketed, out record);
        return bucketed is null
            ? result
            : throw new InvalidDataException($"a {type} record holds parts, which this build reads only for hashes and sets");
    }

    /// <summary>
    /// Reads the collection of <paramref name="key"/> when it is of <paramref name="type"/>: compact (<paramref name="items"/>,
    /// <paramref name="flags"/>) or bucketed (<paramref name="bucketed"/>, entries of <paramref name="width"/> items, with
    /// <paramref name="items"/> empty). Both are empty when the key is missing or of another type.
    /// </summary>
    public static ReadResult Read(
        CommandContext context, ReadOnlySpan<byte> key, RecordType type, int width, bool countStats,
        out List<byte[]> items, out byte flags, out BucketedItems? bucketed, out StoredRecord record)
    {
        context.Scratch.ResetWrittenCount();
        ReadResult result = TypedRecords.Read(context, key, type, context.Scratch, countStats, out record);
        items = [];
        flags = 0;
        bucketed = null;
        if (result == ReadResult.Found)
        {
            ReadOnlySpan<byte> payload = context.Scratch.WrittenSpan;
            if (PartsDescriptor.TryRead(type, payload, out _))
            {
                bucketed = BucketedItems.Open(context, type, width, payload);
                flags = bucketed.Flags;
            }
            else
            {
                items = PackedItems.Decode(payload, out flags);
            }
        }

        context.Scratch.ResetWrittenCount();
        return result;
    }

    /// <summary>
    /// Every item of a collection whose record payload is <paramref name="payload"/>, in the type's item layout, for the
    /// generic commands that read any collection whole (SORT): a bucketed collection has all its buckets read.
    /// </summary>
    public static List<byte[]> AllItems(CommandContext context, RecordType type, ReadOnlySpan<byte> payload)
    {
        if (!PartsDescriptor.TryRead(type, payload, out _))
        {
            return PackedItems.Decode(payload, out _);
        }

        return type switch
        {
            RecordType.Hash => BucketedItems.Open(context, type, 2, payload).AllItems(),
            RecordType.Set => BucketedItems.Open(context, type, 1, payload).AllItems(),
            RecordType.List => ChunkedList.Open(context, payload).AllItems(),
            RecordType.SortedSet => SortedSetItems(context, payload),
            _ => throw new InvalidDataException($"a {type} record holds parts, which this build does not read"),
        };
    }

    // Member, score, member, score... in order, the compact sorted set's item layout.
    private static List<byte[]> SortedSetItems(CommandContext context, ReadOnlySpan<byte> payload)
    {
        List<byte[]> items = [];
        // Only walked, never saved: the expiry it was stored with does not matter.
        foreach (SortedSets.ScoredMember member in SortedSets.SortedSetTree.Open(context, payload, expiresAtMs: 0).Walk(0, reverse: false))
        {
            items.Add(member.Member);
            items.Add(SortedSets.ScoredMember.ScoreBytes(member.Score));
        }

        return items;
    }

    /// <summary>
    /// A STORE command's empty result (SINTERSTORE, ZRANGESTORE, SORT ... STORE...): the destination is deleted, with
    /// Redis's "del" event when it existed.
    /// </summary>
    public static void DeleteDestination(CommandContext context, ReadOnlySpan<byte> key)
    {
        if (context.Session.Delete(context.Db, key))
        {
            context.Notify(KeyspaceEventClass.Generic, "del"u8, key);
        }
    }

    /// <summary>
    /// Stores <paramref name="items"/> as the collection of <paramref name="key"/> with the given expiry (0 = none);
    /// no items deletes the key, as Redis deletes a collection when its last member goes. A collection of entries of
    /// <paramref name="width"/> items (0: never bucketed) in Redis's large encoding past the compact limits is stored
    /// bucketed. Returns false, having written the error and changed nothing, when it would not fit.
    /// </summary>
    public static bool Save(
        CommandContext context, ReadOnlySpan<byte> key, RecordType type, byte flags, IReadOnlyList<byte[]> items, long expiresAtMs, int width = 0)
    {
        if (items.Count == 0)
        {
            context.Session.Delete(context.Db, key);
            return true;
        }

        long length = PackedItems.EncodedLength(items);
        if (width > 0 && (flags & PackedItems.LargeEncoding) != 0 && (items.Count / width > BucketAboveEntries || length > BucketAboveBytes))
        {
            return BucketedItems.Create(context, width, items, flags).Save(key, type, expiresAtMs);
        }

        if (!TypedRecords.FitsRecord(context, key, length))
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
