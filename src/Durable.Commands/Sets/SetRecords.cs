using Durable.Commands.PubSub;
using Durable.Commands.Collections;
using Durable.Storage;

namespace Durable.Commands.Sets;

/// <summary>Reading, saving and replying with sets, shared by the set command files.</summary>
internal static class SetRecords
{
    /// <summary>Redis's events for a write to a set: <paramref name="eventName"/>, then "del" when it left the set empty (and so deleted the key).</summary>
    public static void Notify(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> eventName, long remaining) =>
        context.NotifyCollectionWrite(KeyspaceEventClass.Set, eventName, key, remaining);

    /// <summary>Reads the set of <paramref name="key"/>; an empty set when the key is missing or of another type.</summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out SetMembers set, out StoredRecord record)
    {
        ReadResult result = CollectionRecords.Read(
            context, key, RecordType.Set, 1, countStats, out List<byte[]> items, out byte flags, out BucketedItems? bucketed, out record);
        set = bucketed is null ? new SetMembers(items, flags, context.Server.Config.SetMaxIntsetEntries) : new SetMembers(bucketed);
        return result;
    }

    /// <summary>
    /// Reads a set for a read command (counting a keyspace hit or miss); null after writing WRONGTYPE. A missing key
    /// is an empty set (a stored set is never empty).
    /// </summary>
    public static SetMembers? ReadForReply(CommandContext context, ReadOnlySpan<byte> key)
    {
        if (Read(context, key, countStats: true, out SetMembers set, out _) == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return null;
        }

        return set;
    }

    /// <summary>
    /// Reads a set that a command is about to change, writing WRONGTYPE and returning false for a key of another type.
    /// <paramref name="expiresAtMs"/> is the key's expiry, to keep (0 for a missing key).
    /// </summary>
    public static bool ReadForUpdate(CommandContext context, ReadOnlySpan<byte> key, out SetMembers set, out bool exists, out long expiresAtMs)
    {
        ReadResult read = Read(context, key, countStats: false, out set, out StoredRecord record);
        exists = read == ReadResult.Found;
        expiresAtMs = exists ? record.ExpiresAtMs : 0;
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return false;
        }

        return true;
    }

    /// <summary>
    /// Reads the sets of the keys at args[first..first+count), as Redis's multi-key set commands look them up (counting
    /// hits and misses): a missing key is null; a key of another type writes WRONGTYPE and returns false.
    /// </summary>
    public static bool ReadAll(CommandContext context, Durable.Protocol.RespArgs args, int first, int count, out SetMembers?[] sets)
    {
        sets = new SetMembers?[count];
        for (int i = 0; i < count; i++)
        {
            ReadResult read = Read(context, args[first + i], countStats: true, out SetMembers set, out _);
            if (read == ReadResult.WrongType)
            {
                context.WriteWrongType();
                return false;
            }

            sets[i] = read == ReadResult.Found ? set : null;
        }

        return true;
    }

    /// <summary>Stores <paramref name="set"/> (deleting the key when it is empty); false, having written the error, when it does not fit.</summary>
    public static bool Save(CommandContext context, ReadOnlySpan<byte> key, SetMembers set, long expiresAtMs) =>
        set.Bucketed?.Save(key, RecordType.Set, expiresAtMs) ?? CollectionRecords.Save(context, key, RecordType.Set, set.Flags, set.Items, expiresAtMs, width: 1);

    /// <summary>Members as Redis replies with a set (a RESP3 set, a RESP2 array), or as an array in both (SRANDMEMBER).</summary>
    public static void WriteMembers(CommandContext context, IReadOnlyList<byte[]> members, bool asSet = true)
    {
        if (asSet)
        {
            context.WriteSetHeader(members.Count);
        }
        else
        {
            context.WriteArrayHeader(members.Count);
        }

        foreach (byte[] member in members)
        {
            context.WriteBulk(member);
        }
    }
}
