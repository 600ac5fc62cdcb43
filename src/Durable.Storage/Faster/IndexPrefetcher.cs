using System.Reflection;
using System.Runtime.Intrinsics.X86;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// Starts loading into the CPU cache the hash index bucket that an operation on a key will look up first, so that a
/// pipeline's next command finds it there (<see cref="IStoreSession.PrefetchIndexEntry"/>). The index is larger than the
/// caches (a 16th of <c>memory</c>) and keys spread over it: at <c>-P 16</c> over 100,000 keys, a SET's RMW spent over
/// half of its time waiting for that bucket (perf, the load of the bucket's first entry). FASTER 2.6.5 keeps the bucket
/// array internal (<c>FasterBase.state</c>, the table of the current <c>resizeInfo.version</c>): it is found by
/// reflection, and again when the index's size changes (growth, the recovery of a grown index) or after a recovery
/// (<see cref="Refresh"/>). A prefetch never faults, so an address that a resize made stale costs only the miss.
/// </summary>
internal sealed unsafe class IndexPrefetcher
{
    private static readonly FieldInfo? s_state = typeof(FasterBase).GetField("state", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly FieldInfo? s_resizeInfo = typeof(FasterBase).GetField("resizeInfo", BindingFlags.Instance | BindingFlags.NonPublic);

    private readonly FasterKV<SpanByte, SpanByte> _kv;
    private volatile Table? _table;

    public IndexPrefetcher(FasterKV<SpanByte, SpanByte> kv)
    {
        _kv = kv;
        _table = Find(kv);
    }

    /// <summary>Buckets of the table prefetches go to (tests: the index's current one), 0 when none was found.</summary>
    internal long BucketCount => Current() is { } table ? table.Mask + 1 : 0;

    /// <summary>Prefetches the bucket of <paramref name="storedKey"/> (the key as FASTER stores it).</summary>
    public void Prefetch(ReadOnlySpan<byte> storedKey)
    {
        if (!Sse.IsSupported || Current() is not { } table)
        {
            return;
        }

        // Pinned: the key, for FASTER's hash of it.
        fixed (byte* k = storedKey)
        {
            SpanByte key = SpanByte.FromPointer(k, storedKey.Length);
            long hash = SpanByteComparer.StaticGetHashCode64(ref key);
            Sse.Prefetch0((byte*)table.Buckets + ((hash & table.Mask) * 64));
        }
    }

    /// <summary>Forgets the table found, which recovery may have replaced by one of the same size.</summary>
    public void Refresh() => _table = Find(_kv);

    // The table found, or the index's new one once its size changed (growth; recovery of a grown index). A resize only
    // finishes some time after GrowIndex returns, hence the check here rather than a refresh after growth.
    private Table? Current()
    {
        Table? table = _table;
        if (table is null || table.Mask + 1 == _kv.IndexSize)
        {
            return table;
        }

        return _table = Find(_kv);
    }

    private static Table? Find(FasterBase kv)
    {
        if (s_state?.GetValue(kv) is not Array states || s_resizeInfo?.GetValue(kv) is not { } resizeInfo
            || resizeInfo.GetType().GetField("version", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(resizeInfo) is not int version
            || version < 0 || version >= states.Length || states.GetValue(version) is not { } table)
        {
            return null;
        }

        Type type = table.GetType();
        return type.GetField("tableAligned")?.GetValue(table) is { } aligned && type.GetField("size_mask")?.GetValue(table) is long mask && mask > 0
            ? new Table((nint)Pointer.Unbox(aligned), mask)
            : null;
    }

    private sealed record Table(nint Buckets, long Mask);
}
