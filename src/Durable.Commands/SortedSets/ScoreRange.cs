namespace Durable.Commands.SortedSets;

/// <summary>A score interval as ZRANGEBYSCORE takes it: each bound a strtod number, exclusive when prefixed by '('.</summary>
internal readonly record struct ScoreRange(double Min, bool MinExclusive, double Max, bool MaxExclusive) : IMemberRange
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

    public bool AboveMin(ScoredMember member) => MinExclusive ? member.Score > Min : member.Score >= Min;

    public bool BelowMax(ScoredMember member) => MaxExclusive ? member.Score < Max : member.Score <= Max;

    private static bool TryParseBound(ReadOnlySpan<byte> text, out double value, out bool exclusive)
    {
        exclusive = !text.IsEmpty && text[0] == (byte)'(';
        return ScoreText.TryParseBound(exclusive ? text[1..] : text, out value) && !double.IsNaN(value);
    }
}
