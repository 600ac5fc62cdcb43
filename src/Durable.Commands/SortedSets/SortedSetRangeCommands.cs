using Durable.Commands.Collections;
using Durable.Commands.PubSub;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.SortedSets;

/// <summary>
/// ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE, the older ZRANGEBYSCORE, ZREVRANGEBYSCORE,
/// ZRANGEBYLEX, ZREVRANGEBYLEX, ZREVRANGE, and ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.
/// </summary>
internal static class SortedSetRangeCommands
{
    private static readonly string[] s_read = ["read", "sortedset", "slow"];
    private static readonly string[] s_write = ["write", "sortedset", "slow"];

    private enum RangeKind
    {
        Auto,
        Rank,
        Score,
        Lex,
    }

    public static void Register(CommandTable table)
    {
        table.Add("ZRANGE", -4, CommandFlags.ReadOnly, (c, a) => Range(c, a, 1, RangeKind.Auto, null, store: false), 1, 1, 1, s_read);
        table.Add("ZRANGESTORE", -5, CommandFlags.Write | CommandFlags.DenyOom, (c, a) => Range(c, a, 2, RangeKind.Auto, null, store: true), 1, 2, 1, s_write);
        table.Add("ZRANGEBYSCORE", -4, CommandFlags.ReadOnly, (c, a) => Range(c, a, 1, RangeKind.Score, false, store: false), 1, 1, 1, s_read);
        table.Add("ZREVRANGEBYSCORE", -4, CommandFlags.ReadOnly, (c, a) => Range(c, a, 1, RangeKind.Score, true, store: false), 1, 1, 1, s_read);
        table.Add("ZRANGEBYLEX", -4, CommandFlags.ReadOnly, (c, a) => Range(c, a, 1, RangeKind.Lex, false, store: false), 1, 1, 1, s_read);
        table.Add("ZREVRANGEBYLEX", -4, CommandFlags.ReadOnly, (c, a) => Range(c, a, 1, RangeKind.Lex, true, store: false), 1, 1, 1, s_read);
        table.Add("ZREVRANGE", -4, CommandFlags.ReadOnly, (c, a) => Range(c, a, 1, RangeKind.Rank, true, store: false), 1, 1, 1, s_read);
        table.Add("ZREMRANGEBYRANK", 4, CommandFlags.Write, (c, a) => RemoveRange(c, a, RangeKind.Rank), 1, 1, 1, s_write);
        table.Add("ZREMRANGEBYSCORE", 4, CommandFlags.Write, (c, a) => RemoveRange(c, a, RangeKind.Score), 1, 1, 1, s_write);
        table.Add("ZREMRANGEBYLEX", 4, CommandFlags.Write, (c, a) => RemoveRange(c, a, RangeKind.Lex), 1, 1, 1, s_write);
    }

    /// <summary>
    /// Redis zrangeGenericCommand: options left to right (REV, BYSCORE and BYLEX only where the command leaves them
    /// open, and only once), then the LIMIT and WITHSCORES conflicts, then the range, then the key's type.
    /// <paramref name="keyIndex"/> is the source key; the range follows it.
    /// </summary>
    private static void Range(CommandContext context, RespArgs args, int keyIndex, RangeKind kind, bool? reverse, bool store)
    {
        bool withScores = false;
        bool limited = false;
        long offset = 0;
        long limit = -1;
        for (int i = keyIndex + 3; i < args.Count; i++)
        {
            int left = args.Count - i - 1;
            if (!store && args.Is(i, "WITHSCORES"u8))
            {
                withScores = true;
            }
            else if (args.Is(i, "LIMIT"u8) && left >= 2)
            {
                if (!RedisNumber.TryParseInt64(args[i + 1], out offset) || !RedisNumber.TryParseInt64(args[i + 2], out limit))
                {
                    context.WriteNotInteger();
                    return;
                }

                limited = limit != -1;
                i += 2;
            }
            else if (reverse is null && args.Is(i, "REV"u8))
            {
                reverse = true;
            }
            else if (kind == RangeKind.Auto && args.Is(i, "BYLEX"u8))
            {
                kind = RangeKind.Lex;
            }
            else if (kind == RangeKind.Auto && args.Is(i, "BYSCORE"u8))
            {
                kind = RangeKind.Score;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        bool rev = reverse ?? false;
        kind = kind == RangeKind.Auto ? RangeKind.Rank : kind;
        if (limited && kind == RangeKind.Rank)
        {
            context.WriteError(SortedSetErrors.LimitNeedsByScoreOrLex);
            return;
        }

        if (withScores && kind == RangeKind.Lex)
        {
            context.WriteError(SortedSetErrors.WithScoresByLex);
            return;
        }

        // BYSCORE and BYLEX with REV take the range as max, min.
        bool swap = rev && kind != RangeKind.Rank;
        ReadOnlySpan<byte> low = args[keyIndex + (swap ? 2 : 1)];
        ReadOnlySpan<byte> high = args[keyIndex + (swap ? 1 : 2)];
        if (!TryParseRange(context, kind, low, high, out Selection selection))
        {
            return;
        }

        if (!store)
        {
            if (SortedSetCommands.TryRead(context, args[keyIndex], out SortedSetValue source))
            {
                SortedSetReplies.WriteMembers(context, selection.Select(source, rev, offset, limit), withScores);
            }

            return;
        }

        ReadResult read = SortedSetValue.Read(context, args[keyIndex], countStats: true, out SortedSetValue set, out _);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        List<ScoredMember> selected = selection.Select(set, rev, offset, limit);
        // Redis 7.0 zrangeResultBeginStore: a skiplist from the start when a rank range is known to be too long.
        SortedSetValue destination = new SortedSetValue(kind == RangeKind.Rank && SortedSetValue.BuiltLarge(context.Server.Config, selected.Count), selected.Count)
            .WithLimits(context.Server.Config);
        foreach (ScoredMember member in selected)
        {
            destination.Insert(member.Member, member.Score);
        }

        if (destination.Count == 0)
        {
            CollectionRecords.DeleteDestination(context, args[1]);
            context.WriteInteger(0);
        }
        else if (destination.Save(context, args[1], 0))
        {
            context.Notify(KeyspaceEventClass.SortedSet, "zrangestore"u8, args[1]);
            context.WriteInteger(destination.Count);
        }
    }

    /// <summary>Redis zremrangeGenericCommand: the range first (rank integers, score or lex bounds), then the key's type.</summary>
    private static void RemoveRange(CommandContext context, RespArgs args, RangeKind kind)
    {
        if (!TryParseRange(context, kind, args[2], args[3], out Selection selection))
        {
            return;
        }

        ReadOnlySpan<byte> key = args[1];
        ReadResult read = SortedSetValue.Read(context, key, countStats: false, out SortedSetValue set, out StoredRecord record);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        (int first, int end) = selection.Ranks(set);
        if (end > first)
        {
            set.RemoveRange(first, end - first);
            if (!set.Save(context, key, record.ExpiresAtMs))
            {
                return;
            }

            context.NotifyCollectionWrite(
                KeyspaceEventClass.SortedSet,
                kind switch { RangeKind.Rank => "zremrangebyrank"u8, RangeKind.Score => "zremrangebyscore"u8, _ => "zremrangebylex"u8 },
                key,
                set.Count);
        }

        context.WriteInteger(Math.Max(0, end - first));
    }

    private static bool TryParseRange(CommandContext context, RangeKind kind, ReadOnlySpan<byte> low, ReadOnlySpan<byte> high, out Selection selection)
    {
        selection = default;
        switch (kind)
        {
            case RangeKind.Rank:
                if (!RedisNumber.TryParseInt64(low, out long start) || !RedisNumber.TryParseInt64(high, out long stop))
                {
                    context.WriteNotInteger();
                    return false;
                }

                selection = new Selection(kind, start, stop, default, null);
                return true;
            case RangeKind.Score:
                if (!ScoreRange.TryParse(low, high, out ScoreRange scores))
                {
                    context.WriteError(SortedSetErrors.MinMaxNotFloat);
                    return false;
                }

                selection = new Selection(kind, 0, 0, scores, null);
                return true;
            default:
                if (!LexRange.TryParse(low, high, out LexRange lex))
                {
                    context.WriteError(SortedSetErrors.MinMaxNotLex);
                    return false;
                }

                selection = new Selection(kind, 0, 0, default, lex);
                return true;
        }
    }

    /// <summary>A parsed range of one of the three kinds.</summary>
    private readonly record struct Selection(RangeKind Kind, long Start, long Stop, ScoreRange Scores, LexRange? Lex)
    {
        /// <summary>
        /// The ranks [first, end) the range covers, in forward order. Ranks as Redis normalises them: negative from the
        /// end, start clamped at 0, stop at the last member, empty when start is past stop or the end.
        /// </summary>
        public (int First, int End) Ranks(SortedSetValue set)
        {
            if (Kind != RangeKind.Rank)
            {
                return set.Ranks(Kind == RangeKind.Score ? Scores : Lex!);
            }

            long count = set.Count;
            long start = Start < 0 ? Start + count : Start;
            long stop = Stop < 0 ? Stop + count : Stop;
            start = Math.Max(0, start);
            if (start > stop || start >= count)
            {
                return (0, 0);
            }

            return ((int)start, (int)Math.Min(stop, count - 1) + 1);
        }

        /// <summary>
        /// The members the range selects, in reply order. A rank range counts from the end when reversed; score and
        /// lex ranges walk from the high end when reversed, then skip <paramref name="offset"/> and take
        /// <paramref name="limit"/> (negative: all; a negative offset selects nothing, as Redis's loop runs off the end).
        /// </summary>
        public List<ScoredMember> Select(SortedSetValue set, bool reverse, long offset, long limit)
        {
            if (Kind == RangeKind.Rank)
            {
                (int first, int end) = Ranks(set);
                return set.Slice(reverse ? set.Count - 1 - first : first, end - first, reverse);
            }

            if (set.Tree is null)
            {
                return set.WalkCompact(Kind == RangeKind.Score ? Scores : Lex!, reverse, offset, limit);
            }

            if (offset < 0)
            {
                return [];
            }

            // Upwards, Redis skips offset members unchecked and then takes them while below max: the same as skipping
            // within the range, members past it being past max too. One descent of the tree, no ranks.
            if (!reverse)
            {
                IEnumerable<ScoredMember> upwards = set.Ascending(Kind == RangeKind.Score ? Scores : Lex!).Skip((int)Math.Min(offset, int.MaxValue));
                return (limit < 0 ? upwards : upwards.Take((int)Math.Min(limit, int.MaxValue))).ToList();
            }

            (int low, int high) = Ranks(set);

            long available = Math.Max(0, high - low - offset);
            long take = limit < 0 ? available : Math.Min(limit, available);
            return take == 0 ? [] : set.Slice(reverse ? high - 1 - offset : low + offset, take, reverse);
        }
    }
}
