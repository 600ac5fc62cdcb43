using Durable.Protocol;

namespace Durable.Commands.SortedSets;

/// <summary>
/// ZSCAN. A compact sorted set lives in one record, so one call returns every member (cursor 0), as Redis does for a
/// listpack and allows itself for a small skiplist. A set in part records is walked through its member map
/// (<see cref="SortedSetTree.Scan"/>: a member present for the whole scan is returned).
/// </summary>
internal static class SortedSetScanCommands
{
    public static void Register(CommandTable table) =>
        table.Add("ZSCAN", -3, CommandFlags.ReadOnly, ZScan, 1, 1, 1, ["read", "sortedset", "slow"]);

    /// <summary>Redis zscanCommand: the cursor, then the key (missing: an empty scan) and its type, then MATCH and COUNT.</summary>
    private static void ZScan(CommandContext context, RespArgs args)
    {
        if (!Keys.ScanCommands.TryParseCursor(args[2], out ulong cursor))
        {
            context.WriteError(RespErrors.InvalidCursor);
            return;
        }

        if (!SortedSetCommands.TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        byte[]? pattern = null;
        long count = 0;
        if (set.Count > 0 && !Keys.ScanCommands.TryParseOptions(context, args, 3, allowType: false, out count, out pattern, out _))
        {
            return;
        }

        ulong next = 0;
        List<ScoredMember> members;
        if (set.Tree is { } tree)
        {
            List<byte[]> pairs = [];
            next = tree.Scan(cursor, (int)Math.Min(count, int.MaxValue), pairs);
            members = new List<ScoredMember>(pairs.Count / 2);
            for (int i = 0; i + 1 < pairs.Count; i += 2)
            {
                members.Add(ScoredMember.FromItems(pairs[i], pairs[i + 1]));
            }
        }
        else
        {
            members = set.Items;
        }

        List<ScoredMember> matched = pattern is null ? members : members.FindAll(m => GlobPattern.IsMatch(pattern, m.Member));
        Keys.ScanCommands.WriteReplyStart(context, next);
        context.WriteArrayHeader(2L * matched.Count);
        Span<byte> text = stackalloc byte[ScoreText.MaxLength];
        foreach (ScoredMember member in matched)
        {
            context.WriteBulk(member.Member);
            context.WriteBulk(text[..(set.Large ? ScoreText.Format(member.Score, text) : ScoreText.FormatListpack(member.Score, text))]);
        }
    }
}
