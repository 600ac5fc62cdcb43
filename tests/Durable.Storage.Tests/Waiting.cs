using System.Diagnostics;

namespace Durable.Storage.Tests;

/// <summary>Polling for what the store does in the background (segment deletion after a checkpoint, and the like).</summary>
internal static class Waiting
{
    /// <summary>Waits up to 20 s for <paramref name="condition"/>; returns whether it held.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition)
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(20))
            {
                return false;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return true;
    }
}
