using System.Threading.Tasks.Sources;

namespace Durable.Storage.Faster;

/// <summary>
/// One session's log reads in flight: those it issued while it was <see cref="SessionReadDevice.Issuing"/>, and those
/// FASTER issues again from their completions (the rest of a longer record, the next record of a hash chain). Wakes the
/// session once the last has arrived, from the thread that completed it, instead of FASTER's own wait
/// (<c>CompletePendingAsync</c>, which wakes once per read and yields the thread between them); the session then
/// collects every record at once (docs/storage.md, "Cold reads: waking the session"). One wait at a time.
/// </summary>
internal sealed class SessionReads : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private CancellationToken _token;
    private int _inFlight;

    // 1 while a wait is armed; whoever swaps it to 0 (the last read's completion, a cancellation, or the wait itself
    // finding nothing in flight) completes it.
    private int _armed;

    /// <summary>A read of this session was issued (on its thread, or from a completion while another is in flight).</summary>
    public void Started() => Interlocked.Increment(ref _inFlight);

    /// <summary>A read's completion callback has run: FASTER has queued its record, or issued the next read (started first).</summary>
    public void Finished()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Completes when no read of this session is in flight: at once if none is, else on the pool once the last arrives.</summary>
    public ValueTask WhenArrivedAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _inFlight) == 0)
        {
            return ValueTask.CompletedTask;
        }

        _core.Reset();
        _token = cancellationToken;
        Volatile.Write(ref _armed, 1);
        // Registered once armed: a token cancelled already completes the wait right here.
        _cancellation = cancellationToken.UnsafeRegister(static state => ((SessionReads)state!).Cancel(), this);
        if (Volatile.Read(ref _inFlight) == 0 && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            // The last read arrived between the first look and the arming.
            _cancellation.Unregister();
            return ValueTask.CompletedTask;
        }

        return new ValueTask(this, _core.Version);
    }

    /// <summary>Awaits <paramref name="first"/>, then <paramref name="then"/> (for the session, whose unsafe code cannot await).</summary>
    public static async ValueTask ThenAsync<TState>(ValueTask first, Func<TState, CancellationToken, ValueTask> then, TState state, CancellationToken cancellationToken)
    {
        await first.ConfigureAwait(false);
        await then(state, cancellationToken).ConfigureAwait(false);
    }

    private void Cancel()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.SetException(new OperationCanceledException(_token));
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        _cancellation.Unregister();
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
