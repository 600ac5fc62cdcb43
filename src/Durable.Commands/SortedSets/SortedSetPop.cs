using Durable.Commands.PubSub;
using Durable.Storage;

namespace Durable.Commands.SortedSets;

/// <summary>
/// Popping members from one end of a sorted set: shared by ZPOPMIN, ZPOPMAX and ZMPOP, and meant for the blocking
/// BZPOPMIN, BZPOPMAX and BZMPOP, which call it when a waiter is served.
/// </summary>
internal static class SortedSetPop
{
    /// <summary>
    /// Removes up to <paramref name="count"/> members (at least 1) from the lowest (or, with <paramref name="max"/>, the
    /// highest) end of the set at <paramref name="key"/> and writes the set back (the key goes when it empties; the TTL
    /// stays). <paramref name="popped"/> holds them in pop order. Writes no reply: Missing and WrongType are the
    /// caller's to answer; Found with an empty list cannot happen (a stored set is never empty). Returns Missing also
    /// when the write failed (the error is then written already), which cannot happen for a set that only shrinks.
    /// </summary>
    public static ReadResult Pop(CommandContext context, ReadOnlySpan<byte> key, bool max, long count, out List<ScoredMember> popped)
    {
        popped = [];
        ReadResult read = SortedSetValue.Read(context, key, countStats: false, out SortedSetValue set, out StoredRecord record);
        if (read != ReadResult.Found)
        {
            return read;
        }

        int taken = (int)Math.Min(count, set.Count);
        popped = set.Slice(max ? set.Count - 1 : 0, taken, reverse: max);
        set.RemoveRange(max ? set.Count - taken : 0, taken);
        if (!set.Save(context, key, record.ExpiresAtMs))
        {
            return ReadResult.Missing;
        }

        context.NotifyCollectionWrite(KeyspaceEventClass.SortedSet, max ? "zpopmax"u8 : "zpopmin"u8, key, set.Count);
        return ReadResult.Found;
    }
}
