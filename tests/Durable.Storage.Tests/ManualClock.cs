namespace Durable.Storage.Tests;

/// <summary>A clock that moves only when told to (expiry tests).</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public long NowMs => _now.ToUnixTimeMilliseconds();

    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>When set, timers made from this clock never fire: the store's background cycles (expiry) stay idle.</summary>
    public bool TimersStopped { get; init; }

    public void Advance(TimeSpan by) => _now += by;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        TimersStopped ? new IdleTimer() : base.CreateTimer(callback, state, dueTime, period);

    private sealed class IdleTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
