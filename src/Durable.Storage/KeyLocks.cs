using System.IO.Hashing;

namespace Durable.Storage;

/// <summary>
/// Striped reader-writer locks over keys. A command locks the stripes of all its keys, in ascending stripe order,
/// shared to read and exclusive to write, before it touches the store, and releases them when it has replied.
/// No lock is ever held across an await. Stripe state: 0 free, n &gt; 0 readers, -1 writer. Each stripe also counts its
/// exclusive sections (<see cref="WriteVersion"/>), so that a value read without the lock can be checked for a write since.
/// </summary>
public sealed class KeyLocks
{
    public const int StripeCount = 4096;
    private readonly int[] _state = new int[StripeCount * 16];

    /// <summary>The stripe of a key: independent of the database, so that MOVE and COPY across databases lock one stripe.</summary>
    public static int StripeOf(ReadOnlySpan<byte> key) => (int)(XxHash3.HashToUInt64(key) & (StripeCount - 1));

    public void EnterShared(int stripe)
    {
        ref int state = ref Slot(stripe);
        SpinWait spin = default;
        while (true)
        {
            int current = Volatile.Read(ref state);
            if (current >= 0 && Interlocked.CompareExchange(ref state, current + 1, current) == current)
            {
                return;
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    public void ExitShared(int stripe) => Interlocked.Decrement(ref Slot(stripe));

    public void EnterExclusive(int stripe)
    {
        ref int state = ref Slot(stripe);
        SpinWait spin = default;
        while (Interlocked.CompareExchange(ref state, -1, 0) != 0)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    public void ExitExclusive(int stripe)
    {
        // Counted before the release, and after whatever the writer did: a reader that sees the new count sees the write.
        Interlocked.Increment(ref _state[(stripe * 16) + 1]);
        Volatile.Write(ref Slot(stripe), 0);
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

    // One stripe per 64-byte cache line, so that neighbouring stripes do not contend.
    private ref int Slot(int stripe) => ref _state[stripe * 16];
}
