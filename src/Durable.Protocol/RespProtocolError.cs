namespace Durable.Protocol;

/// <summary>Why a frame was rejected; <see cref="RespParser"/> sets it when it returns <c>InvalidData</c>.</summary>
public enum RespProtocolError
{
    None,
    InvalidMultibulkLength,
    InvalidBulkLength,
    TooBigMultibulkCount,
    TooBigBulkCount,
    ExpectedDollar,
    TooBigInline,
    UnbalancedQuotes,
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
}
