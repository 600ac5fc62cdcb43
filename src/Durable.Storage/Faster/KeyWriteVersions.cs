using System.IO.Hashing;

namespace Durable.Storage.Faster;

/// <summary>
/// Counts the writes of every stored key into one of 65,536 counters by key hash (256 KiB): every upsert, RMW and
/// delete of the sessions counts after it is applied. A record read without the key's lock is still the key's newest
/// when its counter, taken before the read began, has not moved by the time it is used under the lock (a write of
/// another key with the same counter only makes the check fail safe). Finer than a stripe's write version, which every
/// write to any key of the stripe (every part of a collection, which share their root's stripe) moves.
/// </summary>
internal sealed class KeyWriteVersions
{
    private const int CounterBits = 16;

    private readonly int[] _versions = new int[1 << CounterBits];

    public int Of(ReadOnlySpan<byte> storedKey) => Volatile.Read(ref _versions[Slot(storedKey)]);

    public void Written(ReadOnlySpan<byte> storedKey) => Interlocked.Increment(ref _versions[Slot(storedKey)]);

    private static int Slot(ReadOnlySpan<byte> storedKey) => (int)(XxHash3.HashToUInt64(storedKey) >> (64 - CounterBits));
}
