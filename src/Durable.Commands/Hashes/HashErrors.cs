namespace Durable.Commands.Hashes;

/// <summary>
/// Error texts of the hash commands, as Redis 7.0 words them. Kept in the family's folder rather than in RespErrors
/// while the collection families are built in parallel (RespErrors is a shared file).
/// </summary>
internal static class HashErrors
{
    public static ReadOnlySpan<byte> NotInteger => "ERR hash value is not an integer"u8;
    public static ReadOnlySpan<byte> NotFloat => "ERR hash value is not a float"u8;
    public static ReadOnlySpan<byte> IncrementNaNOrInfinity => "ERR value is NaN or Infinity"u8;
    public static ReadOnlySpan<byte> CountOutOfRange => "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"u8;
    public static ReadOnlySpan<byte> CountWithValuesOutOfRange => "ERR value is out of range"u8;
}
