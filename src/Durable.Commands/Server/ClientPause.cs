namespace Durable.Commands.Server;

/// <summary>
/// CLIENT PAUSE state: until a deadline, every command (ALL) or every write (WRITE) of every client waits before it
/// runs. The session loop asks <see cref="Blocks"/> before each command and awaits <see cref="WaitAsync"/>. Thread-safe.
/// </summary>
public sealed class ClientPause
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private ClientPauseMode _mode;
    private long _untilMs;
    private bool _requested;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ClientPause(TimeProvider time) => _time = time;

    /// <summary>Cheap check (one volatile read) for the hot path: false unless a pause was requested.</summary>
    public bool IsRequested => Volatile.Read(ref _requested);

    /// <summary>Pauses until <paramref name="untilMs"/>; as Redis does, a second pause keeps the later deadline and the stricter mode.</summary>
    public void Pause(ClientPauseMode mode, long untilMs)
    {
        lock (_gate)
        {
            ExpireLocked();
            if (mode > _mode)
            {
                _mode = mode;
            }

            _untilMs = Math.Max(_untilMs, untilMs);
            Volatile.Write(ref _requested, true);
        }
    }

    public void Unpause()
    {
        lock (_gate)
        {
            ReleaseLocked();
        }
    }

    /// <summary>True when a command with <paramref name="flags"/> must wait now.</summary>
    public bool Blocks(CommandFlags flags)
    {
        lock (_gate)
        {
            ExpireLocked();
            return _mode == ClientPauseMode.All
                || (_mode == ClientPauseMode.Write && (flags & (CommandFlags.Write | CommandFlags.MayReplicate)) != 0);
        }
    }

    /// <summary>Completes when the pause ends: at its deadline or at CLIENT UNPAUSE.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        Task released;
        long remainingMs;
        lock (_gate)
        {
            ExpireLocked();
            if (_mode == ClientPauseMode.None)
            {
                return;
            }

            released = _released.Task;
            remainingMs = _untilMs - _time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        await TimedWaits.WaitAsync(released, remainingMs, _time, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void ExpireLocked()
    {
        if (_mode != ClientPauseMode.None && _time.GetUtcNow().ToUnixTimeMilliseconds() >= _untilMs)
        {
            ReleaseLocked();
        }
    }

    private void ReleaseLocked()
    {
        _mode = ClientPauseMode.None;
        _untilMs = 0;
        Volatile.Write(ref _requested, false);
        _released.TrySetResult();
        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>What CLIENT PAUSE holds back; ordered from least to most strict.</summary>
public enum ClientPauseMode
{
    None,
    Write,
    All,
}
