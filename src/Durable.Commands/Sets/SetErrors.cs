namespace Durable.Commands.Sets;

/// <summary>Error texts of the set commands, as Redis 7.0 words them.</summary>
internal static class SetErrors
{
    public static ReadOnlySpan<byte> NumKeysNotPositive => "ERR numkeys should be greater than 0"u8;

    public static ReadOnlySpan<byte> TooManyKeys => "ERR Number of keys can't be greater than number of args"u8;

    public static ReadOnlySpan<byte> NegativeLimit => "ERR LIMIT can't be negative"u8;

    /// <summary>Redis getPositiveLongFromObjectOrReply, also for a count that is not an integer.</summary>
    public static ReadOnlySpan<byte> NotPositive => "ERR value is out of range, must be positive"u8;

    /// <summary>Redis getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): only LLONG_MIN is out of that range.</summary>
    public static ReadOnlySpan<byte> CountOutOfRange => "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"u8;
}
