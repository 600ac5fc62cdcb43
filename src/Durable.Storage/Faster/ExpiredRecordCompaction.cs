using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// Tells FASTER's compaction which records it may drop besides tombstones: those that expired at or before
/// <paramref name="expiredBeforeMs"/>. <see cref="LogCompactor"/> first deletes (logged and counted) every live record of
/// the compacted range that has expired by then, so every record this drops is already dead and key counts stay exact.
/// </summary>
internal readonly struct ExpiredRecordCompaction(long expiredBeforeMs) : ICompactionFunctions<SpanByte, SpanByte>
{
    public bool IsDeleted(ref SpanByte key, ref SpanByte value)
    {
        ReadOnlySpan<byte> stored = value.AsReadOnlySpan();
        if (stored.Length < RecordHeader.Size)
        {
            return false;
        }

        return RecordHeader.Read(stored).IsExpiredAt(expiredBeforeMs);
    }
}
