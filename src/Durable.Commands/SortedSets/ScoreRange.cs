namespace Durable.Commands.SortedSets;

/// <summary>A score interval as ZRANGEBYSCORE takes it: each bound a strtod number, exclusive when prefixed by '('.</summary>
internal readonly record struct ScoreRange(double Min, bool MinExclusive, double Max, bool MaxExclusive)
{
    /// <summary>Redis zslParseRange; false for "ERR min or max is not a float".</summary>
    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ScoreRange range)
    {
        range = default;
        if (!TryParseBound(min, out double low, out bool lowExclusive) || !TryParseBound(max, out double high, out bool highExclusive))
        {
            return false;
        }

        range = new ScoreRange(low, lowExclusive, high, highExclusive);
        return true;
    }

    public bool AboveMin(double score) => MinExclusive ? score > Min : score >= Min;

    public bool BelowMax(double score) => MaxExclusive ? score < Max : score <= Max;

    /// <summary>The ranks [first, end) of the members of <paramref name="set"/> in this range.</summary>
    public (int First, int End) Ranks(SortedSetValue set)
    {
        List<ScoredMember> items = set.Items;
        int first = 0;
        while (first < items.Count && !AboveMin(items[first].Score))
        {
            first++;
        }

        int end = first;
        while (end < items.Count && BelowMax(items[end].Score))
        {
            end++;
        }

        return (first, end);
    }

    private static bool TryParseBound(ReadOnlySpan<byte> text, out double value, out bool exclusive)
    {
        exclusive = !text.IsEmpty && text[0] == (byte)'(';
        return ScoreText.TryParseBound(exclusive ? text[1..] : text, out value) && !double.IsNaN(value);
    }
}
