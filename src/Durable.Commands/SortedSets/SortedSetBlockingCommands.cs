using Durable.Commands.Blocking;
using Durable.Protocol;

namespace Durable.Commands.SortedSets;

/// <summary>
/// BZPOPMIN, BZPOPMAX and BZMPOP: each first runs like its non-blocking form; finding every key without a sorted set, it
/// blocks (<see cref="BlockingWait"/>) until a write to one of its keys lets the same pop succeed, or the timeout passes
/// (a null array).
/// </summary>
internal static class SortedSetBlockingCommands
{
    public static void Register(CommandTable table)
    {
        const CommandFlags Pop = CommandFlags.Write | CommandFlags.NoScript | CommandFlags.Fast | CommandFlags.Blocking;
        string[] categories = ["write", "sortedset", "fast", "blocking"];
        table.Add("BZPOPMIN", -3, Pop, (c, a) => BZPop(c, a, max: false), 1, -2, 1, categories);
        table.Add("BZPOPMAX", -3, Pop, (c, a) => BZPop(c, a, max: true), 1, -2, 1, categories);
        table.Add(
            "BZMPOP", -5, CommandFlags.Write | CommandFlags.Blocking, BZMPop, categories: ["write", "sortedset", "slow", "blocking"],
            findKeys: KeyArguments.NumKeys(2));
    }

    // Redis bzpopMinMaxCommand: the timeout first, then the keys in order; the reply is [key, member, score].
    private static void BZPop(CommandContext context, RespArgs args, bool max)
    {
        if (!BlockingWait.TryParseTimeout(context, args[^1], out long timeoutMs))
        {
            return;
        }

        byte[][] keys = KeyArguments.CopyKeys(args, 1, args.Count - 2);
        if (!PopOne(context, keys, max, retry: false))
        {
            BlockingWait.Block(context, keys, keys, timeoutMs, retry => PopOne(retry, keys, max, retry: true));
        }
    }

    // Redis zmpopGenericCommand: numkeys, the keys, MIN|MAX and COUNT are checked before the timeout.
    private static void BZMPop(CommandContext context, RespArgs args)
    {
        if (!SortedSetPopCommands.TryParseMultiPop(context, args, 2, out int keyCount, out bool max, out long count)
            || !BlockingWait.TryParseTimeout(context, args[1], out long timeoutMs))
        {
            return;
        }

        byte[][] keys = KeyArguments.CopyKeys(args, 3, keyCount);
        if (!SortedSetPopCommands.PopFirst(context, keys, max, count, retry: false))
        {
            BlockingWait.Block(context, keys, keys, timeoutMs, retry => SortedSetPopCommands.PopFirst(retry, keys, max, count, retry: true));
        }
    }

    /// <summary>Pops the lowest (or highest) member of the first key holding a sorted set; see <see cref="SortedSetPopCommands.PopFirst"/>.</summary>
    private static bool PopOne(CommandContext context, byte[][] keys, bool max, bool retry)
    {
        foreach (byte[] key in keys)
        {
            ReadResult read = SortedSetPop.Pop(context, key, max, 1, out List<ScoredMember> popped);
            if (read == ReadResult.WrongType && !retry)
            {
                context.WriteWrongType();
                return true;
            }

            if (read == ReadResult.Found)
            {
                context.WriteArrayHeader(3);
                context.WriteBulk(key);
                context.WriteBulk(popped[0].Member);
                SortedSetReplies.WriteScore(context, popped[0].Score);
                context.PropagateAs(SortedSetPopCommands.PopCommand(max), key);
                return true;
            }

            if (context.ErrorWritten)
            {
                return true;
            }
        }

        return false;
    }
}
