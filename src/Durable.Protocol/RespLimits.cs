namespace Durable.Protocol;

/// <summary>Caps on what a client may send; every wait for more bytes is bounded by one of these.</summary>
public sealed class RespLimits
{
    /// <summary>Redis <c>proto-max-bulk-len</c>: 512 MB by default.</summary>
    public long MaxBulkLength { get; set; } = 512L * 1024 * 1024;

    /// <summary>Most arguments one command may carry (Redis allows up to INT_MAX; we cap at 1M by default).</summary>
    public int MaxArguments { get; set; } = 1024 * 1024;

    /// <summary>Redis PROTO_INLINE_MAX_SIZE: an inline command or a length line must end within this many bytes.</summary>
    public int MaxInlineLength { get; set; } = 64 * 1024;

    /// <summary>
    /// Set while the client has not logged in and must: Redis then takes at most 10 arguments
    /// (<see cref="UnauthenticatedMaxArguments"/>) of at most 16 KiB each (<see cref="UnauthenticatedMaxBulkLength"/>).
    /// </summary>
    public bool Unauthenticated { get; set; }

    public const int UnauthenticatedMaxArguments = 10;
    public const int UnauthenticatedMaxBulkLength = 16384;
}
