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
internal sealed class StoreFunctions(KeyCounts counts, LogAccessor<SpanByte, SpanByte> log, LogFrames frames, Action<long>? beforeCopyUpdate, CompactionCopyGuard compactionGuard) : SpanByteFunctions<SpanByte, StoreOutput, Empty>
{
    // The last record a compaction copied to the tail, and its key's length (0: none since the last check).
    private long _lastCopy;
    private int _lastCopyKeyLength;

    /// <summary>Set by the session before each Delete (it reads the record first): whether the deleted record had a TTL.</summary>
    public bool DeletingExpiring { get; set; }

    /// <summary>
    /// The allocations FASTER gave up since the session last repaired them (address, and the key length the record had):
    /// a write that lost the race for its hash entry disposes of its new record, then saves it for a retry in a layout its
    /// scans cannot step over (<see cref="AbandonedRecords.RepairAllocation"/>).
    /// </summary>
    public List<(long Address, int KeyLength)> Abandoned { get; } = [];

    public override bool SingleWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output, ref UpsertInfo upsertInfo, WriteReason reason)
    {
        if (reason == WriteReason.Compaction)
        {
            NoteCompactionCopy(upsertInfo.Address, key.Length);
            if (compactionGuard.Check(upsertInfo.KeyHash, upsertInfo.Address, log.SafeReadOnlyAddress) is { } why)
            {
                // The value first: FASTER marks the record invalid on the way out, and scans step over it by its lengths.
                base.SingleWriter(ref key, ref input, ref src, ref dst, ref output, ref upsertInfo, reason);
                throw new CompactionAbandonedException(why);
            }
        }

        return base.SingleWriter(ref key, ref input, ref src, ref dst, ref output, ref upsertInfo, reason);
    }

    /// <summary>Before a compaction.</summary>
    public void BeginCompaction() => compactionGuard.Reset();

    /// <summary>
    /// A compaction's copies lose races too (to a client's write of the same key), but FASTER's compaction does not pass
    /// its Dispose callbacks on. So each copy is remembered, and when the compaction writes the next one (on the same
    /// thread, after the last one's attempt to enter its hash chain), the last one is reported if it is still invalid
    /// (it did not enter the chain). Runs in a FASTER callback, under the epoch: a copy at or above the head address is
    /// in memory.
    /// </summary>
    private void NoteCompactionCopy(long address, int keyLength)
    {
        if (frames.Available && _lastCopy >= log.HeadAddress && AbandonedRecords.IsInvalid(frames.FromAddress(_lastCopy)))
        {
            Abandoned.Add((_lastCopy, _lastCopyKeyLength));
        }

        _lastCopy = address;
        _lastCopyKeyLength = keyLength;
    }

    /// <summary>After a compaction: its last copy may have lost its race too (the repair checks).</summary>
    public void EndCompaction()
    {
        if (_lastCopy != 0)
        {
            Abandoned.Add((_lastCopy, _lastCopyKeyLength));
            _lastCopy = 0;
        }
    }

    public override void DisposeSingleWriter(ref SpanByte key, ref SpanByte input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output, ref UpsertInfo upsertInfo, WriteReason reason) =>
        Abandoned.Add((upsertInfo.Address, key.Length));

    public override void DisposeCopyUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte oldValue, ref SpanByte newValue, ref StoreOutput output, ref RMWInfo rmwInfo) =>
        Abandoned.Add((rmwInfo.Address, key.Length));

    public override void DisposeInitialUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo) =>
        Abandoned.Add((rmwInfo.Address, key.Length));

    public override void DisposeSingleDeleter(ref SpanByte key, ref SpanByte value, ref DeleteInfo deleteInfo) =>
        Abandoned.Add((deleteInfo.Address, key.Length));

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
        beforeCopyUpdate?.Invoke(rmwInfo.Address);
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

    /// <summary>
    /// Whether FASTER is about to write an RMW's new record below the read-only address, where the log may already have
    /// been flushed: there a record lives only until its page leaves memory, and the disk keeps what was there before.
    /// FASTER 2.6.5 allocates there when it reuses an allocation it saved for a retry (<c>GetAllocationForRetry</c> checks
    /// only the head address): an RMW whose source record left memory while it allocated saves its new record, reads the
    /// source from disk, and reuses the record when the read returns, however far the log has moved on meanwhile. The
    /// write is then cancelled, with the record left invalid, and the session issues it again (<see cref="StoreOutput.Canceled"/>),
    /// which allocates at the tail. The read-only address, not the safe one: a page below the read-only address may be
    /// flushed as soon as the threads that were in the epoch when it moved there have left it, and this one may have
    /// entered since (the safe read-only address moves only then). A record at or above the read-only address, seen under
    /// the epoch, cannot be flushed before this write ends. A new allocation is below it only when a checkpoint moved it
    /// to the tail meanwhile, which costs one more try.
    /// </summary>
    private bool InFlushedPart(long address, StoreOutput output, ref RMWInfo rmwInfo)
    {
        if (address >= log.ReadOnlyAddress)
        {
            return false;
        }

        output.Canceled = true;
        rmwInfo.Action = RMWAction.CancelOperation;
        return true;
    }

    public override bool InitialUpdater(ref SpanByte key, ref SpanByte input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        if (InFlushedPart(rmwInfo.Address, output, ref rmwInfo))
        {
            return false;
        }

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
        if (InFlushedPart(rmwInfo.Address, output, ref rmwInfo))
        {
            return false;
        }

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
            if (!TryWriteRoomy(ref input, ref value, output))
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
