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

    [Fact]
    public async Task AsyncWaitersAndSpinners_NeverOverlap_AndEveryoneGetsIn()
    {
        KeyLocks locks = new();
        const int Connections = 12;
        const int Rounds = 400;
        int[][] sets = [[3], [3, 9], [9], [1, 3, 9]];
        int writersIn3 = 0;
        int writersIn9 = 0;
        int overlaps = 0;
        long done = 0;

        void Inside(int[] stripes, bool exclusive)
        {
            foreach (int stripe in stripes)
            {
                ref int writers = ref stripe == 3 ? ref writersIn3 : ref writersIn9;
                if (stripe != 1 && (exclusive ? Interlocked.Increment(ref writers) != 1 : Volatile.Read(ref writers) != 0))
                {
                    Interlocked.Increment(ref overlaps);
                }
            }

            Thread.SpinWait(50);
            foreach (int stripe in stripes)
            {
                if (exclusive && stripe != 1)
                {
                    Interlocked.Decrement(ref stripe == 3 ? ref writersIn3 : ref writersIn9);
                }
            }

            Interlocked.Increment(ref done);
        }

        // Connections as the server runs them: try with a short spin, else wait without a thread.
        Task[] connections = [.. Enumerable.Range(0, Connections).Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                int[] stripes = sets[(c + i) % sets.Length];
                bool exclusive = (c + i) % 3 != 0;
                if (locks.TryEnterAll(stripes, exclusive) >= 0)
                {
                    await locks.AcquireAsync(stripes, stripes.Length, exclusive);
                }

                Inside(stripes, exclusive);
                locks.Exit(stripes, exclusive);
            }
        }))];

        // And threads that spin until they get in (blocked commands' retries, FLUSHALL).
        Task[] spinners = [.. Enumerable.Range(0, 2).Select(_ => OnThread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                locks.EnterExclusive(3);
                Inside([3], exclusive: true);
                locks.ExitExclusive(3);
            }
        }))];

        await Task.WhenAll([.. connections, .. spinners]).WaitAsync(s_patience, TestContext.Current.CancellationToken);
        Assert.Equal(0, overlaps);
        Assert.Equal((Connections + 2) * Rounds, done);
        Assert.Equal(0, locks.WaitingCount(3));
        Assert.Equal(0, locks.WaitingCount(9));
        Assert.Equal(-1, locks.TryEnterAll([1, 3, 9], exclusive: true));
    }

    [Fact]
    public async Task AcquireAsync_WaitsWithoutAThreadWhileTaken_AndHoldsEverythingWhenDone()
    {
        KeyLocks locks = new();
        locks.EnterExclusive(7);
        Assert.Equal(1, locks.TryEnterAll([2, 7], exclusive: false));
        Assert.Equal(-1, locks.TryEnterAll([2], exclusive: true));
        locks.ExitExclusive(2);

        Task waiting = locks.AcquireAsync([2, 7], 2, exclusive: false);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, locks.WaitingCount(7));
        Assert.Equal(-1, locks.TryEnterAll([2], exclusive: true));
        locks.ExitExclusive(2);

        locks.ExitExclusive(7);
        await waiting.WaitAsync(s_patience, TestContext.Current.CancellationToken);
        Assert.Equal(0, locks.WaitingCount(7));
        Assert.Equal(0, locks.TryEnterAll([7], exclusive: true));
        Assert.Equal(0, locks.TryEnterAll([2], exclusive: true));
        locks.Exit([2, 7], exclusive: false);
        Assert.Equal(-1, locks.TryEnterAll([2, 7], exclusive: true));
    }

    [Fact]
    public void DiskWaitMark_LastsUntilTheStripeIsFree()
    {
        KeyLocks locks = new();
        locks.EnterExclusive(4);
        locks.MarkWaitingForDisk([4]);
        Assert.True(locks.HolderWaitsForDisk(4));
        Assert.Equal(0, locks.TryEnterAll([4], exclusive: false));
        locks.ExitExclusive(4);
        Assert.False(locks.HolderWaitsForDisk(4));

        locks.EnterShared(4);
        locks.EnterShared(4);
        locks.MarkWaitingForDisk([4]);
        locks.ExitShared(4);
        Assert.True(locks.HolderWaitsForDisk(4));
        Assert.Equal(0, locks.TryEnterAll([4], exclusive: true));
        locks.ExitShared(4);
        Assert.False(locks.HolderWaitsForDisk(4));
        Assert.Equal(-1, locks.TryEnterAll([4], exclusive: true));
    }

    // A thread of its own: a waiter must not hold up the pool.
    private static Task OnThread(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
