using Durable.Commands.Collections;
using Durable.Commands.PubSub;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.SortedSets;

/// <summary>
/// ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD. Inputs may be sorted sets or plain sets (each member
/// scoring 1); results are ordered as a sorted set.
/// </summary>
internal static class SortedSetAlgebraCommands
{
    private enum Operation
    {
        Union,
        Inter,
        Diff,
    }

    private enum Aggregate
    {
        Sum,
        Min,
        Max,
    }

    public static void Register(CommandTable table)
    {
        string[] read = ["read", "sortedset", "slow"];
        string[] write = ["write", "sortedset", "slow"];
        const CommandFlags Store = CommandFlags.Write | CommandFlags.DenyOom;
        table.Add("ZUNION", -3, CommandFlags.ReadOnly, (c, a) => Combine(c, a, Operation.Union, store: false), categories: read, findKeys: KeyArguments.NumKeys(1));
        table.Add("ZINTER", -3, CommandFlags.ReadOnly, (c, a) => Combine(c, a, Operation.Inter, store: false), categories: read, findKeys: KeyArguments.NumKeys(1));
        table.Add("ZDIFF", -3, CommandFlags.ReadOnly, (c, a) => Combine(c, a, Operation.Diff, store: false), categories: read, findKeys: KeyArguments.NumKeys(1));
        table.Add("ZUNIONSTORE", -4, Store, (c, a) => Combine(c, a, Operation.Union, store: true), 1, 1, 1, write, KeyArguments.NumKeys(2, destination: true));
        table.Add("ZINTERSTORE", -4, Store, (c, a) => Combine(c, a, Operation.Inter, store: true), 1, 1, 1, write, KeyArguments.NumKeys(2, destination: true));
        table.Add("ZDIFFSTORE", -4, Store, (c, a) => Combine(c, a, Operation.Diff, store: true), 1, 1, 1, write, KeyArguments.NumKeys(2, destination: true));
        table.Add("ZINTERCARD", -3, CommandFlags.ReadOnly, ZInterCard, categories: read, findKeys: KeyArguments.NumKeys(1));
    }

    /// <summary>
    /// Redis zunionInterDiffGenericCommand: numkeys, then every input's type, then WEIGHTS, AGGREGATE and WITHSCORES
    /// (the last of each wins; WEIGHTS and AGGREGATE not for ZDIFF, WITHSCORES not for the STORE forms).
    /// </summary>
    private static void Combine(CommandContext context, RespArgs args, Operation operation, bool store)
    {
        int numKeysIndex = store ? 2 : 1;
        if (!TryReadSources(context, args, numKeysIndex, out List<Source> sources))
        {
            return;
        }

        Aggregate aggregate = Aggregate.Sum;
        bool withScores = false;
        int i = numKeysIndex + 1 + sources.Count;
        while (i < args.Count)
        {
            int remaining = args.Count - i;
            if (operation != Operation.Diff && remaining >= sources.Count + 1 && args.Is(i, "WEIGHTS"u8))
            {
                i++;
                foreach (Source source in sources)
                {
                    if (!ScoreText.TryParse(args[i++], out double weight))
                    {
                        context.WriteError(SortedSetErrors.WeightNotFloat);
                        return;
                    }

                    source.Weight = weight;
                }
            }
            else if (operation != Operation.Diff && remaining >= 2 && args.Is(i, "AGGREGATE"u8))
            {
                if (args.Is(i + 1, "SUM"u8))
                {
                    aggregate = Aggregate.Sum;
                }
                else if (args.Is(i + 1, "MIN"u8))
                {
                    aggregate = Aggregate.Min;
                }
                else if (args.Is(i + 1, "MAX"u8))
                {
                    aggregate = Aggregate.Max;
                }
                else
                {
                    context.WriteSyntaxError();
                    return;
                }

                i += 2;
            }
            else if (!store && args.Is(i, "WITHSCORES"u8))
            {
                withScores = true;
                i++;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        SortedSetValue result = operation switch
        {
            Operation.Union => Union(sources, aggregate),
            Operation.Inter => Inter(sources, aggregate),
            _ => Diff(sources),
        };

        if (!store)
        {
            SortedSetReplies.WriteMembers(context, result.Items, withScores);
            return;
        }

        result.WithLimits(context.Server.Config).ShrinkIfSmall();
        if (result.Count == 0)
        {
            CollectionRecords.DeleteDestination(context, args[1]);
            context.WriteInteger(0);
        }
        else if (result.Save(context, args[1], 0))
        {
            context.Notify(
                KeyspaceEventClass.SortedSet, operation switch { Operation.Union => "zunionstore"u8, Operation.Inter => "zinterstore"u8, _ => "zdiffstore"u8 }, args[1]);
            context.WriteInteger(result.Count);
        }
    }

    /// <summary>Redis zinterCardCommand: numkeys, the inputs' types, then LIMIT (0 for none); counts up to the limit.</summary>
    private static void ZInterCard(CommandContext context, RespArgs args)
    {
        if (!TryReadSources(context, args, 1, out List<Source> sources))
        {
            return;
        }

        long limit = 0;
        int i = 2 + sources.Count;
        while (i < args.Count)
        {
            if (args.Count - i >= 2 && args.Is(i, "LIMIT"u8))
            {
                if (!RedisNumber.TryParseInt64(args[i + 1], out limit) || limit < 0)
                {
                    context.WriteError(SortedSetErrors.LimitNegative);
                    return;
                }

                i += 2;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        long count = 0;
        foreach (ScoredMember member in Intersection(sources))
        {
            count++;
            if (count == limit)
            {
                break;
            }
        }

        context.WriteInteger(count);
    }

    // Redis reads every input with lookupKeyRead, so each counts a keyspace hit or miss, for the STORE forms too.
    private static bool TryReadSources(CommandContext context, RespArgs args, int numKeysIndex, out List<Source> sources)
    {
        sources = [];
        if (!RedisNumber.TryParseInt64(args[numKeysIndex], out long count))
        {
            context.WriteNotInteger();
            return false;
        }

        if (count < 1)
        {
            context.WriteError($"ERR at least 1 input key is needed for '{System.Text.Encoding.ASCII.GetString(args[0]).ToLowerInvariant()}' command");
            return false;
        }

        if (count > args.Count - numKeysIndex - 1)
        {
            context.WriteSyntaxError();
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> key = args[numKeysIndex + 1 + i];
            ReadResult read = SortedSetValue.Read(context, key, countStats: true, out SortedSetValue set, out StoredRecord record);
            if (read == ReadResult.WrongType && record.Type == RecordType.Set)
            {
                // A plain set counts as a sorted set whose members all score 1.
                Sets.SetRecords.Read(context, key, countStats: false, out Sets.SetMembers plain, out _);
                List<byte[]> members = plain.Items;
                set = new SortedSetValue(capacity: members.Count);
                members.Sort((left, right) => left.AsSpan().SequenceCompareTo(right));
                foreach (byte[] member in members)
                {
                    set.Items.Add(new ScoredMember(member, 1));
                }
            }
            else if (read == ReadResult.WrongType)
            {
                context.WriteWrongType();
                return false;
            }

            sources.Add(new Source(set));
        }

        return true;
    }

    /// <summary>Redis adds inputs in ascending size (a stable sort), which decides the order of floating-point sums.</summary>
    private static SortedSetValue Union(List<Source> sources, Aggregate aggregate)
    {
        Dictionary<byte[], double> scores = new(ByteArrayComparer.Instance);
        List<byte[]> order = [];
        foreach (Source source in sources.OrderBy(s => s.Set.Count))
        {
            foreach (ScoredMember member in source.Set.Items)
            {
                double score = Weighted(source, member.Score);
                if (scores.TryGetValue(member.Member, out double existing))
                {
                    scores[member.Member] = Combine(existing, score, aggregate);
                }
                else
                {
                    scores.Add(member.Member, score);
                    order.Add(member.Member);
                }
            }
        }

        return Build(order.Select(member => new ScoredMember(member, scores[member])));
    }

    private static SortedSetValue Inter(List<Source> sources, Aggregate aggregate)
    {
        List<Source> ordered = [.. sources.OrderBy(s => s.Set.Count)];
        List<ScoredMember> result = [];
        foreach (ScoredMember member in Intersection(ordered))
        {
            double score = Weighted(ordered[0], member.Score);
            for (int j = 1; j < ordered.Count; j++)
            {
                ordered[j].Set.TryGetScore(member.Member, out double value);
                score = Combine(score, value * ordered[j].Weight, aggregate);
            }

            result.Add(new ScoredMember(member.Member, score));
        }

        return Build(result);
    }

    /// <summary>The members of the smallest input found in every other input, in that input's order.</summary>
    private static IEnumerable<ScoredMember> Intersection(List<Source> sources)
    {
        Source smallest = sources.MinBy(s => s.Set.Count)!;
        foreach (ScoredMember member in smallest.Set.Items)
        {
            if (sources.TrueForAll(s => s == smallest || s.Set.TryGetScore(member.Member, out _)))
            {
                yield return member;
            }
        }
    }

    private static SortedSetValue Diff(List<Source> sources) =>
        Build(sources[0].Set.Items.Where(member => !sources.Skip(1).Any(s => s.Set.TryGetScore(member.Member, out _))));

    // Redis builds the result as a skiplist (keeping -0) and converts a stored result to a listpack when it is small.
    private static SortedSetValue Build(IEnumerable<ScoredMember> members)
    {
        SortedSetValue result = new(large: true);
        foreach (ScoredMember member in members)
        {
            result.Insert(member.Member, member.Score);
        }

        return result;
    }

    // Redis: a weight times a score that is NaN (0 * inf) counts as 0.
    private static double Weighted(Source source, double score)
    {
        double value = source.Weight * score;
        return double.IsNaN(value) ? 0 : value;
    }

    // Redis zunionInterAggregate: a NaN sum (inf + -inf) is 0.
    private static double Combine(double target, double value, Aggregate aggregate)
    {
        switch (aggregate)
        {
            case Aggregate.Sum:
                double sum = target + value;
                return double.IsNaN(sum) ? 0 : sum;
            case Aggregate.Min:
                return value < target ? value : target;
            default:
                return value > target ? value : target;
        }
    }

    private sealed class Source(SortedSetValue set)
    {
        public SortedSetValue Set { get; } = set;

        public double Weight { get; set; } = 1;
    }
}
