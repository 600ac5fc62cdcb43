using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace Durable.Storage.Persistence;

/// <summary>
/// How a part record's payload changed in one write, as at most two splices of the old payload, so that the WAL can
/// carry the change (<see cref="WalRecordKind.PartEdit"/>) instead of the whole part: a sorted-set leaf that loses or
/// gains a member changes its item count (a byte of the header) and one stretch; an inner node changes one or two
/// member counts; a bucket, a value. Found by comparing the old and new payloads (<see cref="Find"/>): a first splice
/// of at most <see cref="PatchBytes"/> changed bytes that keeps the length (a count), then one splice of any length
/// between the common prefix and the common suffix of what is left.
/// The old payload's length and XxHash3 identify the state the edit applies to: replay applies it only to a part that
/// holds exactly that payload (<see cref="TryApply"/>) and leaves any other as it is (docs/persistence.md, "Part edits").
/// </summary>
public readonly record struct PartEdit(ulong OldHash, int OldLength, int Count, PartEdit.Splice First, PartEdit.Splice Second)
{
    /// <summary>Most bytes a same-length first splice (a count changed in place) may replace.</summary>
    public const int PatchBytes = 8;

    // Common bytes needed after a same-length patch for it to be taken as one (else one splice covers everything).
    private const int PatchRun = 16;

    /// <summary>Bytes of the edit's body besides the inserted bytes: hash, old length, count, and 12 per splice.</summary>
    public int FixedSize => 8 + 4 + 4 + (12 * Count);

    /// <summary>Bytes inserted by the splices.</summary>
    public int InsertedBytes => (Count > 0 ? First.Inserted : 0) + (Count > 1 ? Second.Inserted : 0);

    /// <summary>
    /// The edit turning <paramref name="old"/> into <paramref name="updated"/>; <see cref="Count"/> 0 when they are equal.
    /// Allocates nothing; reads each payload once or twice.
    /// </summary>
    public static PartEdit Find(ReadOnlySpan<byte> old, ReadOnlySpan<byte> updated)
    {
        ulong hash = XxHash3.HashToUInt64(old);
        int prefix = old.CommonPrefixLength(updated);
        if (prefix == old.Length && prefix == updated.Length)
        {
            return new PartEdit(hash, old.Length, 0, default, default);
        }

        Splice first = default;
        int count = 0;
        int shortest = Math.Min(old.Length, updated.Length);
        for (int changed = 1; changed <= PatchBytes && prefix + changed < shortest; changed++)
        {
            int run = old[(prefix + changed)..].CommonPrefixLength(updated[(prefix + changed)..]);
            if (run >= PatchRun || (prefix + changed + run == old.Length && old.Length == updated.Length))
            {
                first = new Splice(prefix, changed, prefix, changed);
                count = 1;
                prefix += changed + run;
                break;
            }
        }

        if (prefix == old.Length && prefix == updated.Length)
        {
            return new PartEdit(hash, old.Length, count, first, default);
        }

        int limit = Math.Min(old.Length, updated.Length) - prefix;
        int suffix = Math.Min(limit, CommonSuffixLength(old[prefix..], updated[prefix..]));
        Splice main = new(prefix, old.Length - suffix - prefix, prefix, updated.Length - suffix - prefix);
        return count == 0 ? new PartEdit(hash, old.Length, 1, main, default) : new PartEdit(hash, old.Length, 2, first, main);
    }

    /// <summary>Writes the edit's body (layout in <see cref="WalRecord"/>), the inserted bytes taken from <paramref name="updated"/>.</summary>
    public int WriteTo(Span<byte> destination, ReadOnlySpan<byte> updated)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, OldHash);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], OldLength);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], Count);
        int position = 16;
        for (int i = 0; i < Count; i++)
        {
            Splice splice = i == 0 ? First : Second;
            BinaryPrimitives.WriteInt32LittleEndian(destination[position..], splice.OldOffset);
            BinaryPrimitives.WriteInt32LittleEndian(destination[(position + 4)..], splice.Removed);
            BinaryPrimitives.WriteInt32LittleEndian(destination[(position + 8)..], splice.Inserted);
            updated.Slice(splice.NewOffset, splice.Inserted).CopyTo(destination[(position + 12)..]);
            position += 12 + splice.Inserted;
        }

        return position;
    }

    /// <summary>Whether <paramref name="body"/> is a well-formed edit body: splices in order, inside the old payload, bytes present.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> body)
    {
        if (body.Length < 16)
        {
            return false;
        }

        int oldLength = BinaryPrimitives.ReadInt32LittleEndian(body[8..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(body[12..]);
        if (oldLength < 0 || count is < 0 or > 2)
        {
            return false;
        }

        int position = 16;
        int end = 0;
        for (int i = 0; i < count; i++)
        {
            if (body.Length - position < 12)
            {
                return false;
            }

            int offset = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
            int removed = BinaryPrimitives.ReadInt32LittleEndian(body[(position + 4)..]);
            int inserted = BinaryPrimitives.ReadInt32LittleEndian(body[(position + 8)..]);
            if (offset < end || removed < 0 || inserted < 0 || (long)offset + removed > oldLength || body.Length - position - 12 < inserted)
            {
                return false;
            }

            end = offset + removed;
            position += 12 + inserted;
        }

        return position == body.Length;
    }

    /// <summary>
    /// Writes to <paramref name="output"/> the payload that the edit <paramref name="body"/> (well-formed) makes of
    /// <paramref name="old"/>, and returns true; false, writing nothing, when <paramref name="old"/> is not the payload the
    /// edit was made from (another length or hash).
    /// </summary>
    public static bool TryApply(ReadOnlySpan<byte> body, ReadOnlySpan<byte> old, IBufferWriter<byte> output)
    {
        if (BinaryPrimitives.ReadInt32LittleEndian(body[8..]) != old.Length || BinaryPrimitives.ReadUInt64LittleEndian(body) != XxHash3.HashToUInt64(old))
        {
            return false;
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(body[12..]);
        int position = 16;
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            int offset = BinaryPrimitives.ReadInt32LittleEndian(body[position..]);
            int removed = BinaryPrimitives.ReadInt32LittleEndian(body[(position + 4)..]);
            int inserted = BinaryPrimitives.ReadInt32LittleEndian(body[(position + 8)..]);
            output.Write(old[kept..offset]);
            output.Write(body.Slice(position + 12, inserted));
            kept = offset + removed;
            position += 12 + inserted;
        }

        output.Write(old[kept..]);
        return true;
    }

    // Compared 64 bytes at a time (vectorized) from the end, then byte by byte in the block that differs.
    private static int CommonSuffixLength(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        const int Block = 64;
        int length = 0;
        int shortest = Math.Min(a.Length, b.Length);
        while (shortest - length >= Block && a.Slice(a.Length - length - Block, Block).SequenceEqual(b.Slice(b.Length - length - Block, Block)))
        {
            length += Block;
        }

        while (length < shortest && a[a.Length - 1 - length] == b[b.Length - 1 - length])
        {
            length++;
        }

        return length;
    }

    /// <summary>
    /// Bytes [<paramref name="OldOffset"/>, +<paramref name="Removed"/>) of the old payload become bytes
    /// [<paramref name="NewOffset"/>, +<paramref name="Inserted"/>) of the new one.
    /// </summary>
    public readonly record struct Splice(int OldOffset, int Removed, int NewOffset, int Inserted);
}
