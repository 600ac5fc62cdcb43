using Durable.Protocol;

namespace Durable.Commands.SortedSets;

/// <summary>
/// ZSCAN. A sorted set lives in one record, so one call returns every member (cursor 0), as Redis does for a listpack;
/// for a skiplist Redis would page through its hash table, which the SCAN guarantees allow us not to imitate.
/// </summary>
internal static class SortedSetScanCommands
{
    public static void Register(CommandTable table) =>
        table.Add("ZSCAN", -3, CommandFlags.ReadOnly, ZScan, 1, 1, 1, ["read", "sortedset", "slow"]);

    /// <summary>Redis zscanCommand: the cursor, then the key (missing: an empty scan) and its type, then MATCH and COUNT.</summary>
    private static void ZScan(CommandContext context, RespArgs args)
    {
        if (!Keys.ScanCommands.TryParseCursor(args[2], out _))
        {
            context.WriteError(RespErrors.InvalidCursor);
            return;
        }

        if (!SortedSetCommands.TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        byte[]? pattern = null;
        if (set.Count > 0 && !Keys.ScanCommands.TryParseOptions(context, args, 3, allowType: false, out _, out pattern, out _))
        {
            return;
        }

        List<ScoredMember> matched = pattern is null ? set.Items : set.Items.FindAll(m => GlobPattern.IsMatch(pattern, m.Member));
        context.WriteArrayHeader(2);
        context.WriteBulk("0"u8);
        context.WriteArrayHeader(2L * matched.Count);
        Span<byte> text = stackalloc byte[ScoreText.MaxLength];
        foreach (ScoredMember member in matched)
        {
            context.WriteBulk(member.Member);
            context.WriteBulk(text[..(set.Large ? ScoreText.Format(member.Score, text) : ScoreText.FormatListpack(member.Score, text))]);
        }
    }
}
