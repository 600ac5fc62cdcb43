using System.Buffers.Binary;

namespace Durable.Storage.Persistence;

/// <summary>
/// Durable's metadata stored inside each FASTER checkpoint (its commit cookie), so that it is written atomically with
/// the checkpoint. Version 1: byte 0 = 1, bytes 1..8 = WAL address (int64 LE) from which replay must start.
/// Every WAL record below that address was applied before the checkpoint began. Pinned by CheckpointCookieTests.
/// </summary>
public static class CheckpointCookie
{
    public const byte CurrentVersion = 1;

    public static byte[] Encode(long walReplayFrom)
    {
        byte[] bytes = new byte[9];
        bytes[0] = CurrentVersion;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), walReplayFrom);
        return bytes;
    }

    /// <summary>The WAL address to replay from; throws <see cref="InvalidDataException"/> for a missing, damaged or newer cookie.</summary>
    public static long Decode(byte[]? cookie)
    {
        if (cookie is null || cookie.Length < 9)
        {
            throw new InvalidDataException("the checkpoint carries no Durable metadata (WAL position); it was not written by Durable or is damaged");
        }

        if (cookie[0] != CurrentVersion)
        {
            throw new InvalidDataException($"the checkpoint metadata has format version {cookie[0]}, this build understands {CurrentVersion}; the data directory was written by a newer Durable");
        }

        return BinaryPrimitives.ReadInt64LittleEndian(cookie.AsSpan(1));
    }
}
