namespace Durable.Storage.Faster;

/// <summary>
/// Stops a compaction before FASTER 2.6.5 can lose one of its copies or retry one for ever (docs/persistence.md, "a
/// write FASTER put where the log had already been flushed"). A copy that lost the race for its hash entry to a write of
/// another key on the same chain is retried with the entry FASTER read first, so its CAS never succeeds: FASTER calls
/// SingleWriter for the same key again and again, holding the epoch. A copy that lost its race and then read the disk
/// reuses its first allocation wherever the log has moved: below the safe read-only address it lands in a page already
/// flushed. Either way the compaction stops (<see cref="CompactionAbandonedException"/>) before it moves the begin
/// address, so the originals stay where they are, and runs again at the next interval. One instance per session; the
/// check trips once per compaction (a second exception, from the completions FASTER's compaction session runs as it is
/// disposed, would leave that session undisposed).
/// </summary>
internal sealed class CompactionCopyGuard(Func<long, bool>? refuseForTest)
{
    private long _lastKeyHash;
    private bool _hasLast;
    private bool _tripped;

    /// <summary>Before a compaction.</summary>
    public void Reset()
    {
        _hasLast = false;
        _tripped = false;
    }

    /// <summary>Why the compaction must stop before the copy of a record whose key hashes to <paramref name="keyHash"/> enters its chain at <paramref name="address"/>; null when it may go on.</summary>
    public string? Check(long keyHash, long address, long safeReadOnlyAddress)
    {
        bool again = _hasLast && keyHash == _lastKeyHash;
        _lastKeyHash = keyHash;
        _hasLast = true;
        if (_tripped)
        {
            return null;
        }

        string? why = again
            ? "a copy lost its hash entry to a write of another key, and FASTER retries it with the entry it read first"
            : address < safeReadOnlyAddress
                ? "a copy was about to be written where the log has already been flushed"
                : refuseForTest?.Invoke(address) == true ? "a test refused a copy" : null;
        _tripped = why is not null;
        return why;
    }
}

/// <summary>Thrown from FASTER's compaction callback to end a compaction before it moves the begin address (<see cref="CompactionCopyGuard"/>).</summary>
internal sealed class CompactionAbandonedException(string reason) : Exception(reason);
