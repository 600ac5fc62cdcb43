namespace Durable.Commands.SortedSets;

/// <summary>
/// A member interval as ZRANGEBYLEX takes it: "-" and "+" are the lowest and highest strings, "[x" includes x and
/// "(x" excludes it. Compared by memcmp, which is the set's order among equal scores.
/// </summary>
internal sealed class LexRange : IMemberRange
{
    private readonly byte[] _min;
    private readonly byte[] _max;
    private readonly Bound _minKind;
    private readonly Bound _maxKind;

    private LexRange(Bound minKind, byte[] min, Bound maxKind, byte[] max)
    {
        _minKind = minKind;
        _min = min;
        _maxKind = maxKind;
        _max = max;
    }

    private enum Bound
    {
        Inclusive,
        Exclusive,
        Lowest,
        Highest,
    }

    /// <summary>Redis zslParseLexRange; false for "ERR min or max not valid string range item".</summary>
    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out LexRange range)
    {
        range = null!;
        if (!TryParseItem(min, out Bound minKind, out byte[] low) || !TryParseItem(max, out Bound maxKind, out byte[] high))
        {
            return false;
        }

        range = new LexRange(minKind, low, maxKind, high);
        return true;
    }

    public bool AboveMin(ScoredMember member) => _minKind switch
    {
        Bound.Lowest => true,
        Bound.Highest => false,
        Bound.Exclusive => member.Member.AsSpan().SequenceCompareTo(_min) > 0,
        _ => member.Member.AsSpan().SequenceCompareTo(_min) >= 0,
    };

    public bool BelowMax(ScoredMember member) => _maxKind switch
    {
        Bound.Highest => true,
        Bound.Lowest => false,
        Bound.Exclusive => member.Member.AsSpan().SequenceCompareTo(_max) < 0,
        _ => member.Member.AsSpan().SequenceCompareTo(_max) <= 0,
    };

    private static bool TryParseItem(ReadOnlySpan<byte> text, out Bound kind, out byte[] value)
    {
        value = [];
        kind = Bound.Inclusive;
        if (text.IsEmpty)
        {
            return false;
        }

        switch (text[0])
        {
            case (byte)'+' when text.Length == 1:
                kind = Bound.Highest;
                return true;
            case (byte)'-' when text.Length == 1:
                kind = Bound.Lowest;
                return true;
            case (byte)'(':
                kind = Bound.Exclusive;
                value = text[1..].ToArray();
                return true;
            case (byte)'[':
                value = text[1..].ToArray();
                return true;
            default:
                return false;
        }
    }
}
