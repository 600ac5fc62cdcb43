using Durable.CrashTest;

namespace Durable.Server.Tests;

/// <summary>The crash tool's loss accounting: losses at the end of a client's writes, and holes before writes that survived.</summary>
public sealed class LossTrackerTests
{
    [Fact]
    public void LossesAtTheEnd_AreNoHole()
    {
        LossTracker tracker = new();
        Assert.False(tracker.Found(0));
        Assert.False(tracker.Found(1));
        tracker.Missing(2);
        tracker.Missing(3);
        Assert.Equal(2, tracker.Lost);
        Assert.Equal(2, tracker.FirstLost);
        Assert.Equal(3, tracker.LastLost);
        Assert.Equal(-1, tracker.FirstSurvivorAfterLoss);
    }

    [Fact]
    public void AWriteFoundAfterALostOne_IsAHole_ReportedOnce()
    {
        LossTracker tracker = new();
        Assert.False(tracker.Found(0));
        tracker.Missing(1);
        Assert.True(tracker.Found(2));
        tracker.Missing(3);
        Assert.False(tracker.Found(4));
        Assert.Equal(2, tracker.Lost);
        Assert.Equal(1, tracker.FirstLost);
        Assert.Equal(3, tracker.LastLost);
        Assert.Equal(2, tracker.FirstSurvivorAfterLoss);
    }
}
