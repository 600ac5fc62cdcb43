using Durable.Commands.PubSub;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.SortedSets;

/// <summary>
/// ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT; registers the whole family.
/// Every command reads the set whole and, when it changed, writes it back keeping the key's TTL.
/// </summary>
internal static class SortedSetCommands
{
    private static readonly string[] s_writeFast = ["write", "sortedset", "fast"];
    private static readonly string[] s_readFast = ["read", "sortedset", "fast"];

    public static void Register(CommandTable table)
    {
        table.Add("ZADD", -4, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, ZAdd, 1, 1, 1, s_writeFast).Warm = WarmAdd;
        table.Add("ZINCRBY", 4, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, ZIncrBy, 1, 1, 1, s_writeFast).Warm = WarmIncrBy;
        table.Add("ZREM", -3, CommandFlags.Write | CommandFlags.Fast, ZRem, 1, 1, 1, s_writeFast).Warm = WarmPlaces;
        table.Add("ZCARD", 2, CommandFlags.ReadOnly | CommandFlags.Fast, ZCard, 1, 1, 1, s_readFast);
        table.Add("ZSCORE", 3, CommandFlags.ReadOnly | CommandFlags.Fast, ZScore, 1, 1, 1, s_readFast).Warm = WarmScores;
        table.Add("ZMSCORE", -3, CommandFlags.ReadOnly | CommandFlags.Fast, ZMScore, 1, 1, 1, s_readFast).Warm = WarmScores;
        table.Add("ZRANK", 3, CommandFlags.ReadOnly | CommandFlags.Fast, ZRank, 1, 1, 1, s_readFast).Warm = WarmPlaces;
        table.Add("ZREVRANK", 3, CommandFlags.ReadOnly | CommandFlags.Fast, ZRevRank, 1, 1, 1, s_readFast).Warm = WarmPlaces;
        table.Add("ZCOUNT", 4, CommandFlags.ReadOnly | CommandFlags.Fast, ZCount, 1, 1, 1, s_readFast);
        table.Add("ZLEXCOUNT", 4, CommandFlags.ReadOnly | CommandFlags.Fast, ZLexCount, 1, 1, 1, s_readFast);
        SortedSetRangeCommands.Register(table);
        SortedSetPopCommands.Register(table);
        SortedSetAlgebraCommands.Register(table);
        SortedSetScanCommands.Register(table);
    }

    /// <summary>
    /// Redis zaddGenericCommand: options, then an even, non-zero number of score/member arguments (else syntax error),
    /// then the option conflicts, then every score, then the key's type.
    /// </summary>
    private static void ZAdd(CommandContext context, RespArgs args)
    {
        int index = ParseAddFlags(args, out AddFlags flags);
        int elements = args.Count - index;
        if (elements == 0 || elements % 2 != 0)
        {
            context.WriteSyntaxError();
            return;
        }

        elements /= 2;
        if (flags.HasFlag(AddFlags.Nx) && flags.HasFlag(AddFlags.Xx))
        {
            context.WriteError(SortedSetErrors.NxAndXx);
            return;
        }

        if ((flags.HasFlag(AddFlags.Nx) && (flags & (AddFlags.Gt | AddFlags.Lt)) != 0) || (flags.HasFlag(AddFlags.Gt) && flags.HasFlag(AddFlags.Lt)))
        {
            context.WriteError(SortedSetErrors.GtLtNx);
            return;
        }

        if (flags.HasFlag(AddFlags.Incr) && elements > 1)
        {
            context.WriteError(SortedSetErrors.IncrSinglePair);
            return;
        }

        double[] scores = new double[elements];
        for (int i = 0; i < elements; i++)
        {
            if (!ScoreText.TryParse(args[index + (2 * i)], out scores[i]))
            {
                context.WriteError(RespErrors.NotFloat);
                return;
            }
        }

        AddMembers(context, args, index, scores, flags);
    }

    // ZADD's options: the index of the first score.
    private static int ParseAddFlags(RespArgs args, out AddFlags flags)
    {
        flags = AddFlags.None;
        int index = 2;
        for (; index < args.Count; index++)
        {
            AddFlags flag = args.Is(index, "NX"u8) ? AddFlags.Nx
                : args.Is(index, "XX"u8) ? AddFlags.Xx
                : args.Is(index, "CH"u8) ? AddFlags.Ch
                : args.Is(index, "INCR"u8) ? AddFlags.Incr
                : args.Is(index, "GT"u8) ? AddFlags.Gt
                : args.Is(index, "LT"u8) ? AddFlags.Lt
                : AddFlags.None;
            if (flag == AddFlags.None)
            {
                break;
            }

            flags |= flag;
        }

        return index;
    }

    // Warming (CommandDefinition.Warm) for a set in part records: each member's map bucket, the leaf it leaves and the
    // leaf it joins.
    private static void WarmAdd(CommandContext context, RespArgs args)
    {
        int index = ParseAddFlags(args, out AddFlags flags);
        if (WarmedTree(context, args) is not { } tree)
        {
            return;
        }

        for (int i = index; i + 1 < args.Count; i += 2)
        {
            if (ScoreText.TryParse(args[i], out double score))
            {
                WarmMove(tree, args[i + 1], score, flags.HasFlag(AddFlags.Incr));
            }
        }
    }

    private static void WarmIncrBy(CommandContext context, RespArgs args)
    {
        if (WarmedTree(context, args) is { } tree && ScoreText.TryParse(args[2], out double increment))
        {
            WarmMove(tree, args[3], increment, increment: true);
        }
    }

    private static void WarmMove(SortedSetTree tree, ReadOnlySpan<byte> member, double score, bool increment)
    {
        if (tree.TryGetScore(member, out double current))
        {
            tree.LoadPath(current, member);
            score = increment ? current + score : score;
        }

        tree.LoadPath(score, member);
    }

    // ZREM, ZRANK, ZREVRANK: the buckets of the members named from args[2], and the leaves that hold them.
    private static void WarmPlaces(CommandContext context, RespArgs args)
    {
        if (WarmedTree(context, args) is not { } tree)
        {
            return;
        }

        for (int i = 2; i < args.Count; i++)
        {
            if (tree.TryGetScore(args[i], out double score))
            {
                tree.LoadPath(score, args[i]);
            }
        }
    }

    private static void WarmScores(CommandContext context, RespArgs args)
    {
        if (WarmedTree(context, args) is not { } tree)
        {
            return;
        }

        for (int i = 2; i < args.Count; i++)
        {
            tree.TryGetScore(args[i], out _);
        }
    }

    // The tree of args[1] when it is a sorted set in part records (a compact one is read whole with its key's record).
    private static SortedSetTree? WarmedTree(CommandContext context, RespArgs args) =>
        SortedSetValue.Read(context, args[1], countStats: false, out SortedSetValue set, out _) == ReadResult.Found ? set.Tree : null;

    private static void ZIncrBy(CommandContext context, RespArgs args)
    {
        // Redis runs ZINCRBY through ZADD's parser, so an increment that reads as a ZADD flag (ZINCRBY key NX m)
        // leaves an odd number of arguments: a syntax error, before the increment or the key is looked at.
        if (ParseAddFlags(args, out _) != 2)
        {
            context.WriteSyntaxError();
            return;
        }

        if (!ScoreText.TryParse(args[2], out double increment))
        {
            context.WriteError(RespErrors.NotFloat);
            return;
        }

        AddMembers(context, args, 2, [increment], AddFlags.Incr);
    }

    /// <summary>
    /// Redis zsetAdd for each pair, then the reply: the new score for INCR (nil when nothing was done), else a count.
    /// ZADD's work, also GEOADD's: member i is argument index + stride × i + stride - 1 (ZADD's score-member pairs have stride 2,
    /// GEOADD's longitude-latitude-member triples 3), its score <paramref name="scores"/>[i].
    /// </summary>
    internal static void AddMembers(CommandContext context, RespArgs args, int index, double[] scores, AddFlags flags, int stride = 2)
    {
        ReadOnlySpan<byte> key = args[1];
        ReadResult read = SortedSetValue.Read(context, key, countStats: false, out SortedSetValue set, out StoredRecord record);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        bool incr = flags.HasFlag(AddFlags.Incr);
        if (read == ReadResult.Missing)
        {
            if (flags.HasFlag(AddFlags.Xx))
            {
                WriteAddReply(context, incr, processed: false, 0, 0);
                return;
            }

            // Redis 7.0 zaddGenericCommand: a new key starts as a skiplist when its first member is too long for a listpack.
            set.Large = SortedSetValue.StartsLarge(context.Server.Config, args[index + stride - 1].Length);
        }

        long added = 0;
        long updated = 0;
        bool processed = false;
        double result = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            ReadOnlySpan<byte> member = args[index + (stride * i) + stride - 1];
            double score = scores[i];
            if (set.TryGetScore(member, out double current))
            {
                if (flags.HasFlag(AddFlags.Nx))
                {
                    continue;
                }

                if (incr)
                {
                    score += current;
                    if (double.IsNaN(score))
                    {
                        context.WriteError(SortedSetErrors.ScoreNaN);
                        return;
                    }
                }

                if ((flags.HasFlag(AddFlags.Lt) && score >= current) || (flags.HasFlag(AddFlags.Gt) && score <= current))
                {
                    continue;
                }

                processed = true;
                result = score;
                if (score != current)
                {
                    set.Update(member, current, score);
                    updated++;
                }
            }
            else if (!flags.HasFlag(AddFlags.Xx))
            {
                set.Insert(member.ToArray(), score);
                processed = true;
                result = score;
                added++;
            }
        }

        if (added > 0 || updated > 0)
        {
            if (!set.Save(context, key, read == ReadResult.Found ? record.ExpiresAtMs : 0))
            {
                return;
            }

            context.Notify(KeyspaceEventClass.SortedSet, incr ? "zincr"u8 : "zadd"u8, key);
        }

        WriteAddReply(context, incr, processed, flags.HasFlag(AddFlags.Ch) ? added + updated : added, result);
    }

    private static void WriteAddReply(CommandContext context, bool incr, bool processed, long count, double score)
    {
        if (!incr)
        {
            context.WriteInteger(count);
        }
        else if (processed)
        {
            SortedSetReplies.WriteScore(context, score);
        }
        else
        {
            context.WriteNull();
        }
    }

    private static void ZRem(CommandContext context, RespArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        ReadResult read = SortedSetValue.Read(context, key, countStats: false, out SortedSetValue set, out StoredRecord record);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        long removed = 0;
        for (int i = 2; i < args.Count && set.Count > 0; i++)
        {
            removed += set.Remove(args[i]) ? 1 : 0;
        }

        if (removed > 0)
        {
            if (!set.Save(context, key, record.ExpiresAtMs))
            {
                return;
            }

            context.NotifyCollectionWrite(KeyspaceEventClass.SortedSet, "zrem"u8, key, set.Count);
        }

        context.WriteInteger(removed);
    }

    private static void ZCard(CommandContext context, RespArgs args)
    {
        if (TryRead(context, args[1], out SortedSetValue set))
        {
            context.WriteInteger(set.Count);
        }
    }

    private static void ZScore(CommandContext context, RespArgs args)
    {
        if (!TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        if (set.TryGetScore(args[2], out double score))
        {
            SortedSetReplies.WriteScore(context, score);
        }
        else
        {
            context.WriteNull();
        }
    }

    private static void ZMScore(CommandContext context, RespArgs args)
    {
        if (!TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        context.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (set.TryGetScore(args[i], out double score))
            {
                SortedSetReplies.WriteScore(context, score);
            }
            else
            {
                context.WriteNull();
            }
        }
    }

    private static void ZRank(CommandContext context, RespArgs args) => Rank(context, args, reverse: false);

    private static void ZRevRank(CommandContext context, RespArgs args) => Rank(context, args, reverse: true);

    private static void Rank(CommandContext context, RespArgs args, bool reverse)
    {
        if (!TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        if (!set.TryGetScore(args[2], out double score))
        {
            context.WriteNull();
            return;
        }

        int rank = set.RankOf(args[2], score);
        context.WriteInteger(reverse ? set.Count - 1 - rank : rank);
    }

    private static void ZCount(CommandContext context, RespArgs args) =>
        Count(context, args, ScoreRange.TryParse(args[2], args[3], out ScoreRange range) ? range : null, SortedSetErrors.MinMaxNotFloat);

    private static void ZLexCount(CommandContext context, RespArgs args) =>
        Count(context, args, LexRange.TryParse(args[2], args[3], out LexRange range) ? range : null, SortedSetErrors.MinMaxNotLex);

    /// <summary>The range is parsed (null: <paramref name="error"/>) before the key's type is checked, as in Redis.</summary>
    private static void Count(CommandContext context, RespArgs args, IMemberRange? range, ReadOnlySpan<byte> error)
    {
        if (range is null)
        {
            context.WriteError(error);
            return;
        }

        if (TryRead(context, args[1], out SortedSetValue set))
        {
            (int first, int end) = set.Ranks(range);
            context.WriteInteger(end - first);
        }
    }

    /// <summary>Reads the set for a read command (counting a keyspace hit or miss); writes WRONGTYPE and returns false for another type.</summary>
    internal static bool TryRead(CommandContext context, ReadOnlySpan<byte> key, out SortedSetValue set)
    {
        if (SortedSetValue.Read(context, key, countStats: true, out set, out _) == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return false;
        }

        return true;
    }

    [Flags]
    internal enum AddFlags
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Ch = 4,
        Incr = 8,
        Gt = 16,
        Lt = 32,
    }
}
