namespace Durable.Commands.Streams;

/// <summary>A stream entry: its ID and its fields and values (field, value, field, value...); a tombstone keeps only its ID.</summary>
internal sealed class StreamEntry(StreamId id, byte[][] fields)
{
    public StreamId Id { get; } = id;

    public byte[][] Fields { get; } = fields;

    /// <summary>Deleted (XDEL, or trimmed from within its node): kept so that the node keeps its place and counts.</summary>
    public bool Deleted { get; init; }
}
