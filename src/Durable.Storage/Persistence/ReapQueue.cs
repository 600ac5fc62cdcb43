using System.Buffers.Binary;

namespace Durable.Storage.Persistence;

/// <summary>
/// The collections whose parts the background reaper still has to delete (UNLINK, and the lazyfree settings): the payload
/// of the store metadata record <see cref="Key"/>, which is logged and checkpointed like any record, so that a reap the
/// server did not finish goes on after a restart. Byte 0 format version (1); bytes 1..4 the entry count (u32); then per
/// entry 20 bytes: generation (u64), first part (u32), part count (u32), parts already deleted (u32), all little-endian:
/// parts first+deleted .. first+count-1 of the generation may still exist. Pinned by ReapQueueTests; change only by
/// adding a version.
/// </summary>
public static class ReapQueue
{
    public const byte CurrentVersion = 1;
    public const int HeaderSize = 5;
    public const int EntrySize = 20;

    /// <summary>The stored key: store metadata (0xFF), never a client key, skipped by SCAN and the key counts.</summary>
    public static ReadOnlySpan<byte> Key => [0xFF, (byte)'r', (byte)'e', (byte)'a', (byte)'p'];

    /// <summary>The parts of <paramref name="Generation"/> from <paramref name="FirstPart"/> + <paramref name="Deleted"/> on are still to go.</summary>
    public readonly record struct Entry(ulong Generation, uint FirstPart, uint PartCount, uint Deleted)
    {
        public uint Remaining => PartCount - Deleted;
    }

    public static int Size(int entries) => HeaderSize + (entries * EntrySize);

    public static void Encode(IReadOnlyList<Entry> entries, Span<byte> destination)
    {
        destination[0] = CurrentVersion;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            Span<byte> at = destination[(HeaderSize + (i * EntrySize))..];
            BinaryPrimitives.WriteUInt64LittleEndian(at, entries[i].Generation);
            BinaryPrimitives.WriteUInt32LittleEndian(at[8..], entries[i].FirstPart);
            BinaryPrimitives.WriteUInt32LittleEndian(at[12..], entries[i].PartCount);
            BinaryPrimitives.WriteUInt32LittleEndian(at[16..], entries[i].Deleted);
        }
    }

    /// <summary>Replaces <paramref name="entries"/>' contents with the queue in <paramref name="payload"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> payload, List<Entry> entries)
    {
        entries.Clear();
        if (payload.Length < HeaderSize)
        {
            throw new InvalidDataException($"the reaper's queue record is {payload.Length} bytes, shorter than its header");
        }

        if (payload[0] != CurrentVersion)
        {
            throw new InvalidDataException($"reaper queue format version {payload[0]} is not supported by this build (expected {CurrentVersion}); the data directory was written by a newer Durable");
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]);
        if (payload.Length != Size((int)Math.Min(count, int.MaxValue / EntrySize)))
        {
            throw new InvalidDataException($"the reaper's queue record says {count} entries but holds {payload.Length} bytes");
        }

        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> at = payload[(HeaderSize + (i * EntrySize))..];
            Entry entry = new(
                BinaryPrimitives.ReadUInt64LittleEndian(at),
                BinaryPrimitives.ReadUInt32LittleEndian(at[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(at[12..]),
                BinaryPrimitives.ReadUInt32LittleEndian(at[16..]));
            if (entry.Deleted > entry.PartCount)
            {
                throw new InvalidDataException($"the reaper's queue record says {entry.Deleted} of {entry.PartCount} parts of a collection were deleted");
            }

            entries.Add(entry);
        }
    }
}
