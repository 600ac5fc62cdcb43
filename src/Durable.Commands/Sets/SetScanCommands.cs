using Durable.Protocol;

namespace Durable.Commands.Sets;

/// <summary>
/// SSCAN. An intset is answered whole in one reply with cursor 0, whatever the cursor and COUNT, as Redis 7.0 does. A
/// hashtable set is walked in the order of a stable 64-bit hash of its members: the cursor is the lowest hash not yet
/// returned, so a call returns about COUNT members (all members sharing a hash together), and a member present for the
/// whole iteration is returned at least once however the set changes in between (a position in the member list
/// would skip members whenever ones before it were removed). A bucketed set is walked bucket by bucket
/// (<see cref="Collections.BucketedItems.Scan"/>): the cursor is the next bucket.
/// </summary>
internal static class SetScanCommands
{
    public static void Register(CommandTable table) =>
        table.Add("SSCAN", -3, CommandFlags.ReadOnly, SScan, 1, 1, 1, ["read", "set", "slow"]);

    /// <summary>
    /// Redis sscanCommand: the cursor first, then the key (a missing key answers an empty scan without looking at the
    /// options), then WRONGTYPE, then the options from left to right (the last MATCH or COUNT wins; no TYPE).
    /// </summary>
    private static void SScan(CommandContext context, RespArgs args)
    {
        if (!Keys.ScanCommands.TryParseCursor(args[2], out ulong cursor))
        {
            context.WriteError(RespErrors.InvalidCursor);
            return;
        }

        if (SetRecords.ReadForReply(context, args[1]) is not { } set)
        {
            return;
        }

        if (set.Count == 0)
        {
            WriteReply(context, 0, [], null);
            return;
        }

        if (!Keys.ScanCommands.TryParseOptions(context, args, 3, allowType: false, out long count, out byte[]? pattern, out _))
        {
            return;
        }

        if (set.Bucketed is { } bucketed)
        {
            List<byte[]> found = [];
            ulong after = bucketed.Scan(cursor, (int)Math.Min(count, int.MaxValue), found);
            WriteReply(context, after, found, pattern);
            return;
        }

        if (!set.IsLarge)
        {
            WriteReply(context, 0, set.Items, pattern);
            return;
        }

        List<byte[]> batch = HashOrderBatch(set.Items, cursor, count, out ulong next);
        WriteReply(context, next, batch, pattern);
    }

    /// <summary>The members whose hash is at least <paramref name="cursor"/>, lowest hash first, about <paramref name="count"/> of them.</summary>
    private static List<byte[]> HashOrderBatch(List<byte[]> members, ulong cursor, long count, out ulong next)
    {
        (ulong Hash, byte[] Member)[] byHash = new (ulong, byte[])[members.Count];
        for (int i = 0; i < members.Count; i++)
        {
            byHash[i] = (System.IO.Hashing.XxHash3.HashToUInt64(members[i]), members[i]);
        }

        Array.Sort(byHash, static (a, b) => a.Hash.CompareTo(b.Hash));
        int start = 0;
        while (start < byHash.Length && byHash[start].Hash < cursor)
        {
            start++;
        }

        int end = start + (int)Math.Min(count, byHash.Length - start);
        while (end > start && end < byHash.Length && byHash[end].Hash == byHash[end - 1].Hash)
        {
            end++;
        }

        next = end == byHash.Length ? 0 : byHash[end - 1].Hash + 1;
        List<byte[]> batch = new(end - start);
        for (int i = start; i < end; i++)
        {
            batch.Add(byHash[i].Member);
        }

        return batch;
    }

    private static void WriteReply(CommandContext context, ulong cursor, List<byte[]> members, byte[]? pattern)
    {
        Keys.ScanCommands.WriteReplyStart(context, cursor);
        if (pattern is not null)
        {
            members = members.FindAll(member => GlobPattern.IsMatch(pattern, member));
        }

        context.WriteArrayHeader(members.Count);
        foreach (byte[] member in members)
        {
            context.WriteBulk(member);
        }
    }
}
