using System.IO.Hashing;

namespace Durable.Storage;

/// <summary>
/// Striped reader-writer locks over keys. A command locks the stripes of all its keys, in ascending stripe order,
/// shared to read and exclusive to write, before it touches the store, and releases them when it has replied.
/// No lock is ever held across an await. Stripe state: 0 free, n &gt; 0 readers, -1 writer. Each stripe also counts its
/// exclusive sections (<see cref="WriteVersion"/>), so that a value read without the lock can be checked for a write since.
/// A contended stripe is spun on briefly, then waited on (<see cref="Monitor.Wait(object)"/> on the stripe's gate): on a
/// machine with few cores, spinning and yielding while the holder wants the core costs more than the wait (many clients
/// writing one hot key). A release wakes one waiter, not all of them, so that fifty clients of one key do not all wake
/// for each command; a reader that gets in wakes the next waiter, so that waiting readers go in together.
/// </summary>
public sealed class KeyLocks
{
    public const int StripeCount = 4096;

    // SpinOnce calls before a waiter blocks: the first ten spin in place, the rest yield the core.
    private const int SpinsBeforeBlocking = 16;

    // Per stripe, one 64-byte cache line of ints: [0] state, [1] write version, [2] blocked waiters.
    private readonly int[] _state = new int[StripeCount * 16];
    private readonly object[] _gates = [.. Enumerable.Range(0, StripeCount).Select(_ => new object())];

    /// <summary>The stripe of a key: independent of the database, so that MOVE and COPY across databases lock one stripe.</summary>
    public static int StripeOf(ReadOnlySpan<byte> key) => (int)(XxHash3.HashToUInt64(key) & (StripeCount - 1));

    public void EnterShared(int stripe) => Enter(stripe, exclusive: false);

    public void ExitShared(int stripe)
    {
        // A reader leaving frees only writers, and only when it is the last one.
        if (Interlocked.Decrement(ref Slot(stripe)) == 0)
        {
            WakeWaiters(stripe);
        }
    }

    public void EnterExclusive(int stripe) => Enter(stripe, exclusive: true);

    public void ExitExclusive(int stripe)
    {
        // Counted before the release, and after whatever the writer did: a reader that sees the new count sees the write.
        Interlocked.Increment(ref _state[(stripe * 16) + 1]);
        Interlocked.Exchange(ref Slot(stripe), 0);
        WakeWaiters(stripe);
    }

    /// <summary>
    /// How many exclusive sections of <paramref name="stripe"/> have ended. Read it before reading a key without its lock;
    /// if it is unchanged later under the lock, no write to any key of the stripe happened in between.
    /// </summary>
    public int WriteVersion(int stripe) => Volatile.Read(ref _state[(stripe * 16) + 1]);

    /// <summary>Takes every stripe exclusively (FLUSHALL, SWAPDB), in order.</summary>
    public void EnterAll()
    {
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
    }

    private void Enter(int stripe, bool exclusive)
    {
        SpinWait spin = default;
        while (!TryEnter(stripe, exclusive))
        {
            if (spin.Count >= SpinsBeforeBlocking)
            {
                Block(stripe, exclusive);
                return;
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    private bool TryEnter(int stripe, bool exclusive)
    {
        ref int state = ref Slot(stripe);
        int current = Volatile.Read(ref state);
        return exclusive
            ? current == 0 && Interlocked.CompareExchange(ref state, -1, 0) == 0
            : current >= 0 && Interlocked.CompareExchange(ref state, current + 1, current) == current;
    }

    private void Block(int stripe, bool exclusive)
    {
        ref int waiters = ref _state[(stripe * 16) + 2];
        object gate = _gates[stripe];
        lock (gate)
        {
            // Registered (a full fence) before looking at the stripe again; a releaser stores the state, then (a full
            // fence) reads the count: either this thread sees the stripe free, or the releaser sees it waiting and
            // takes the gate, which it can only get once this thread waits on it, so the wake-up is never lost.
            Interlocked.Increment(ref waiters);
            try
            {
                while (!TryEnter(stripe, exclusive))
                {
                    Monitor.Wait(gate);
                }

                if (!exclusive && Volatile.Read(ref waiters) > 1)
                {
                    // The next waiter may be a reader too; a writer woken here just waits again.
                    Monitor.Pulse(gate);
                }
            }
            finally
            {
                Interlocked.Decrement(ref waiters);
            }
        }
    }

    private void WakeWaiters(int stripe)
    {
        if (Volatile.Read(ref _state[(stripe * 16) + 2]) == 0)
        {
            return;
        }

        object gate = _gates[stripe];
        lock (gate)
        {
            Monitor.Pulse(gate);
        }
    }

    // One stripe per 64-byte cache line, so that neighbouring stripes do not contend.
    private ref int Slot(int stripe) => ref _state[stripe * 16];
}
