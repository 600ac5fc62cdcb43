namespace Durable.CrashTest;

/// <summary>
/// One client's acknowledged writes of one kind, checked in the order they were acknowledged: how many were lost, the
/// first and last of them, and whether a later one survived a lost one (a hole). The WAL replays a prefix of what was
/// logged, so under any fsync policy a client's losses are its last writes; a hole means something else lost the write.
/// </summary>
internal sealed class LossTracker
{
    public long Lost { get; private set; }

    /// <summary>Index of the first lost write, or -1.</summary>
    public long FirstLost { get; private set; } = -1;

    /// <summary>Index of the last lost write, or -1.</summary>
    public long LastLost { get; private set; } = -1;

    /// <summary>Index of the first write found after a lost one, or -1.</summary>
    public long FirstSurvivorAfterLoss { get; private set; } = -1;

    /// <summary>Write <paramref name="index"/> was acknowledged and is missing.</summary>
    public void Missing(long index)
    {
        Lost++;
        FirstLost = FirstLost < 0 ? index : FirstLost;
        LastLost = index;
    }

    /// <summary>Write <paramref name="index"/> is there; true when it is the first found after a lost one (the hole to report).</summary>
    public bool Found(long index)
    {
        if (FirstLost < 0 || FirstSurvivorAfterLoss >= 0)
        {
            return false;
        }

        FirstSurvivorAfterLoss = index;
        return true;
    }
}
