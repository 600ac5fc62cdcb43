using Durable.Commands.Blocking;
using Durable.Protocol;

namespace Durable.Commands.Lists;

/// <summary>
/// The blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP. Each first runs like its non-blocking form;
/// finding every list empty, it blocks (<see cref="BlockingWait"/>) until a write to one of its keys lets the same pop
/// succeed, or the timeout passes (a null array, as Redis replies to every timed-out list command).
/// </summary>
internal static class ListBlockingCommands
{
    private static readonly string[] s_categories = ["write", "list", "slow", "blocking"];

    public static void Register(CommandTable table)
    {
        const CommandFlags Pop = CommandFlags.Write | CommandFlags.NoScript | CommandFlags.Blocking;
        const CommandFlags Move = Pop | CommandFlags.DenyOom;
        table.Add("BLPOP", -3, Pop, BLPop, 1, -2, 1, s_categories);
        table.Add("BRPOP", -3, Pop, BRPop, 1, -2, 1, s_categories);
        table.Add("BLMOVE", 6, Move, BLMove, 1, 2, 1, s_categories);
        table.Add("BRPOPLPUSH", 4, Move, BRPopLPush, 1, 2, 1, s_categories);
        table.Add(
            "BLMPOP", -5, CommandFlags.Write | CommandFlags.Blocking, BLMPop, categories: s_categories,
            findKeys: KeyArguments.NumKeys(2));
    }

    private static void BLPop(CommandContext context, RespArgs args) => BlockingPop(context, args, left: true);

    private static void BRPop(CommandContext context, RespArgs args) => BlockingPop(context, args, left: false);

    // Redis blockingPopGenericCommand: the timeout is parsed first, then the keys are tried in order.
    private static void BlockingPop(CommandContext context, RespArgs args, bool left)
    {
        if (!BlockingWait.TryParseTimeout(context, args[^1], out long timeoutMs))
        {
            return;
        }

        byte[][] keys = KeyArguments.CopyKeys(args, 1, args.Count - 2);
        if (!ListPopCommands.PopFirst(context, keys, left, -1, retry: false))
        {
            BlockingWait.Block(context, keys, keys, timeoutMs, retry => ListPopCommands.PopFirst(retry, keys, left, -1, retry: true));
        }
    }

    private static void BLMove(CommandContext context, RespArgs args)
    {
        if (ListRecords.TryParseEnd(context, args[3], out bool fromLeft) && ListRecords.TryParseEnd(context, args[4], out bool toLeft)
            && BlockingWait.TryParseTimeout(context, args[5], out long timeoutMs))
        {
            BlockingMove(context, args, fromLeft, toLeft, timeoutMs);
        }
    }

    private static void BRPopLPush(CommandContext context, RespArgs args)
    {
        if (BlockingWait.TryParseTimeout(context, args[3], out long timeoutMs))
        {
            BlockingMove(context, args, fromLeft: false, toLeft: true, timeoutMs);
        }
    }

    private static void BlockingMove(CommandContext context, RespArgs args, bool fromLeft, bool toLeft, long timeoutMs)
    {
        bool rpoplpush = args.Count == 4;
        if (ListPopCommands.Move(context, args[1], args[2], fromLeft, toLeft, blocking: true, retry: false))
        {
            // Redis: replicas make the move that was made, LMOVE (or RPOPLPUSH), with the client's words for the ends.
            context.PropagateAs(rpoplpush ? ["RPOPLPUSH"u8.ToArray(), args[1].ToArray(), args[2].ToArray()]
                : ["LMOVE"u8.ToArray(), args[1].ToArray(), args[2].ToArray(), args[3].ToArray(), args[4].ToArray()]);
            return;
        }

        if (context.Client.Transaction.Active)
        {
            // Inside EXEC a command may not block: Redis answers as at a timeout, with a null bulk for the moves.
            context.WriteNull();
            return;
        }

        byte[] source = args[1].ToArray();
        byte[] destination = args[2].ToArray();
        BlockingWait.Block(
            context, [source], [source, destination], timeoutMs,
            retry =>
            {
                if (!ListPopCommands.Move(retry, source, destination, fromLeft, toLeft, blocking: true, retry: true))
                {
                    return false;
                }

                // Redis serveClientBlockedOnList: the move as LMOVE with "left"/"right" (or RPOPLPUSH).
                retry.PropagateAs(rpoplpush ? ["RPOPLPUSH"u8.ToArray(), source, destination]
                    : ["LMOVE"u8.ToArray(), source, destination, End(fromLeft), End(toLeft)]);
                return true;
            });
    }

    private static byte[] End(bool left) => left ? "left"u8.ToArray() : "right"u8.ToArray();

    // Redis lmpopGenericCommand: numkeys, the keys, LEFT|RIGHT and COUNT are checked before the timeout.
    private static void BLMPop(CommandContext context, RespArgs args)
    {
        if (!ListPopCommands.TryParseMultiPop(context, args, 2, out int keyCount, out bool left, out long count)
            || !BlockingWait.TryParseTimeout(context, args[1], out long timeoutMs))
        {
            return;
        }

        byte[][] keys = KeyArguments.CopyKeys(args, 3, keyCount);
        if (!ListPopCommands.PopFirst(context, keys, left, count, retry: false))
        {
            BlockingWait.Block(context, keys, keys, timeoutMs, retry => ListPopCommands.PopFirst(retry, keys, left, count, retry: true));
        }
    }
}
