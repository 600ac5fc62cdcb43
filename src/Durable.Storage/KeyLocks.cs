using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Durable.Storage;

/// <summary>
/// Striped reader-writer locks over keys. A command locks the stripes of all its keys, in ascending stripe order,
/// shared to read and exclusive to write, before it touches the store, and releases them when it has replied.
/// No lock is ever held across an await. Stripe state: 0 free, n &gt; 0 readers, -1 writer. Each stripe also counts its
/// exclusive sections (<see cref="WriteVersion"/>), so that a value read without the lock can be checked for a write since.
/// A waiter spins (a short section is over before a thread could be woken), only one per stripe past the first spins
/// (the others give up where the spinning would start yielding the core), and none while the holder waits for the
/// disk (<see cref="MarkWaitingForDisk"/>); a connection that gives up waits without a thread (<see cref="AcquireAsync"/>): a section that reads the disk holds its stripe for hundreds of
/// microseconds, and fifty spinning waiters would take the cores from the holder and from the disk reads' completions.
/// A release wakes the first waiting connection only when nobody spins for the stripe (the spinner takes it) and no
/// connection woken before has yet tried: a holder that takes the stripe again at once (the next command of its
/// pipeline) does not wake, each time, a waiter that will only find it taken.
/// Only one holder at a time may wait for a stripe while it holds others out of order (<see cref="EnterHoldAndWait"/>:
/// <see cref="EnterAll"/>, a script that reaches a key it did not declare); everyone else takes several stripes all at
/// once or not at all, so no cycle of waits can form.
/// </summary>
#pragma warning disable CA1001 // its SemaphoreSlim holds no kernel handle unless AvailableWaitHandle is asked for, which nothing does
public sealed class KeyLocks
#pragma warning restore CA1001
{
    public const int StripeCount = 4096;

    // Held by the one caller that may wait for stripes while holding others (see the class summary). A semaphore, not a
    // monitor: a connection waits for it without a thread (EnterHoldAndWaitAsync) and may let go on another thread.
    private readonly SemaphoreSlim _holdAndWait = new(1, 1);

    /// <summary>
    /// Spins (<see cref="SpinWait.SpinOnce()"/>, yielding the core after the tenth) per stripe before
    /// <see cref="TryEnterAll"/> gives up on a holder that is busy in memory; one that waits for the disk is not spun on,
    /// and only one caller at a time spins for a stripe past the spins that do not yield.
    /// </summary>
    public const int MostSpins = 64;

    // Per stripe, one cache line: [0] state, [1] exclusive sections ended, [2] connections waiting in AcquireAsync,
    // [3] 1 while a holder waits for the disk, [4] 1 while a caller of TryEnterAll spins for it, [5] 1 from the wake of
    // a waiting connection until that connection tries again. Pinned, so that Prefetch can take a stripe's address.
    private readonly int[] _state = GC.AllocateArray<int>(StripeCount * 16, pinned: true);

    // Per stripe, created on first contention: the waiting connections, first come first woken.
    private readonly Queue<TaskCompletionSource>?[] _waiters = new Queue<TaskCompletionSource>?[StripeCount];
    private bool _allHeldShared;

    /// <summary>The stripe of a key: independent of the database, so that MOVE and COPY across databases lock one stripe.</summary>
    public static int StripeOf(ReadOnlySpan<byte> key) => (int)(XxHash3.HashToUInt64(key) & (StripeCount - 1));

    public void EnterShared(int stripe) => Enter(stripe, exclusive: false);

    /// <summary>
    /// Starts loading <paramref name="stripe"/>'s state into the CPU cache, for a command about to take it: 256 KiB of
    /// stripes do not stay cached next to the store's index and log, and a command waited for its stripe's line (about a
    /// twentieth of a SET's or GET's server CPU at <c>-P 16</c> over 100,000 keys) unless the line was asked for while the
    /// command before it ran. Changes nothing.
    /// </summary>
    public unsafe void Prefetch(int stripe)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref Slot(stripe)));
        }
    }

    public void ExitShared(int stripe)
    {
        if (Interlocked.Decrement(ref Slot(stripe)) != 0)
        {
            return;
        }

        Volatile.Write(ref DiskWait(stripe), 0);
        WakeUnlessTaken(stripe);
    }

    /// <summary>
    /// Tells waiters that the holder of <paramref name="stripes"/> waits for the disk (hundreds of microseconds): they stop
    /// spinning and wait without a thread. Cleared when the stripe is released.
    /// </summary>
    public void MarkWaitingForDisk(ReadOnlySpan<int> stripes)
    {
        foreach (int stripe in stripes)
        {
            Volatile.Write(ref DiskWait(stripe), 1);
        }
    }

    public void EnterExclusive(int stripe) => Enter(stripe, exclusive: true);

    public void ExitExclusive(int stripe)
    {
        // Counted before the release, and after whatever the writer did: a reader that sees the new count sees the write.
        Interlocked.Increment(ref _state[(stripe * 16) + 1]);
        Volatile.Write(ref DiskWait(stripe), 0);
        // A full fence, as in WhenReleased: either this sees the waiter's registration or the waiter sees the stripe free.
        Interlocked.Exchange(ref Slot(stripe), 0);
        WakeUnlessTaken(stripe);
    }

    /// <summary>
    /// Takes the (sorted, distinct) <paramref name="stripes"/> in order, spinning a little on each; if one stays taken,
    /// lets go of those already taken and returns its index (nothing is held then), else -1 (all are held).
    /// </summary>
    public int TryEnterAll(ReadOnlySpan<int> stripes, bool exclusive)
    {
        for (int i = 0; i < stripes.Length; i++)
        {
            if (!TryEnter(stripes[i], exclusive))
            {
                Exit(stripes[..i], exclusive);
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Takes the (sorted, distinct) <paramref name="stripes"/>, waiting without a thread while one is taken; the task
    /// completes with all of them held. Never holds a stripe while it waits, so it cannot deadlock with anyone.
    /// </summary>
    public async Task AcquireAsync(int[] stripes, int count, bool exclusive)
    {
        int wokenFor = -1;
        while (true)
        {
            int busy = TryEnterAll(stripes.AsSpan(0, count), exclusive);
            if (busy < 0)
            {
                return;
            }

            if (wokenFor >= 0 && wokenFor != stripes[busy] && IsFree(wokenFor, exclusive) && Volatile.Read(ref Waiting(wokenFor)) != 0)
            {
                // Woken for a stripe this attempt did not keep: the next waiter gets the turn, or none would wake.
                WakeOne(wokenFor);
            }

            wokenFor = stripes[busy];
            await WhenReleased(wokenFor, exclusive);
            // A full fence, as the release's: a release after this sees no woken waiter and wakes the next, or this
            // attempt sees the stripe free.
            Interlocked.Exchange(ref Woken(wokenFor), 0);
        }
    }

    /// <summary>Releases <paramref name="stripes"/>, last first.</summary>
    public void Exit(ReadOnlySpan<int> stripes, bool exclusive)
    {
        for (int i = stripes.Length - 1; i >= 0; i--)
        {
            if (exclusive)
            {
                ExitExclusive(stripes[i]);
            }
            else
            {
                ExitShared(stripes[i]);
            }
        }
    }

    /// <summary>Whether a holder of <paramref name="stripe"/> marked it (<see cref="MarkWaitingForDisk"/>) since it was last free.</summary>
    public bool HolderWaitsForDisk(int stripe) => Volatile.Read(ref DiskWait(stripe)) != 0;

    /// <summary>How many connections wait for <paramref name="stripe"/> without a thread (tests).</summary>
    internal int WaitingCount(int stripe) => Volatile.Read(ref Waiting(stripe));

    // Spins until it holds the stripe, however long: for callers that cannot wait without a thread.
    private void Enter(int stripe, bool exclusive)
    {
        ref int state = ref Slot(stripe);
        SpinWait spin = default;
        while (!TryTake(ref state, exclusive))
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    // One attempt: a writer takes a free stripe, a reader one that no writer holds.
    private static bool TryTake(ref int state, bool exclusive)
    {
        int current = Volatile.Read(ref state);
        return exclusive
            ? current == 0 && Interlocked.CompareExchange(ref state, -1, 0) == 0
            : current >= 0 && Interlocked.CompareExchange(ref state, current + 1, current) == current;
    }

    private bool TryEnter(int stripe, bool exclusive)
    {
        ref int state = ref Slot(stripe);
        if (TryTake(ref state, exclusive))
        {
            return true;
        }

        // One spinner per stripe goes on past the short spins into the yielding ones: a second would only take a core
        // from the holder (two cores here) and find the stripe taken by the first.
        ref int spinning = ref Spinning(stripe);
        bool spinner = Interlocked.CompareExchange(ref spinning, 1, 0) == 0;
        bool taken = Spin(ref state, stripe, exclusive, spinner);
        if (spinner)
        {
            // A full fence, as the release's: the release after this wakes a waiter, or the waiter this caller is
            // about to become sees the stripe free (WhenReleased).
            Interlocked.Exchange(ref spinning, 0);
            if (!taken && Volatile.Read(ref state) == 0)
            {
                // Released after this caller's last try, while it still spun, the release left the waiters to it: it
                // gives up, so it wakes one, as the release would have (else they could sleep until the next release).
                WakeUnlessTaken(stripe);
            }
        }

        return taken;
    }

    // The spins after the first try; a caller that is not the stripe's spinner stops where they would start yielding.
    private bool Spin(ref int state, int stripe, bool exclusive, bool spinner)
    {
        SpinWait spin = default;
        for (int i = 1; i < MostSpins; i++)
        {
            if (HolderWaitsForDisk(stripe) || (!spinner && spin.NextSpinWillYield))
            {
                return false;
            }

            spin.SpinOnce(sleep1Threshold: -1);
            if (TryTake(ref state, exclusive))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsFree(int stripe, bool exclusive)
    {
        int current = Volatile.Read(ref Slot(stripe));
        return exclusive ? current == 0 : current >= 0;
    }

    // Completes at the next release of the stripe that picks this waiter (one per release, in order of arrival), or at
    // once if the stripe was released before the registration was seen. The woken waiter tries again at once.
    private Task WhenReleased(int stripe, bool exclusive)
    {
        Queue<TaskCompletionSource> queue = WaitQueue(stripe);
        TaskCompletionSource waiter = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (queue)
        {
            queue.Enqueue(waiter);
            Interlocked.Increment(ref Waiting(stripe));
        }

        if (IsFree(stripe, exclusive))
        {
            WakeOne(stripe);
        }

        return waiter.Task;
    }

    // After a release: wakes the first waiter unless a spinner will take the stripe or a waiter woken before has yet to try.
    private void WakeUnlessTaken(int stripe)
    {
        if (Volatile.Read(ref Waiting(stripe)) != 0 && Volatile.Read(ref Spinning(stripe)) == 0 && Volatile.Read(ref Woken(stripe)) == 0)
        {
            WakeOne(stripe);
        }
    }

    private void WakeOne(int stripe)
    {
        Queue<TaskCompletionSource> queue = WaitQueue(stripe);
        TaskCompletionSource? next;
        lock (queue)
        {
            if (!queue.TryDequeue(out next))
            {
                return;
            }

            Interlocked.Decrement(ref Waiting(stripe));
            Volatile.Write(ref Woken(stripe), 1);
        }

        next.TrySetResult();
    }

    private Queue<TaskCompletionSource> WaitQueue(int stripe)
    {
        Queue<TaskCompletionSource>? queue = Volatile.Read(ref _waiters[stripe]);
        if (queue is null)
        {
            Interlocked.CompareExchange(ref _waiters[stripe], new Queue<TaskCompletionSource>(), null);
            queue = _waiters[stripe]!;
        }

        return queue;
    }

    /// <summary>
    /// How many exclusive sections of <paramref name="stripe"/> have ended. Read it before reading a key without its lock;
    /// if it is unchanged later under the lock, no write to any key of the stripe happened in between.
    /// </summary>
    public int WriteVersion(int stripe) => Volatile.Read(ref _state[(stripe * 16) + 1]);

    /// <summary>Takes every stripe exclusively (FLUSHALL, SWAPDB, a checkpoint's version shift), in order.</summary>
    public void EnterAll()
    {
        EnterHoldAndWait();
        for (int i = 0; i < StripeCount; i++)
        {
            EnterExclusive(i);
        }
    }

    public void ExitAll()
    {
        for (int i = 0; i < StripeCount; i++)
        {
            ExitExclusive(i);
        }

        ExitHoldAndWait();
    }

    /// <summary>
    /// Takes every stripe shared, in order, with the hold-and-wait lock, waiting without a thread for that lock: readers
    /// go on, every write waits until <see cref="ExitAllShared"/> (a primary writing the snapshot of a full sync, which
    /// must be the data set at one offset of its stream). <see cref="AllHeldShared"/> says so meanwhile.
    /// </summary>
    public async Task EnterAllSharedAsync(CancellationToken cancellationToken)
    {
        await _holdAndWait.WaitAsync(cancellationToken);
        Volatile.Write(ref _allHeldShared, true);
        for (int i = 0; i < StripeCount; i++)
        {
            EnterShared(i);
        }
    }

    public void ExitAllShared()
    {
        for (int i = 0; i < StripeCount; i++)
        {
            ExitShared(i);
        }

        Volatile.Write(ref _allHeldShared, false);
        ExitHoldAndWait();
    }

    /// <summary>While every stripe is held shared (<see cref="EnterAllSharedAsync"/>): work that could wait for a stripe exclusively, and need not, leaves it for later.</summary>
    public bool AllHeldShared => Volatile.Read(ref _allHeldShared);

    /// <summary>
    /// Makes the caller the one that may wait for stripes while it holds others, in any order (a script, which learns
    /// its keys as it runs); not re-entrant. Released by <see cref="ExitHoldAndWait"/>.
    /// </summary>
    public void EnterHoldAndWait() => _holdAndWait.Wait();

    /// <summary>As <see cref="EnterHoldAndWait"/>, waiting without a thread; not taken if cancelled.</summary>
    public Task EnterHoldAndWaitAsync(CancellationToken cancellationToken) => _holdAndWait.WaitAsync(cancellationToken);

    public void ExitHoldAndWait() => _holdAndWait.Release();

    /// <summary>
    /// Takes the (sorted, distinct) <paramref name="stripes"/> all at once, waiting (spinning, then yielding) while one
    /// is taken without holding the others, so that it never waits in a cycle with the holder of <see cref="EnterHoldAndWait"/>.
    /// </summary>
    public void EnterAllOf(ReadOnlySpan<int> stripes, bool exclusive)
    {
        if (stripes.Length == 1)
        {
            Enter(stripes[0], exclusive);
            return;
        }

        SpinWait spin = default;
        while (TryEnterAll(stripes, exclusive) >= 0)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    // One stripe per 64-byte cache line, so that neighbouring stripes do not contend.
    private ref int Slot(int stripe) => ref _state[stripe * 16];

    private ref int Waiting(int stripe) => ref _state[(stripe * 16) + 2];

    private ref int DiskWait(int stripe) => ref _state[(stripe * 16) + 3];

    private ref int Spinning(int stripe) => ref _state[(stripe * 16) + 4];

    private ref int Woken(int stripe) => ref _state[(stripe * 16) + 5];
}
