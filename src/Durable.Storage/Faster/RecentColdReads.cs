using System.IO.Hashing;

namespace Durable.Storage.Faster;

/// <summary>
/// Which keys were read from disk lately: a table of key hashes shared by every session (the read cache's "hot enough"
/// rule), in buckets of two slots, newest first. A key read from disk while its hash is still in its bucket (fewer than
/// two cold reads of other keys of the bucket came since) is read for the second time within the window and worth
/// copying back to the log's tail; a key read from disk once is not, so a uniform read over a key space far larger than
/// memory seldom turns a cold read into a log write. The window is about as many cold reads as the table has slots; two
/// slots a bucket, so that two hot keys sharing a bucket and read in turn do not push each other out forever. Lock-free:
/// a race between two cold reads of one bucket only moves a copy one cold read earlier or later; of two sessions
/// reading the same hot key, one copies.
/// </summary>
internal sealed class RecentColdReads
{
    private readonly ulong[] _slots;
    private readonly int _bucketMask;

    /// <param name="bytes">Size of the table, a power of two of at least 16 bytes (one 8-byte hash a slot).</param>
    public RecentColdReads(long bytes)
    {
        _slots = new ulong[bytes / sizeof(ulong)];
        _bucketMask = (_slots.Length / 2) - 1;
    }

    /// <summary>
    /// Notes a read of <paramref name="storedKey"/> that went to disk; true when the key was read from disk within the
    /// window already (its mark is then taken, so the next copy needs two more cold reads).
    /// </summary>
    public bool IsRepeat(ReadOnlySpan<byte> storedKey)
    {
        // Never 0, which marks an empty slot; the bucket comes from the high bits, so the low one costs no spread.
        ulong hash = XxHash3.HashToUInt64(storedKey) | 1;
        int bucket = ((int)(hash >> 40) & _bucketMask) * 2;
        ref ulong newest = ref _slots[bucket];
        ref ulong older = ref _slots[bucket + 1];
        if (Take(ref newest, hash) || Take(ref older, hash))
        {
            return true;
        }

        Volatile.Write(ref older, Volatile.Read(ref newest));
        Volatile.Write(ref newest, hash);
        return false;
    }

    private static bool Take(ref ulong slot, ulong hash) =>
        Volatile.Read(ref slot) == hash && Interlocked.CompareExchange(ref slot, 0, hash) == hash;
}
