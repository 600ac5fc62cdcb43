namespace Durable.Commands.Blocking;

/// <summary>
/// One blocked connection: the database and keys it waits on, and the signal that wakes it. Its state changes only
/// under the <see cref="BlockedKeys"/> lock; the connection awaits <see cref="Signal"/> without holding a thread.
/// </summary>
internal sealed class KeyWaiter(int db, byte[][] keys)
{
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Db { get; } = db;

    /// <summary>The keys waited on, without repeats, in the command's order.</summary>
    public byte[][] Keys { get; } = keys;

    /// <summary>A reader (XREAD) is woken by every write to its keys: serving it takes nothing from the keys' other waiters.</summary>
    public bool Reader { get; init; }

    /// <summary>Completes when a write to one of <see cref="Keys"/> woke this waiter since it last re-armed.</summary>
    public Task Signal => _signal.Task;

    /// <summary>True from a wake-up until the waiter re-arms: further writes wake the next waiter instead.</summary>
    public bool IsSignalled { get; private set; }

    /// <summary>Set by CLIENT UNBLOCK: the waiter ends at its next wake-up with Redis's timeout reply, or with an error.</summary>
    public UnblockReason Unblocked { get; private set; }

    /// <summary>CLIENT UNBLOCK: ends the wait as a timeout or an error would (the first request counts).</summary>
    public void Unblock(UnblockReason reason)
    {
        if (Unblocked == UnblockReason.None)
        {
            Unblocked = reason;
        }

        _signal.TrySetResult();
    }

    public void Wake()
    {
        IsSignalled = true;
        _signal.TrySetResult();
    }

    /// <summary>Before retrying: any write from now on wakes this waiter again, so none is missed while it retries.</summary>
    public void Rearm()
    {
        IsSignalled = false;
        if (_signal.Task.IsCompleted)
        {
            _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}

/// <summary>Why CLIENT UNBLOCK ended a wait.</summary>
internal enum UnblockReason
{
    None,
    Timeout,
    Error,
}
