using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// FasterLog's commit admission for the WAL: one commit in flight at a time, and the next one issued from the completion
/// of the last (on FASTER's commit thread) instead of by a committer that waits for the thread pool to run it. A commit
/// asked for while another is in flight is remembered and issued when that one finishes; with <c>chainWrites</c> (appendfsync
/// always), so is one for records appended meanwhile, whoever asked. FASTER's own MaxParallel policy can lose a request
/// (a commit asked for just as the one in flight finishes), which the re-check in <see cref="AdmitCommit"/> prevents.
/// <paramref name="finished"/> runs on FASTER's commit thread after every completed commit, whoever issued it.
/// </summary>
internal sealed class ChainedCommitPolicy(bool chainWrites, Action finished) : LogCommitPolicy
{
    private FasterLog? _log;
    private int _inFlight;
    private int _pending;

    public override void OnAttached(FasterLog log) => _log = log;

    public override bool AdmitCommit(long currentTail, bool commitRequired)
    {
        if (!commitRequired)
        {
            return false;
        }

        while (true)
        {
            if (Interlocked.CompareExchange(ref _inFlight, 1, 0) == 0)
            {
                Volatile.Write(ref _pending, 0);
                return true;
            }

            Volatile.Write(ref _pending, 1);
            // OnCommitFinished clears _inFlight before it reads _pending: if the commit in flight is still in flight now,
            // its completion will see the request; if it has just finished, admit this one.
            if (Volatile.Read(ref _inFlight) != 0)
            {
                return false;
            }
        }
    }

    public override void OnCommitCreated(FasterLogRecoveryInfo info)
    {
    }

    public override void OnCommitFinished(FasterLogRecoveryInfo info)
    {
        finished();
        Volatile.Write(ref _inFlight, 0);
        FasterLog log = _log!;
        if (Interlocked.Exchange(ref _pending, 0) == 1 || (chainWrites && log.TailAddress > info.UntilAddress))
        {
            log.Commit();
        }
    }
}
