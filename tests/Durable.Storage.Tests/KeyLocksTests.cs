namespace Durable.Storage.Tests;

/// <summary>
/// Key locks: exclusive sections of a stripe never overlap each other or a shared one, however many threads contend
/// (more than the cores), and a waiter gets in once the holders it waits for have left.
/// </summary>
public sealed class KeyLocksTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ContendedStripe_WritersNeverOverlap_ReadersNeverSeeAWriter()
    {
        KeyLocks locks = new();
        const int Stripe = 7;
        const int Writers = 8;
        const int Readers = 4;
        const int Rounds = 5000;
        long counter = 0;
        int writersInside = 0;
        int overlaps = 0;

        Task[] writers = [.. Enumerable.Range(0, Writers).Select(_ => OnThread(
            () =>
            {
                for (int i = 0; i < Rounds; i++)
                {
                    locks.EnterExclusive(Stripe);
                    if (Interlocked.Increment(ref writersInside) != 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    long seen = Volatile.Read(ref counter);
                    Thread.SpinWait(20);
                    Volatile.Write(ref counter, seen + 1);
                    Interlocked.Decrement(ref writersInside);
                    locks.ExitExclusive(Stripe);
                }
            }))];
        Task[] readers = [.. Enumerable.Range(0, Readers).Select(_ => OnThread(
            () =>
            {
                for (int i = 0; i < Rounds; i++)
                {
                    locks.EnterShared(Stripe);
                    if (Volatile.Read(ref writersInside) != 0)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    locks.ExitShared(Stripe);
                }
            }))];

        await Task.WhenAll([.. writers, .. readers]).WaitAsync(s_patience, TestContext.Current.CancellationToken);

        Assert.Equal(0, overlaps);
        Assert.Equal(Writers * Rounds, counter);
        Assert.Equal(Writers * Rounds, locks.WriteVersion(Stripe));
    }

    [Fact]
    public async Task WaitingWriter_EntersWhenTheLastReaderLeaves()
    {
        KeyLocks locks = new();
        locks.EnterShared(3);
        locks.EnterShared(3);
        Task writer = OnThread(() => locks.EnterExclusive(3));

        // Long enough for the writer to be waiting.
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.False(writer.IsCompleted);
        locks.ExitShared(3);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(writer.IsCompleted);
        locks.ExitShared(3);

        await writer.WaitAsync(s_patience, TestContext.Current.CancellationToken);
        Assert.Equal(0, locks.WriteVersion(3));
        locks.ExitExclusive(3);
        Assert.Equal(1, locks.WriteVersion(3));
    }

    [Fact]
    public async Task WaitingReadersAndWriters_AllEnter_WhenTheWriterLeaves()
    {
        KeyLocks locks = new();
        locks.EnterExclusive(5);
        int readersInside = 0;
        Task[] readers = [.. Enumerable.Range(0, 3).Select(_ => OnThread(() =>
        {
            locks.EnterShared(5);
            Interlocked.Increment(ref readersInside);
            locks.ExitShared(5);
        }))];
        Task[] writers = [.. Enumerable.Range(0, 3).Select(_ => OnThread(() =>
        {
            locks.EnterExclusive(5);
            locks.ExitExclusive(5);
        }))];

        // Long enough for everyone to be waiting; all six must get in.
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(0, readersInside);
        Assert.DoesNotContain(writers, writer => writer.IsCompleted);
        locks.ExitExclusive(5);

        await Task.WhenAll([.. readers, .. writers]).WaitAsync(s_patience, TestContext.Current.CancellationToken);
        Assert.Equal(3, readersInside);
        Assert.Equal(4, locks.WriteVersion(5));
    }

    // A thread of its own: a waiter must not hold up the pool.
    private static Task OnThread(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
