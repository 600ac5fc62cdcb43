namespace Durable.Commands.Server;

/// <summary>
/// One class of Redis's client-output-buffer-limit: past <see cref="HardBytes"/> queued, or past <see cref="SoftBytes"/>
/// for more than <see cref="SoftSeconds"/> without a break, the client is disconnected; 0 turns a limit off.
/// </summary>
public readonly record struct OutputBufferLimit(long HardBytes, long SoftBytes, long SoftSeconds)
{
    /// <summary>
    /// Redis checkClientOutputBufferLimits for <paramref name="queuedBytes"/> now: whether the client must go.
    /// <paramref name="softSinceMs"/> is when the soft limit was first found reached (0: not reached), kept by the caller.
    /// </summary>
    public bool IsExceeded(long queuedBytes, long nowMs, ref long softSinceMs)
    {
        bool hard = HardBytes > 0 && queuedBytes >= HardBytes;
        bool soft = SoftBytes > 0 && queuedBytes >= SoftBytes;
        if (!soft)
        {
            softSinceMs = 0;
        }
        else if (softSinceMs == 0)
        {
            softSinceMs = nowMs;
            soft = false;
        }
        else
        {
            // Redis compares whole seconds (server.unixtime): reached more than SoftSeconds ago.
            soft = (nowMs / 1000) - (softSinceMs / 1000) > SoftSeconds;
        }

        return hard || soft;
    }
}
