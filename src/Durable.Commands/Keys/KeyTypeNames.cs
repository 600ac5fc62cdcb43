using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>
/// The type names TYPE replies with and SCAN TYPE filters by, as Redis spells them. A family that adds a
/// <see cref="RecordType"/> adds its name here.
/// </summary>
internal static class KeyTypeNames
{
    public static ReadOnlySpan<byte> Of(RecordType type) => type switch
    {
        RecordType.String => "string"u8,
        RecordType.Hash => "hash"u8,
        RecordType.Set => "set"u8,
        RecordType.SortedSet => "zset"u8,
        RecordType.List => "list"u8,
        RecordType.Stream => "stream"u8,

        // Metadata records never reach clients.
        _ => "none"u8,
    };
}
