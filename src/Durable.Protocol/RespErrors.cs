namespace Durable.Protocol;

/// <summary>Error texts, without the leading '-' and trailing CRLF. Where Redis has the error, the text is Redis's, byte for byte.</summary>
public static class RespErrors
{
    public static ReadOnlySpan<byte> Syntax => "ERR syntax error"u8;
    public static ReadOnlySpan<byte> NotInteger => "ERR value is not an integer or out of range"u8;
    public static ReadOnlySpan<byte> NotFloat => "ERR value is not a valid float"u8;
    public static ReadOnlySpan<byte> WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value"u8;
    public static ReadOnlySpan<byte> NoSuchKey => "ERR no such key"u8;
    public static ReadOnlySpan<byte> Overflow => "ERR increment or decrement would overflow"u8;
    public static ReadOnlySpan<byte> DecrementOverflow => "ERR decrement would overflow"u8;
    public static ReadOnlySpan<byte> IncrFloatNaN => "ERR increment would produce NaN or Infinity"u8;
    public static ReadOnlySpan<byte> DbIndexOutOfRange => "ERR DB index is out of range"u8;
    public static ReadOnlySpan<byte> InvalidDbIndex => "ERR invalid DB index"u8;
    public static ReadOnlySpan<byte> SourceDestinationSame => "ERR source and destination objects are the same"u8;
    public static ReadOnlySpan<byte> InvalidExpireTime => "ERR invalid expire time in '{0}' command"u8;
    public static ReadOnlySpan<byte> InvalidCursor => "ERR invalid cursor"u8;
    public static ReadOnlySpan<byte> IntOutOfRange => "ERR value is out of range, value must between -2147483648 and 2147483647"u8;
    public static ReadOnlySpan<byte> ExpireNxWithOthers => "ERR NX and XX, GT or LT options at the same time are not compatible"u8;
    public static ReadOnlySpan<byte> ExpireGtAndLt => "ERR GT and LT options at the same time are not compatible"u8;
    public static ReadOnlySpan<byte> UnsupportedOptionPrefix => "ERR Unsupported option "u8;
    public static ReadOnlySpan<byte> LfuNotSelected => "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."u8;
    public static ReadOnlySpan<byte> StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)"u8;
    public static ReadOnlySpan<byte> OffsetOutOfRange => "ERR offset is out of range"u8;
    public static ReadOnlySpan<byte> LcsKeysNotStrings => "ERR The specified keys must contain string values"u8;
    public static ReadOnlySpan<byte> LcsLenWithIdx => "ERR If you want both the length and indexes, please just use IDX."u8;
    public static ReadOnlySpan<byte> LcsAllocationFailed => "ERR Insufficient memory, failed allocating transient memory for LCS"u8;
    public static ReadOnlySpan<byte> LcsTableTooLarge => "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"u8;
    public static ReadOnlySpan<byte> BitOffsetOutOfRange => "ERR bit offset is not an integer or out of range"u8;
    public static ReadOnlySpan<byte> BitNotInteger => "ERR bit is not an integer or out of range"u8;
    public static ReadOnlySpan<byte> BitArgumentNotBinary => "ERR The bit argument must be 1 or 0."u8;
    public static ReadOnlySpan<byte> BitOpNotSingleSource => "ERR BITOP NOT must be called with a single source key."u8;
    public static ReadOnlySpan<byte> BitFieldInvalidType => "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."u8;
    public static ReadOnlySpan<byte> BitFieldInvalidOverflow => "ERR Invalid OVERFLOW type specified"u8;
    public static ReadOnlySpan<byte> BitFieldReadOnlyGetOnly => "ERR BITFIELD_RO only supports the GET subcommand"u8;
    public static ReadOnlySpan<byte> MaxClients => "ERR max number of clients reached"u8;
    public static ReadOnlySpan<byte> NoProto => "NOPROTO unsupported protocol version"u8;
    public static ReadOnlySpan<byte> Loading => "LOADING Durable is loading the dataset in memory"u8;
    public static ReadOnlySpan<byte> TimeoutNotFloat => "ERR timeout is not a float or out of range"u8;

    public static ReadOnlySpan<byte> ProtocolInvalidMultibulkLength => "ERR Protocol error: invalid multibulk length"u8;
    public static ReadOnlySpan<byte> ProtocolInvalidBulkLength => "ERR Protocol error: invalid bulk length"u8;
    public static ReadOnlySpan<byte> ProtocolTooBigMultibulkCount => "ERR Protocol error: too big mbulk count string"u8;
    public static ReadOnlySpan<byte> ProtocolTooBigBulkCount => "ERR Protocol error: too big bulk count string"u8;
    public static ReadOnlySpan<byte> ProtocolTooBigInline => "ERR Protocol error: too big inline request"u8;
    public static ReadOnlySpan<byte> ProtocolUnbalancedQuotes => "ERR Protocol error: unbalanced quotes in request"u8;
    public static ReadOnlySpan<byte> ProtocolUnauthenticatedMultibulkLength => "ERR Protocol error: unauthenticated multibulk length"u8;
    public static ReadOnlySpan<byte> ProtocolUnauthenticatedBulkLength => "ERR Protocol error: unauthenticated bulk length"u8;
}
