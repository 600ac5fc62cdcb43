namespace Durable.Commands.SortedSets;

/// <summary>The sorted-set error texts, as Redis 7.0 words them.</summary>
internal static class SortedSetErrors
{
    public static ReadOnlySpan<byte> NxAndXx => "ERR XX and NX options at the same time are not compatible"u8;
    public static ReadOnlySpan<byte> GtLtNx => "ERR GT, LT, and/or NX options at the same time are not compatible"u8;
    public static ReadOnlySpan<byte> IncrSinglePair => "ERR INCR option supports a single increment-element pair"u8;
    public static ReadOnlySpan<byte> ScoreNaN => "ERR resulting score is not a number (NaN)"u8;
    public static ReadOnlySpan<byte> MinMaxNotFloat => "ERR min or max is not a float"u8;
    public static ReadOnlySpan<byte> MinMaxNotLex => "ERR min or max not valid string range item"u8;
    public static ReadOnlySpan<byte> LimitNeedsByScoreOrLex => "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"u8;
    public static ReadOnlySpan<byte> WithScoresByLex => "ERR syntax error, WITHSCORES not supported in combination with BYLEX"u8;
    public static ReadOnlySpan<byte> MustBePositive => "ERR value is out of range, must be positive"u8;
    public static ReadOnlySpan<byte> NumKeysPositive => "ERR numkeys should be greater than 0"u8;
    public static ReadOnlySpan<byte> CountPositive => "ERR count should be greater than 0"u8;
    public static ReadOnlySpan<byte> RandomCountRange => "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"u8;
    public static ReadOnlySpan<byte> OutOfRange => "ERR value is out of range"u8;
    public static ReadOnlySpan<byte> WeightNotFloat => "ERR weight value is not a float"u8;
    public static ReadOnlySpan<byte> LimitNegative => "ERR LIMIT can't be negative"u8;
}
