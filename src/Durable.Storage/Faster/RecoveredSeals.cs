using System.Reflection;
using System.Runtime.CompilerServices;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// Clears the stale seal and lock bits of recovered records that FASTER 2.6.5's recovery leaves in memory. An operation
/// of a checkpoint's next version seals the record it copies from; recovery undoes the copy but the seal stays, and an
/// operation on a sealed record in memory retries for ever while scans (SCAN, the key count of the whole log,
/// compaction) skip it. Recovery clears those bits on the pages it loads (<c>ClearLocksOnPage</c>) except, for a
/// snapshot checkpoint, on the snapshot's pages below the head address the checkpoint recorded, which it keeps in
/// memory all the same when the snapshot begins below that head. This walks pages as <c>ClearLocksOnPage</c> does,
/// through FASTER's own allocator (internal: found by reflection, as <see cref="IndexPrefetcher"/> finds the index).
/// </summary>
internal static unsafe class RecoveredSeals
{
    /// <summary>RecordInfo's sealed bit (57) and lock bits (48-54) in FASTER 2.6.5; ClearBitsForDiskImages also clears the dirty bit.</summary>
    private const long SealAndLockBits = (1L << 57) | (0x7FL << 48);

    private static readonly FieldInfo? s_hlog = typeof(FasterKV<SpanByte, SpanByte>).GetField("hlog", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>
    /// Clears the bits on every page of <paramref name="kv"/>'s log from the one holding <paramref name="from"/> to the one
    /// holding the address before <paramref name="until"/>, all in memory (the caller checked) and with no operation
    /// running; returns how many records had any of them set.
    /// </summary>
    public static long Clear(FasterKV<SpanByte, SpanByte> kv, int pageBits, long from, long until)
    {
        object hlog = s_hlog?.GetValue(kv) ?? throw Missing("FasterKV.hlog");
        Type allocator = hlog.GetType();
        Func<long, long> physicalAddress = allocator.GetMethod("GetPhysicalAddress", [typeof(long)])?.CreateDelegate<Func<long, long>>(hlog)
            ?? throw Missing(allocator.Name + ".GetPhysicalAddress");
        Func<long, (int, int)> recordSize = allocator.GetMethod("GetRecordSize", [typeof(long)])?.CreateDelegate<Func<long, (int, int)>>(hlog)
            ?? throw Missing(allocator.Name + ".GetRecordSize");
        long pageSize = 1L << pageBits;
        long cleared = 0;
        for (long page = from >> pageBits; page << pageBits < until; page++)
        {
            long start = physicalAddress(page << pageBits);
            long offset = 0;
            while (offset < pageSize)
            {
                ref RecordInfo info = ref Unsafe.AsRef<RecordInfo>((void*)(start + offset));
                if ((*(long*)(start + offset) & SealAndLockBits) != 0)
                {
                    cleared++;
                }

                info.ClearBitsForDiskImages();

                offset += info.IsNull() ? RecordInfo.GetLength() : recordSize(start + offset).Item2;
            }
        }

        return cleared;
    }

    private static InvalidOperationException Missing(string member) =>
        new($"FASTER's {member} was not found: this build expects Microsoft.FASTER.Core 2.6.5, whose recovery leaves some records sealed in memory");
}
