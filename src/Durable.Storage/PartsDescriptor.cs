using System.Buffers.Binary;

namespace Durable.Storage;

/// <summary>
/// The start of the payload of a collection record whose members live in separate <em>part</em> records
/// (<see cref="RecordType.Part"/>, read and written with <see cref="IStoreSession.TryReadPart"/> and its siblings):
/// byte 0 <see cref="Marker"/> (0xC0; a compact collection's payload starts with its own format version, 1),
/// byte 1 format version (1), bytes 2..9 the generation (u64 little-endian), bytes 10..13 the first part id and
/// bytes 14..17 the part count (u32 little-endian each): parts first..first+count-1 of that generation may exist
/// (a list's chunks grow both ways from the middle of the id space). What follows belongs to the collection.
/// The store deletes every part of a generation when its record is deleted, expires, or is replaced by a record that
/// does not carry the same generation. Pinned by PartsDescriptorTests; change only by adding a version.
/// </summary>
public readonly record struct PartsDescriptor(ulong Generation, uint FirstPart, uint PartCount)
{
    public const byte Marker = 0xC0;
    public const byte CurrentVersion = 1;
    public const int Size = 18;

    /// <summary>Stored key of a part: 0xFF 0x01 (store metadata, never a client key), generation, part id, little-endian.</summary>
    public const int PartKeySize = 14;

    /// <summary>A fresh random generation (never 0), unique in practice among the store's collections.</summary>
    public static ulong NewGeneration()
    {
        ulong generation;
        do
        {
            generation = (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue);
        }
        while (generation == 0);

        return generation;
    }

    /// <summary>Whether records of <paramref name="type"/> may carry parts: the collection types and streams.</summary>
    public static bool MayHaveParts(RecordType type) => type is RecordType.Hash or RecordType.Set or RecordType.SortedSet or RecordType.List or RecordType.Stream;

    /// <summary>Reads the descriptor at the start of <paramref name="payload"/> when a record of <paramref name="type"/> has one.</summary>
    public static bool TryRead(RecordType type, ReadOnlySpan<byte> payload, out PartsDescriptor descriptor)
    {
        if (!MayHaveParts(type) || payload.Length < Size || payload[0] != Marker)
        {
            descriptor = default;
            return false;
        }

        if (payload[1] != CurrentVersion)
        {
            throw new InvalidDataException($"collection parts format version {payload[1]} is not supported by this build (expected {CurrentVersion}); the data directory was written by a newer Durable");
        }

        descriptor = new PartsDescriptor(
            BinaryPrimitives.ReadUInt64LittleEndian(payload[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[10..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[14..]));
        return true;
    }

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = Marker;
        destination[1] = CurrentVersion;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[2..], Generation);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[10..], FirstPart);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[14..], PartCount);
    }

    /// <summary>Writes the stored key of part <paramref name="part"/> of <paramref name="generation"/>.</summary>
    public static void WritePartKey(Span<byte> destination, ulong generation, uint part)
    {
        destination[0] = 0xFF;
        destination[1] = 0x01;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[2..], generation);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[10..], part);
    }
}
