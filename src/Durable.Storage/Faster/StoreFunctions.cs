using System.Buffers;
using Durable.Storage.Persistence;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// The FASTER callbacks. Values are serialized as <see cref="RecordHeader"/> followed by the payload.
/// Writes go through RMW with the whole new value as input, so that the store learns whether the key existed
/// (for key counts) without a second lookup; an <see cref="ExpiryUpdate"/> input patches only the expiry of a live
/// record and never creates one. Key and TTL counts change here, when an operation takes effect, tagged with its
/// FASTER version (see <see cref="KeyCounts"/>). Small and free of I/O, as FASTER requires. One instance per session.
/// </summary>
internal sealed class StoreFunctions(KeyCounts counts) : SpanByteFunctions<SpanByte, StoreOutput, Empty>
{
    /// <summary>Set by the session before each Delete (it reads the record first): whether the deleted record had a TTL.</summary>
    public bool DeletingExpiring { get; set; }

    public override bool SingleReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref StoreOutput dst, ref ReadInfo readInfo) =>
        Read(ref value, dst, ref readInfo);

    public override bool ConcurrentReader(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref StoreOutput dst, ref ReadInfo readInfo) =>
        Read(ref value, dst, ref readInfo);

    private static bool Read(ref SpanByte value, StoreOutput output, ref ReadInfo readInfo)
    {
        ReadOnlySpan<byte> stored = value.AsReadOnlySpan();
        RecordHeader header = RecordHeader.Read(stored);
        output.Header = header;
        output.Address = readInfo.Address;
        output.Parts = PartsOf(header, stored);
        if (header.IsExpiredAt(output.NowMs))
        {
            output.Expired = true;
            return false;
        }

        output.Found = true;
        output.Record?.Write(stored);
        ReadOnlySpan<byte> payload = RecordHeader.PayloadOf(stored);
        output.PayloadLength = payload.Length;
        if (output.PayloadLength <= output.PayloadLimit)
        {
            output.Value?.Write(payload);
        }
        else
        {
            output.PayloadSkipped = true;
        }

        return true;
    }

    // An expiry change never creates a record.
    public override bool NeedInitialUpdate(ref SpanByte key, ref SpanByte input, ref StoreOutput output, ref RMWInfo rmwInfo) =>
        !ExpiryUpdate.Is(ref input);

    public override bool NeedCopyUpdate(ref SpanByte key, ref SpanByte input, ref SpanByte oldValue, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        if (!ExpiryUpdate.Is(ref input))
        {
            return true;
        }

        // An expired record stays expired: changing its TTL would bring back a key readers already treat as gone.
        if (RecordHeader.Read(oldValue.AsReadOnlySpan()).IsExpiredAt(output.NowMs))
        {
            output.Expired = true;
            return false;
        }

        return true;
    }

    public override bool InitialUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        output.Created = true;
        value.UnmarkExtraMetadata();
        value.ShrinkSerializedLength(input.Length);
        input.CopyTo(ref value);
        return true;
    }

    public override void PostInitialUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo) =>
        counts.Adjust(key.AsReadOnlySpan()[0], 1, HasExpiry(ref value) ? 1 : 0, rmwInfo.Version);

    public override bool CopyUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte oldValue, ref SpanByte newValue, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        output.OldHeader = RecordHeader.Read(oldValue.AsReadOnlySpan());
        output.OldParts = PartsOf(output.OldHeader, oldValue.AsReadOnlySpan());
        if (ExpiryUpdate.Is(ref input))
        {
            newValue.UnmarkExtraMetadata();
            newValue.ShrinkSerializedLength(oldValue.Length);
            oldValue.CopyTo(ref newValue);
            ExpiryUpdate.Apply(ref input, newValue.AsSpan());
            output.Found = true;
            return true;
        }

        newValue.UnmarkExtraMetadata();
        newValue.ShrinkSerializedLength(input.Length);
        input.CopyTo(ref newValue);
        return true;
    }

    public override void PostCopyUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte oldValue, ref SpanByte newValue, ref StoreOutput output, ref RMWInfo rmwInfo) =>
        AdjustExpiring(ref key, output.OldHeader, ref newValue, rmwInfo.Version);

    public override bool InPlaceUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        if (ExpiryUpdate.Is(ref input))
        {
            RecordHeader header = RecordHeader.Read(value.AsReadOnlySpan());
            if (header.IsExpiredAt(output.NowMs))
            {
                // Done, unchanged: see NeedCopyUpdate.
                output.Expired = true;
                return true;
            }

            output.OldHeader = header;
            ExpiryUpdate.Apply(ref input, value.AsSpan());
            output.Found = true;
            AdjustExpiring(ref key, header, ref value, rmwInfo.Version);
            return true;
        }

        RecordHeader old = RecordHeader.Read(value.AsReadOnlySpan());
        PartsDescriptor? oldParts = PartsOf(old, value.AsReadOnlySpan());
        if (IsRoomy(ref input))
        {
            if (!TryWriteRoomy(ref input, ref value, null))
            {
                return false;
            }
        }
        else
        {
            if (value.Length < input.Length)
            {
                return false;
            }

            value.ShrinkSerializedLength(input.Length);
            input.CopyTo(ref value);
        }

        output.OldHeader = old;
        output.OldParts = oldParts;
        AdjustExpiring(ref key, old, ref value, rmwInfo.Version);
        return true;
    }

    // A blind write (a part the command has read, a copy to the tail) of a value with room updates in place while it fits.
    public override bool ConcurrentWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output, ref UpsertInfo upsertInfo) =>
        IsRoomy(ref src) ? TryWriteRoomy(ref src, ref dst, output) : base.ConcurrentWriter(ref key, ref input, ref src, ref dst, ref output, ref upsertInfo);

    private static bool IsRoomy(ref SpanByte value) => value.Length >= RecordHeader.RoomySize && value.AsReadOnlySpan()[0] == RecordHeader.RoomyVersion;

    /// <summary>
    /// Writes the header and payload of <paramref name="source"/> (a value with room, <see cref="RecordHeader.RoomyVersion"/>)
    /// over <paramref name="stored"/> when they fit its length, which stays: what the payload does not use is the room
    /// for the next update (cleared where the old payload was longer). False, changing nothing, when they do not fit:
    /// FASTER then writes <paramref name="source"/>, room and all, as a new record. With <see cref="StoreOutput.EditWanted"/>,
    /// tells in <paramref name="output"/> how the payload changed (<see cref="PartEdit"/>), for the WAL.
    /// </summary>
    private static bool TryWriteRoomy(ref SpanByte source, ref SpanByte stored, StoreOutput? output)
    {
        ReadOnlySpan<byte> from = source.AsReadOnlySpan();
        int used = RecordHeader.RoomySize + RecordHeader.PayloadOf(from).Length;
        Span<byte> to = stored.AsSpan();
        if (to.Length < used)
        {
            return false;
        }

        int oldUsed = to[0] == RecordHeader.RoomyVersion ? RecordHeader.RoomySize + RecordHeader.PayloadOf(to).Length : to.Length;
        if (output is { EditWanted: true } && to[0] == RecordHeader.RoomyVersion)
        {
            output.Edit = PartEdit.Find(RecordHeader.PayloadOf(to), RecordHeader.PayloadOf(from));
            output.EditFound = true;
        }

        from[..used].CopyTo(to);
        if (oldUsed > used)
        {
            to[used..oldUsed].Clear();
        }

        return true;
    }

    public override void PostSingleDeleter(ref SpanByte key, ref DeleteInfo deleteInfo) => CountDelete(ref key, deleteInfo.Version);

    public override bool ConcurrentDeleter(ref SpanByte key, ref SpanByte value, ref DeleteInfo deleteInfo)
    {
        if (!base.ConcurrentDeleter(ref key, ref value, ref deleteInfo))
        {
            return false;
        }

        CountDelete(ref key, deleteInfo.Version);
        return true;
    }

    private void CountDelete(ref SpanByte key, long version) => counts.Adjust(key.AsReadOnlySpan()[0], -1, DeletingExpiring ? -1 : 0, version);

    private static PartsDescriptor? PartsOf(RecordHeader header, ReadOnlySpan<byte> stored) =>
        PartsDescriptor.TryRead(header.Type, RecordHeader.PayloadOf(stored), out PartsDescriptor parts) ? parts : null;

    private static bool HasExpiry(ref SpanByte value) => RecordHeader.Read(value.AsReadOnlySpan()).HasExpiry;

    /// <summary>A replaced or re-timed record: the key count stays, the TTL count follows the new header.</summary>
    private void AdjustExpiring(ref SpanByte key, RecordHeader old, ref SpanByte value, long version)
    {
        int delta = (HasExpiry(ref value) ? 1 : 0) - (old.HasExpiry ? 1 : 0);
        if (delta != 0)
        {
            counts.Adjust(key.AsReadOnlySpan()[0], 0, delta, version);
        }
    }

    public override void ReadCompletionCallback(ref SpanByte key, ref SpanByte input, ref StoreOutput output, Empty ctx, Status status, RecordMetadata recordMetadata)
    {
        // The pending read already filled the shared output through SingleReader.
    }
}
