namespace Durable.Storage.Persistence;

/// <summary>
/// The physical databases that FLUSHDB ASYNC and FLUSHALL ASYNC (and FLUSHDB/FLUSHALL under lazyfree-lazy-user-flush)
/// detached from their logical database, whose records the background reaper still has to delete: the payload of the store
/// metadata record <see cref="Key"/>, logged and checkpointed like any record, so that a reap the server did not finish
/// goes on after a restart and no physical number is handed out again before its records are gone. Byte 0 format version
/// (1); byte 1 the count; then one byte per physical database, oldest first. Pinned by ReaperTests; change only by adding
/// a version.
/// </summary>
public static class DroppedDatabases
{
    public const byte CurrentVersion = 1;
    public const int HeaderSize = 2;

    /// <summary>The stored key: store metadata (0xFF), never a client key, skipped by SCAN and the key counts.</summary>
    public static ReadOnlySpan<byte> Key => [0xFF, (byte)'d', (byte)'r', (byte)'o', (byte)'p'];

    public static int Size(int count) => HeaderSize + count;

    public static void Encode(IReadOnlyList<byte> physical, Span<byte> destination)
    {
        destination[0] = CurrentVersion;
        destination[1] = checked((byte)physical.Count);
        for (int i = 0; i < physical.Count; i++)
        {
            destination[HeaderSize + i] = physical[i];
        }
    }

    /// <summary>Replaces <paramref name="physical"/>'s contents with the list in <paramref name="payload"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> payload, List<byte> physical)
    {
        physical.Clear();
        if (payload.Length < HeaderSize)
        {
            throw new InvalidDataException($"the dropped databases' record is {payload.Length} bytes, shorter than its header");
        }

        if (payload[0] != CurrentVersion)
        {
            throw new InvalidDataException($"dropped databases format version {payload[0]} is not supported by this build (expected {CurrentVersion}); the data directory was written by a newer Durable");
        }

        if (payload.Length != Size(payload[1]))
        {
            throw new InvalidDataException($"the dropped databases' record says {payload[1]} databases but holds {payload.Length} bytes");
        }

        foreach (byte number in payload[HeaderSize..])
        {
            if (physical.Contains(number))
            {
                throw new InvalidDataException($"the dropped databases' record names physical database {number} twice");
            }

            physical.Add(number);
        }
    }
}
