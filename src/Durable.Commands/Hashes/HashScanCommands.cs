using Durable.Commands.Collections;
using Durable.Commands.Keys;
using Durable.Protocol;

namespace Durable.Commands.Hashes;

/// <summary>
/// HSCAN key cursor [MATCH pattern] [COUNT count]. A listpack-encoded hash is answered whole, with cursor 0, whatever
/// COUNT says (as Redis 7.0). A hashtable-encoded hash is walked by position, from the last field down to the first:
/// the cursor is the number of fields not yet visited at the front. New fields go last and a deletion only moves the
/// fields after it down by one, so a field present for the whole scan is never skipped (it may come twice). A bucketed
/// hash is walked bucket by bucket (<see cref="BucketedItems.Scan"/>): the cursor is the next bucket.
/// </summary>
internal static class HashScanCommands
{
    public static void Register(CommandTable table) =>
        table.Add("HSCAN", -3, CommandFlags.ReadOnly, HScan, 1, 1, 1, ["read", "hash", "slow"]);

    /// <summary>Redis hscanCommand: the cursor, then the key (missing: an empty scan, options unchecked), then the options.</summary>
    private static void HScan(CommandContext context, RespArgs args)
    {
        if (!ScanCommands.TryParseCursor(args[2], out ulong cursor))
        {
            context.WriteError(RespErrors.InvalidCursor);
            return;
        }

        if (!PackedHash.TryRead(context, args[1], countStats: true, out PackedHash hash))
        {
            return;
        }

        if (hash.Count == 0)
        {
            WriteReply(context, 0, [], 0, 0, null);
            return;
        }

        if (!ScanCommands.TryParseOptions(context, args, 3, allowType: false, out long count, out byte[]? pattern, out _))
        {
            return;
        }

        if (hash.Bucketed is { } bucketed)
        {
            List<byte[]> found = [];
            ulong next = bucketed.Scan(cursor, (int)Math.Min(count, int.MaxValue), found);
            WriteReply(context, next, found, 0, found.Count / 2, pattern);
            return;
        }

        List<byte[]> items = hash.Items;
        if (!hash.IsHashTable)
        {
            WriteReply(context, 0, items, 0, hash.Count, pattern);
            return;
        }

        int end = cursor == 0 || cursor > (ulong)hash.Count ? hash.Count : (int)cursor;
        int start = (int)Math.Max(0, end - count);
        WriteReply(context, (ulong)start, items, start, end, pattern);
    }

    // Fields start..end-1 (and their values) whose field matches the pattern.
    private static void WriteReply(CommandContext context, ulong next, List<byte[]> items, int start, int end, byte[]? pattern)
    {
        int matching = 0;
        for (int field = start; field < end; field++)
        {
            if (pattern is null || GlobPattern.IsMatch(pattern, items[2 * field]))
            {
                matching++;
            }
        }

        ScanCommands.WriteReplyStart(context, next);
        context.WriteArrayHeader(2L * matching);
        for (int field = start; field < end; field++)
        {
            if (pattern is null || GlobPattern.IsMatch(pattern, items[2 * field]))
            {
                context.WriteBulk(items[2 * field]);
                context.WriteBulk(items[(2 * field) + 1]);
            }
        }
    }
}
