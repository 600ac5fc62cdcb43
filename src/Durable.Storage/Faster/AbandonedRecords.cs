using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Durable.Storage.Faster;

/// <summary>
/// Repairs, in the log's segment files, the records FASTER 2.6.5 allocated and then abandoned in a way its own scans
/// cannot walk past. When a write loses the race for its key's hash entry, or the record it copies from leaves memory
/// while it allocates, FASTER marks the new record invalid and, to reuse it in its retry, stores the allocation's size
/// in the key's length (<c>SaveAllocationForRetry</c>). When the retry cannot reuse it (the chain head moved above it,
/// or the retry went to disk), the record stays so. A scan (<c>GetRecordSize</c>) then takes that size for the key's
/// length and a value length from the bytes of the records after it, and skips the rest of the page: the records there
/// are invisible to SCAN, to the key count of a recovery, and to compaction, which drops them (the crash tool's loss of
/// consecutive keys of one client: a diagnostic build found such a record, its allocation 120 bytes, at the start of
/// the page whose unscanned records were the ones lost; session 22). Such a record is recognised by its layout: invalid,
/// its key length a multiple of 8 that equals the size of a record whose key and value lengths sit where the original
/// ones were. It is rewritten as an empty key followed by a value that fills the allocation, still invalid, so that
/// scans step over exactly the allocation. Only a record FASTER's scan would not step over is touched (one whose sizes
/// run past its page): an abandoned record whose stray value length happens to fit is left, as FASTER walks it. Pages
/// below the head address are repaired on disk (never written by FASTER again): before a compaction reads its range,
/// before a recovery counts the keys of the whole log, and before FASTER's recovery walks the log's files and the
/// snapshot to rebuild the index (a page's later records would keep their keys' older index entries). In memory, each
/// allocation FASTER reports giving up is repaired once the operation that could still reuse it has ended
/// (<see cref="RepairAllocation"/>, <see cref="FasterStore.RepairAbandonedAllocations"/>; session 23), so that SCAN
/// does not skip the rest of its page while the page is in memory.
/// </summary>
internal static class AbandonedRecords
{
    private const int RecordInfoBytes = 8;
    private const int LengthBytes = 4;
    private const long ValidBit = 1L << 56;
    private const int LengthMask = 0x3FFF_FFFF;

    /// <summary>
    /// Repairs the abandoned records in [<paramref name="from"/>, <paramref name="until"/>) (from a record boundary,
    /// below the head address) of the segment files <paramref name="segmentPathPrefix"/>.N; returns how many it repaired.
    /// </summary>
    public static int Repair(string segmentPathPrefix, int segmentBits, int pageBits, long from, long until)
    {
        long pageBytes = 1L << pageBits;
        byte[] page = new byte[pageBytes];
        int repaired = 0;
        long address = from;
        while (address < until)
        {
            long pageStart = address & ~(pageBytes - 1);
            long segment = pageStart >> segmentBits;
            string path = segmentPathPrefix + "." + segment.ToString(CultureInfo.InvariantCulture);
            if (!File.Exists(path))
            {
                // Deleted below the begin address meanwhile: nothing left to repair there.
                address = pageStart + pageBytes;
                continue;
            }

            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            long offsetInFile = pageStart & ((1L << segmentBits) - 1);
            int read = RandomAccess.Read(file, page, offsetInFile);
            page.AsSpan(read).Clear();
            int end = (int)Math.Min(pageBytes, until - pageStart);
            foreach (int record in RepairPage(page, (int)(address - pageStart), end))
            {
                // The key's length and the value's length, 8 bytes from the record's start.
                RandomAccess.Write(file, page.AsSpan(record + RecordInfoBytes, RecordInfoBytes + LengthBytes), offsetInFile + record + RecordInfoBytes);
                repaired++;
            }

            address = pageStart + pageBytes;
        }

        return repaired;
    }

    /// <summary>
    /// Walks the records of <paramref name="page"/> from <paramref name="start"/> (a record boundary) up to
    /// <paramref name="end"/> as FASTER's scan does, rewriting in the buffer each abandoned record it meets; returns their
    /// offsets.
    /// </summary>
    internal static List<int> RepairPage(Span<byte> page, int start, int end)
    {
        List<int> repaired = [];
        int offset = start;
        while (offset + RecordInfoBytes + LengthBytes <= end)
        {
            long info = BinaryPrimitives.ReadInt64LittleEndian(page[offset..]);
            if (info == 0)
            {
                offset += RecordInfoBytes;
                continue;
            }

            int keyLength = BinaryPrimitives.ReadInt32LittleEndian(page[(offset + RecordInfoBytes)..]) & LengthMask;
            long size = RecordSize(page, offset, keyLength);
            bool fits = size > 0 && offset + size <= page.Length;
            // Only where FASTER's scan would give up the rest of the page: a record of its own always fits.
            if (!fits && IsInvalid(info) && IsAbandoned(page, offset, keyLength))
            {
                Rewrite(page, offset, keyLength);
                repaired.Add(offset);
                offset += keyLength;
                continue;
            }

            if (!fits)
            {
                // What FASTER's scan does with a record that does not fit: go on at the next page.
                break;
            }

            offset += (int)size;
        }

        return repaired;
    }

    /// <summary>
    /// Repairs, in the log's memory, an allocation FASTER reported abandoning (its Dispose callback, right before it saves
    /// the allocation for a retry: <see cref="StoreFunctions"/>), once the operation that could reuse it has ended.
    /// <paramref name="record"/> runs from the record to its page's end; <paramref name="keyLength"/> is the key length the
    /// record had when FASTER gave it up. Rewritten only while it is still what saving it made: invalid, and its key length
    /// replaced by a size that the original key and value lengths fill exactly (whether or not that size happens to fit
    /// the page: the bytes after it, which decide, may still be zeros at the tail). Returns whether it rewrote it.
    /// </summary>
    internal static bool RepairAllocation(Span<byte> record, int keyLength)
    {
        if (record.Length < 3 * RecordInfoBytes)
        {
            return false;
        }

        int allocation = BinaryPrimitives.ReadInt32LittleEndian(record[RecordInfoBytes..]) & LengthMask;
        long keyBytes = Align(LengthBytes + (long)keyLength);
        if (!IsInvalid(record) || allocation == keyLength || allocation % 8 != 0 || allocation > record.Length ||
            !OriginalLayoutFills(record, 0, keyBytes, allocation))
        {
            return false;
        }

        Rewrite(record, 0, allocation);
        return true;
    }

    /// <summary>Whether the record at the start of <paramref name="record"/> is invalid (FASTER's valid bit clear).</summary>
    internal static bool IsInvalid(ReadOnlySpan<byte> record) => IsInvalid(BinaryPrimitives.ReadInt64LittleEndian(record));

    private static bool IsInvalid(long recordInfo) => (recordInfo & ValidBit) == 0;

    // Whether a key of keyBytes (length and bytes, padded) followed by the value length found after it fill exactly
    // allocation bytes: the layout the record had before FASTER stored the allocation's size in its key's length.
    private static bool OriginalLayoutFills(ReadOnlySpan<byte> page, int offset, long keyBytes, int allocation)
    {
        if (RecordInfoBytes + keyBytes + LengthBytes > allocation)
        {
            return false;
        }

        int valueLength = BinaryPrimitives.ReadInt32LittleEndian(page[(int)(offset + RecordInfoBytes + keyBytes)..]) & LengthMask;
        return Align(RecordInfoBytes + keyBytes + LengthBytes + (long)valueLength) == allocation;
    }

    // An empty key (its length 0 takes 8 bytes with padding) and a value filling the rest: the record's size is the
    // allocation's (8 + 8 + 4 + (allocation - 20), rounded to 8), and it stays invalid. The value's length goes first, so
    // that a scan reading meanwhile sees the old key length (and gives up the page, as before) or both.
    private static void Rewrite(Span<byte> page, int offset, int allocation)
    {
        BinaryPrimitives.WriteInt32LittleEndian(page[(offset + (2 * RecordInfoBytes))..], allocation - (2 * RecordInfoBytes) - LengthBytes);
        BinaryPrimitives.WriteInt32LittleEndian(page[(offset + RecordInfoBytes)..], 0);
    }

    /// <summary>
    /// Whether the record at <paramref name="offset"/> is an abandoned allocation: its key length a multiple of 8 and at
    /// least a record's minimum that lies within the page, and some key length in the original layout leading to a value
    /// length that together fill exactly that many bytes.
    /// </summary>
    private static bool IsAbandoned(ReadOnlySpan<byte> page, int offset, int allocation)
    {
        if (allocation % 8 != 0 || allocation < 3 * RecordInfoBytes || offset + allocation > page.Length)
        {
            return false;
        }

        for (int keyBytes = RecordInfoBytes; keyBytes <= allocation - (2 * RecordInfoBytes); keyBytes += RecordInfoBytes)
        {
            if (OriginalLayoutFills(page, offset, keyBytes, allocation))
            {
                return true;
            }
        }

        return false;
    }

    // FASTER's GetRecordSize for a SpanByte key and value: header, key (length and bytes) padded to 8, value, padded to 8.
    private static long RecordSize(ReadOnlySpan<byte> page, int offset, int keyLength)
    {
        long keyBytes = Align(LengthBytes + (long)keyLength);
        long valueAt = offset + RecordInfoBytes + keyBytes;
        if (valueAt + LengthBytes > page.Length)
        {
            return -1;
        }

        int valueLength = BinaryPrimitives.ReadInt32LittleEndian(page[(int)valueAt..]) & LengthMask;
        return Align(RecordInfoBytes + keyBytes + LengthBytes + (long)valueLength);
    }

    private static long Align(long bytes) => (bytes + 7) & ~7L;
}
