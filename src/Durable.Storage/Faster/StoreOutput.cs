using System.Buffers;
using Durable.Storage.Persistence;

namespace Durable.Storage.Faster;

/// <summary>
/// What the FASTER callbacks report back for one operation. One instance per session, reset before each
/// operation; being a reference, it also receives the results of operations that went pending.
/// </summary>
internal sealed class StoreOutput
{
    /// <summary>Where a read appends the payload; null to read only the header.</summary>
    public IBufferWriter<byte>? Value;

    /// <summary>Expiry reference time for this operation.</summary>
    public long NowMs;

    public bool Found;
    public bool Expired;
    public RecordHeader Header;
    public int PayloadLength;
    public long Address;

    /// <summary>Set before a read completes to have it append the whole stored value (header and payload) it finds live, for a copy to the tail.</summary>
    public IBufferWriter<byte>? Record;

    /// <summary>A read appends the payload to <see cref="Value"/> only when it is at most this long (prefetches keep small records only).</summary>
    public int PayloadLimit;

    /// <summary>The record was found but its payload, longer than <see cref="PayloadLimit"/>, was not appended.</summary>
    public bool PayloadSkipped;

    /// <summary>RMW write: no record existed before.</summary>
    public bool Created;

    /// <summary>
    /// RMW write: FASTER put the new record in a part of the log already flushed (a reused allocation,
    /// <see cref="StoreFunctions"/>), so the write was cancelled, nothing changed, and must be issued again.
    /// </summary>
    public bool Canceled;

    /// <summary>RMW write: the header of the record replaced (valid when not <see cref="Created"/>).</summary>
    public RecordHeader OldHeader;

    /// <summary>Read or delete: the parts descriptor of the record found (live or expired), when it has one.</summary>
    public PartsDescriptor? Parts;

    /// <summary>RMW write: the parts descriptor of the record replaced, when it had one.</summary>
    public PartsDescriptor? OldParts;

    /// <summary>Upsert of a part: set before it to have an update in place compare the old payload with the new one.</summary>
    public bool EditWanted;

    /// <summary>Upsert with <see cref="EditWanted"/>: the record was updated in place, and <see cref="Edit"/> is how its payload changed.</summary>
    public bool EditFound;

    public PartEdit Edit;

    public void Reset(IBufferWriter<byte>? value, long nowMs)
    {
        EditWanted = false;
        EditFound = false;
        Edit = default;
        Value = value;
        NowMs = nowMs;
        Found = false;
        Expired = false;
        Header = default;
        PayloadLength = 0;
        Address = 0;
        Record = null;
        PayloadLimit = int.MaxValue;
        PayloadSkipped = false;
        Created = false;
        Canceled = false;
        OldHeader = default;
        Parts = null;
        OldParts = null;
    }
}
