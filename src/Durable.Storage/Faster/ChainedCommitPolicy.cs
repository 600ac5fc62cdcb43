using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// FasterLog's commit admission for the WAL: one commit in flight at a time, and the next one issued from the completion
/// of the last instead of by a committer that waits for the thread pool to run it. A commit asked for while another is in
/// flight is remembered and issued when that one finishes; while <c>chainWrites</c> says so (appendfsync always, which
/// CONFIG SET may change at any time; read as each commit is admitted), so is one for records appended meanwhile, whoever
/// asked. FASTER's own MaxParallel policy can lose a request (a commit asked for just
/// as the one in flight finishes), which the re-check in <see cref="AdmitCommit"/> prevents.
/// A commit is finished as soon as the log's flushed address passes its commit record: <see cref="OnWriteCompleted"/> sees
/// that on the thread that completed the page write (<see cref="FlushWatchingDevice"/>), one thread-pool hop before
/// FASTER's own commit callback, which still finishes commits FASTER completes without a write.
/// <paramref name="durable"/> runs once per finished commit with the address everything before which is durable, after the
/// next commit (if any) is issued: its write is with the disk before the waiters of this one wake. Its second argument
/// says whether it runs on a write's completion thread, where the waiters may resume inline; on FASTER's commit callback
/// thread they must not: FASTER runs its commit callbacks one at a time, and a waiter that went on there to wait for a
/// commit (a checkpoint's, inside the waiter's next command) would hold back the callback that completes it.
/// </summary>
internal sealed class ChainedCommitPolicy(Func<bool> chainWrites, Action<long, bool> durable) : LogCommitPolicy
{
    private readonly Lock _gate = new();
    private FasterLog? _log;
    private bool _inFlight;
    private volatile bool _chaining;

    // The end of the commit record of the commit in flight, once FASTER created it (until then, MaxValue).
    private long _inFlightUntil = long.MaxValue;
    private bool _pending;

    /// <summary>True while a commit is in flight whose completion will issue another for every record appended meanwhile.</summary>
    public bool Chaining => _chaining;

    public override void OnAttached(FasterLog log) => _log = log;

    public override bool AdmitCommit(long currentTail, bool commitRequired)
    {
        if (!commitRequired)
        {
            return false;
        }

        lock (_gate)
        {
            if (_inFlight)
            {
                _pending = true;
                return false;
            }

            _inFlight = true;
            _chaining = chainWrites();
            _inFlightUntil = long.MaxValue;
            _pending = false;
            return true;
        }
    }

    public override void OnCommitCreated(FasterLogRecoveryInfo info)
    {
        lock (_gate)
        {
            _inFlightUntil = info.UntilAddress;
        }
    }

    /// <summary>FASTER's completion of a commit (on its commit thread): finishes it unless a write completion already did.</summary>
    public override void OnCommitFinished(FasterLogRecoveryInfo info) => Finish(info.UntilAddress, onWriteCompletion: false);

    /// <summary>
    /// After a write of the log's pages completed (FASTER's callback has run): the log's flushed address counts only writes
    /// that succeeded, in order, so a commit record below it is on disk with everything before it.
    /// </summary>
    public void OnWriteCompleted() => Finish(_log!.FlushedUntilAddress, onWriteCompletion: true);

    private void Finish(long durableUntil, bool onWriteCompletion)
    {
        long done;
        bool next;
        FasterLog log = _log!;
        lock (_gate)
        {
            if (!_inFlight || durableUntil < _inFlightUntil)
            {
                return;
            }

            done = _inFlightUntil;
            _inFlight = false;
            // Whether this commit was admitted chaining, not whether commits chain now: an appender that saw it chaining
            // asked for no commit of its own, even if the policy has changed since.
            bool chained = _chaining;
            _chaining = false;
            // A full fence between clearing the flag and reading the tail: an appender that still saw the commit chaining
            // (and so asked for no commit) appended before this read.
            Interlocked.MemoryBarrier();
            next = _pending || (chained && log.TailAddress > done);
            _pending = false;
        }

        try
        {
            if (next)
            {
                log.Commit();
            }
        }
        finally
        {
            durable(done, onWriteCompletion);
        }
    }
}
