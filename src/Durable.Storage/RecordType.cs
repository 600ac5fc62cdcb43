namespace Durable.Storage;

/// <summary>The type tag stored in every record header. Values are on disk: append only, never renumber.</summary>
public enum RecordType : byte
{
    String = 1,

    Hash = 2,

    Set = 3,

    SortedSet = 4,

    List = 5,

    /// <summary>A piece of a large collection, owned by the record whose <see cref="PartsDescriptor"/> names its generation; never visible to clients.</summary>
    Part = 6,

    /// <summary>A stream: its root, whose entries live in part records (docs/streams.md).</summary>
    Stream = 7,

    /// <summary>The store's own bookkeeping records (database map); never visible to clients.</summary>
    Metadata = 255,
}
