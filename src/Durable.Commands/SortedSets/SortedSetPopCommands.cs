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
        table.Add("ZMPOP", -4, CommandFlags.Write, ZMPop, categories: ["write", "sortedset", "slow"], findKeys: NumKeys.Keys(1));
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

    /// <summary>
    /// Redis zmpopGenericCommand: numkeys (1 or more), the keys, MIN or MAX, then COUNT once (1 or more); then the
    /// first key that holds a set (a key of another type is WRONGTYPE) gives [key, [[member, score], ...]], else nil.
    /// </summary>
    private static void ZMPop(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[1], out long keys) || keys < 1)
        {
            context.WriteError(SortedSetErrors.NumKeysPositive);
            return;
        }

        long whereIndex = 2 + keys;
        if (whereIndex >= args.Count)
        {
            context.WriteSyntaxError();
            return;
        }

        bool max = args.Is((int)whereIndex, "MAX"u8);
        if (!max && !args.Is((int)whereIndex, "MIN"u8))
        {
            context.WriteSyntaxError();
            return;
        }

        long count = -1;
        for (int i = (int)whereIndex + 1; i < args.Count; i++)
        {
            if (count == -1 && args.Is(i, "COUNT"u8) && i + 1 < args.Count)
            {
                if (!RedisNumber.TryParseInt64(args[i + 1], out count) || count < 1)
                {
                    context.WriteError(SortedSetErrors.CountPositive);
                    return;
                }

                i++;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        for (int i = 2; i < whereIndex; i++)
        {
            ReadResult read = SortedSetPop.Pop(context, args[i], max, Math.Max(count, 1), out List<ScoredMember> popped);
            if (read == ReadResult.WrongType)
            {
                context.WriteWrongType();
                return;
            }

            if (read == ReadResult.Found)
            {
                context.WriteArrayHeader(2);
                context.WriteBulk(args[i]);
                SortedSetReplies.WriteMembers(context, popped, withScores: true, nested: true);
                return;
            }

            if (context.ErrorWritten)
            {
                return;
            }
        }

        context.WriteNullArray();
    }

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
                    context.WriteBulk(one.Items[Random.Shared.Next(one.Count)].Member);
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
            // Members may repeat: written as drawn, so the reply is never held whole in memory.
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
