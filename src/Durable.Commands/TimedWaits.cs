namespace Durable.Commands;

/// <summary>
/// Waits for a client's timeout, however long: .NET's timers take at most uint.MaxValue - 1 ms (about 49.7 days) and
/// throw past it, while Redis takes any timeout a long holds (BLPOP, CLIENT PAUSE, WAIT, WAITAOF). A longer wait goes
/// in steps of the timer's most.
/// </summary>
internal static class TimedWaits
{
    private const long MostTimerMs = uint.MaxValue - 1;

    /// <summary>
    /// Waits until <paramref name="signal"/> completes (in whatever way) or <paramref name="milliseconds"/> pass; returns
    /// whether it completed. Throws only when <paramref name="cancellationToken"/> is cancelled. No timer outlives it.
    /// </summary>
    public static async Task<bool> WaitAsync(Task signal, long milliseconds, TimeProvider time, CancellationToken cancellationToken)
    {
        for (long left = milliseconds; left > 0 && !signal.IsCompleted; left -= MostTimerMs)
        {
            await signal.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, MostTimerMs)), time, cancellationToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return signal.IsCompleted;
    }

    /// <summary>Waits <paramref name="milliseconds"/>; throws when <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task DelayAsync(long milliseconds, TimeProvider time, CancellationToken cancellationToken)
    {
        for (long left = milliseconds; left > 0; left -= MostTimerMs)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(left, MostTimerMs)), time, cancellationToken);
        }
    }
}
