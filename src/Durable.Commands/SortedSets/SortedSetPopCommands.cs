using Durable.Commands.Collections;
using Durable.Protocol;

namespace Durable.Commands.SortedSets;

/// <summary>ZPOPMIN, ZPOPMAX, ZMPOP (the pops themselves are <see cref="SortedSetPop"/>) and ZRANDMEMBER.</summary>
internal static class SortedSetPopCommands
{
    public static void Register(CommandTable table)
    {
        string[] writeFast = ["write", "sortedset", "fast"];
        table.Add("ZPOPMIN", -2, CommandFlags.Write | CommandFlags.Fast, (c, a) => ZPop(c, a, max: false), 1, 1, 1, writeFast);
        table.Add("ZPOPMAX", -2, CommandFlags.Write | CommandFlags.Fast, (c, a) => ZPop(c, a, max: true), 1, 1, 1, writeFast);
        table.Add("ZMPOP", -4, CommandFlags.Write, ZMPop, categories: ["write", "sortedset", "slow"], findKeys: KeyArguments.NumKeys(1));
        table.Add("ZRANDMEMBER", -2, CommandFlags.ReadOnly, ZRandMember, 1, 1, 1, ["read", "sortedset", "slow"]);
    }

    /// <summary>
    /// Redis zpopMinMaxCommand: more than one option is a syntax error, a count must be a non-negative integer, then the
    /// key's type, then a zero count is an empty array. Without a count the reply is one flat [member, score].
    /// </summary>
    private static void ZPop(CommandContext context, RespArgs args, bool max)
    {
        if (args.Count > 3)
        {
            context.WriteSyntaxError();
            return;
        }

        long count = 1;
        if (args.Count == 3 && (!RedisNumber.TryParseInt64(args[2], out count) || count < 0))
        {
            context.WriteError(SortedSetErrors.MustBePositive);
            return;
        }

        if (count == 0)
        {
            if (SortedSetValue.Read(context, args[1], countStats: false, out _, out _) == ReadResult.WrongType)
            {
                context.WriteWrongType();
                return;
            }

            context.WriteArrayHeader(0);
            return;
        }

        ReadResult read = SortedSetPop.Pop(context, args[1], max, count, out List<ScoredMember> popped);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
        }
        else if (!context.ErrorWritten)
        {
            SortedSetReplies.WriteMembers(context, popped, withScores: true, nested: false, flatInResp3: args.Count == 2);
        }
    }

    private static void ZMPop(CommandContext context, RespArgs args)
    {
        if (TryParseMultiPop(context, args, 1, out int keyCount, out bool max, out long count)
            && !PopFirst(context, KeyArguments.CopyKeys(args, 2, keyCount), max, count, retry: false))
        {
            context.WriteNullArray();
        }
    }

    /// <summary>
    /// Redis zmpopGenericCommand's parsing: numkeys at <paramref name="numKeysIndex"/> (1 or more), the keys, MIN or MAX,
    /// then COUNT once (1 or more; 1 when absent). Writes the error and returns false when the request is malformed.
    /// </summary>
    public static bool TryParseMultiPop(CommandContext context, RespArgs args, int numKeysIndex, out int keyCount, out bool max, out long count)
    {
        keyCount = 0;
        max = false;
        count = -1;
        if (!RedisNumber.TryParseInt64(args[numKeysIndex], out long keys) || keys < 1)
        {
            context.WriteError(SortedSetErrors.NumKeysPositive);
            return false;
        }

        long whereIndex = numKeysIndex + 1 + keys;
        if (whereIndex >= args.Count)
        {
            context.WriteSyntaxError();
            return false;
        }

        max = args.Is((int)whereIndex, "MAX"u8);
        if (!max && !args.Is((int)whereIndex, "MIN"u8))
        {
            context.WriteSyntaxError();
            return false;
        }

        for (int i = (int)whereIndex + 1; i < args.Count; i++)
        {
            if (count == -1 && args.Is(i, "COUNT"u8) && i + 1 < args.Count)
            {
                if (!RedisNumber.TryParseInt64(args[i + 1], out count) || count < 1)
                {
                    context.WriteError(SortedSetErrors.CountPositive);
                    return false;
                }

                i++;
            }
            else
            {
                context.WriteSyntaxError();
                return false;
            }
        }

        keyCount = (int)keys;
        count = Math.Max(count, 1);
        return true;
    }

    /// <summary>
    /// Pops up to <paramref name="count"/> members from the first of <paramref name="keys"/> that holds a sorted set and
    /// replies [key, [[member, score], ...]]; returns false, having written nothing, when every key is missing. A key of
    /// another type is WRONGTYPE, except on a blocked command's <paramref name="retry"/>, where it is passed over (a
    /// blocked client stays blocked while its key holds another type, as in Redis).
    /// </summary>
    public static bool PopFirst(CommandContext context, byte[][] keys, bool max, long count, bool retry)
    {
        foreach (byte[] key in keys)
        {
            ReadResult read = SortedSetPop.Pop(context, key, max, count, out List<ScoredMember> popped);
            if (read == ReadResult.WrongType && !retry)
            {
                context.WriteWrongType();
                return true;
            }

            if (read == ReadResult.Found)
            {
                context.WriteArrayHeader(2);
                context.WriteBulk(key);
                SortedSetReplies.WriteMembers(context, popped, withScores: true, nested: true);

                // Redis: replicas pop as ZPOPMIN or ZPOPMAX of the key served, with the number popped.
                context.PropagateAs(PopCommand(max), key, Server.Propagation.Number(popped.Count));
                return true;
            }

            if (context.ErrorWritten)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The non-blocking pop of the same end, as replicas run it.</summary>
    public static byte[] PopCommand(bool max) => max ? "ZPOPMAX"u8.ToArray() : "ZPOPMIN"u8.ToArray();

    /// <summary>
    /// Redis zrandmemberCommand: without a count one member (or nil); with a count (at least -LONG_MAX) and optional
    /// WITHSCORES (then within +-LONG_MAX/2), a positive count gives distinct members, a negative one |count| members
    /// that may repeat.
    /// </summary>
    private static void ZRandMember(CommandContext context, RespArgs args)
    {
        if (args.Count == 2)
        {
            if (SortedSetCommands.TryRead(context, args[1], out SortedSetValue one))
            {
                if (one.Count == 0)
                {
                    context.WriteNull();
                }
                else
                {
                    context.WriteBulk(one.RandomMember().Member);
                }
            }

            return;
        }

        if (!RedisNumber.TryParseInt64(args[2], out long count))
        {
            context.WriteNotInteger();
            return;
        }

        if (count == long.MinValue)
        {
            context.WriteError(SortedSetErrors.RandomCountRange);
            return;
        }

        if (args.Count > 4 || (args.Count == 4 && !args.Is(3, "WITHSCORES"u8)))
        {
            context.WriteSyntaxError();
            return;
        }

        bool withScores = args.Count == 4;
        if (withScores && (count < -(long.MaxValue / 2) || count > long.MaxValue / 2))
        {
            context.WriteError(SortedSetErrors.OutOfRange);
            return;
        }

        if (!SortedSetCommands.TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        if (count == 0 || set.Count == 0)
        {
            context.WriteArrayHeader(0);
            return;
        }

        if (count < 0)
        {
            // Members may repeat: bounded by proto-max-bulk-len, as the reply is built before it is flushed.
            long largest = set.Items.Max(static m => m.Member.Length) + (withScores ? 2 * RepeatedPicks.OverheadPerItem : RepeatedPicks.OverheadPerItem);
            if (!RepeatedPicks.Fit(context, "ZRANDMEMBER", "members", -count, largest))
            {
                return;
            }

            bool pairs = withScores && context.Protocol == RespVersion.Resp3;
            context.WriteArrayHeader(withScores && !pairs ? -2 * count : -count);
            for (long i = 0; i < -count; i++)
            {
                ScoredMember member = set.Items[Random.Shared.Next(set.Count)];
                if (pairs)
                {
                    context.WriteArrayHeader(2);
                }

                context.WriteBulk(member.Member);
                if (withScores)
                {
                    SortedSetReplies.WriteScore(context, member.Score);
                }
            }

            return;
        }

        List<ScoredMember> chosen = [.. set.Items];
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(chosen));
        SortedSetReplies.WriteMembers(context, chosen[..(int)Math.Min(count, chosen.Count)], withScores);
    }
}
