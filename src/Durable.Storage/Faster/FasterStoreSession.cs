using System.Buffers;
using System.Buffers.Binary;
using Durable.Storage.Persistence;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// A connection's FASTER session. Pending (on-disk) operations are completed inside each call, so callers
/// always get a final answer. Keys are pinned with <c>fixed</c> only for the duration of one FASTER call
/// and its completion.
/// </summary>
internal sealed unsafe class FasterStoreSession : IStoreSession
{
    private const int KeepValueBufferBytes = 64 * 1024;

    /// <summary>The least room to grow a part record gets (<see cref="RoomFor"/>).</summary>
    private const int MinPartRoom = 64;

    // Strings at least this long are stored with room to grow and logged as their changes when updated in place.
    private const int LongStringBytes = 4 * 1024;

    /// <summary>
    /// Candidates per scan in whole-log passes (FLUSHDB, the key recount): each scan of FASTER's iterator over disk pages
    /// allocates page-sized read buffers, so a pass takes few, large batches.
    /// </summary>
    private const int PassBatch = 64 * 1024;

    // Key bytes a walk collects at most before it returns what it has (keys may be long; a step's deletes are one WAL entry).
    private const int MostCandidateKeyBytes = 1 << 20;

    // Replayed writes and part edits on their way to the disk at once, at most (see ReplayWrite, DeferPartEdit).
    private const int ReplayWindow = 256;

    private readonly FasterStore _store;
    private readonly ClientSession<SpanByte, SpanByte, SpanByte, StoreOutput, Empty, StoreFunctions> _session;
    private readonly StoreFunctions _functions;
    private readonly StoreOutput _output = new();
    private readonly PrefetchedRecords _prefetched = new();

    /// <summary>This session's prefetch and warming reads in flight, which wake it when the last arrives.</summary>
    private readonly SessionReads _reads = new();

    /// <summary>Parts this command found (read) and has not deleted since: they exist until the command ends (it holds their root's stripe).</summary>
    private readonly HashSet<(ulong Generation, uint Part)> _partsFound = [];
    private readonly RecordCandidates _candidates = new();
    private ArrayBufferWriter<byte> _copy = new(1024);

    // Replay of a part edit: the part as stored, and as the edit makes it.
    private readonly ArrayBufferWriter<byte> _editBefore = new();
    private readonly ArrayBufferWriter<byte> _editAfter = new();
    private readonly FasterWriteAheadLog? _wal;
    private byte[] _key = new byte[256];
    private byte[] _value = new byte[1024];
    private byte[] _pendingWal = new byte[1024];
    private int _pendingLength;
    private int _pendingRecords;

    // Replay only: the parts of multi-part commands whose last part has not been replayed yet, by command id.
    private Dictionary<long, List<byte[]>>? _pendingParts;

    // Replay only: the keys (hashes) of the replayed writes whose RMWs went to the disk without waiting and of the part
    // edits not applied yet, and how many reads are on their way (see ReplayWrite, DeferPartEdit).
    private readonly HashSet<ulong> _replayWindow = [];
    private int _replayPending;

    // Replay only: the window's part edits, in WAL order: key and edit bytes one after the other in one buffer.
    private readonly ArrayBufferWriter<byte> _deferredEditBytes = new();
    private readonly List<(int KeyLength, int EditLength, bool Value)> _deferredEdits = [];
    private WalPosition _walEnd;
    private int _pendingPrefetches;
    private bool _prefetchesCompleted;
    private bool _prefetchRoomRanOut;
    private long _diskWaits;
    private bool _holdsWarmed;
    private int[] _heldStripes = [];
    private int _heldStripeCount;

    // Stored keys a command's read found expired (at most MaxExpiredReads per command): deleted once the command has
    // released its stripes (ReclaimExpiredReads), as Redis deletes an expired key a command touches.
    internal const int MaxExpiredReads = 64;
    private readonly List<byte[]> _expiredReads = [];

    // Collections whose parts the current command left to the reaper (Cascade.Lazy), queued when it completes; and the
    // reaper queue as last read.
    private readonly List<ReapQueue.Entry> _toReap = [];
    private readonly List<ReapQueue.Entry> _reapQueue = [];
    private readonly ArrayBufferWriter<byte> _reapBytes = new();

    // Physical databases the current command detached from their logical one (FLUSHDB ASYNC), added to the dropped list
    // when it completes; those whose records the reaper's step just finished deleting; the list as last read; and
    // where the reaper's walk over a dropped database has got to.
    private readonly List<byte> _toDrop = [];
    private byte[]? _databasesReaped;
    private readonly List<byte> _dropped = [];
    private DatabaseWalk _databaseWalk;

    // The walk whose completion deletes the records of the last database this session's flushes detached (0: none).
    private long _flushedDeletedByWalk;
    private readonly ArrayBufferWriter<byte> _measured = new();

    // Parts deleted together read together (DeletePartRange): this many at a time, into these outputs (made on first use).
    private const int PartReadSlice = 64;
    private StoreOutput[]? _partReads;

    // Keys deleted together read together (DeleteCandidatesReadTogether), as many at a time: outputs of their own, since
    // a key's cascade reads its parts into the ones above while later keys' reads are still to be used.
    private StoreOutput[]? _keyReads;

    /// <param name="store">The store this session belongs to.</param>
    /// <param name="functions">The callbacks <paramref name="session"/> was made with.</param>
    /// <param name="session">The FASTER session, owned (and disposed) by this object.</param>
    /// <param name="wal">Where writes are logged; null for the recovery session that replays the log itself.</param>
    public FasterStoreSession(
        FasterStore store,
        StoreFunctions functions,
        ClientSession<SpanByte, SpanByte, SpanByte, StoreOutput, Empty, StoreFunctions> session,
        FasterWriteAheadLog? wal)
    {
        _store = store;
        _functions = functions;
        _session = session;
        _wal = wal;
    }

    // While a command holds its stripes, the time of its first look at the clock, as Redis takes one time per command
    // (its expiry checks do not see the clock move within a command); a clock read per record read cost about 3% of a
    // ZADD's CPU (five records). 0 until that first look.
    private long _commandNowMs;

    private long NowMs
    {
        get
        {
            if (_heldStripeCount == 0)
            {
                return _store.Time.GetUtcNow().ToUnixTimeMilliseconds();
            }

            if (_commandNowMs == 0)
            {
                _commandNowMs = _store.Time.GetUtcNow().ToUnixTimeMilliseconds();
            }

            return _commandNowMs;
        }
    }

    public bool Warming { get; set; }

    public bool PrefetchesPending => _pendingPrefetches > 0;

    public bool PrefetchesMissed => _prefetchRoomRanOut || _prefetched.AnyPayloadSkipped();

    public long DiskWaits => _diskWaits;

    public void HoldingStripes(int[] stripes, int count)
    {
        _heldStripes = stripes;
        _heldStripeCount = count;
        _commandNowMs = 0;
    }

    // Before a wait for the disk on the caller's thread, under the command's stripes.
    private void MarkWaitingForDisk()
    {
        _diskWaits++;
        if (_heldStripeCount > 0)
        {
            _store.Locks.MarkWaitingForDisk(_heldStripes.AsSpan(0, _heldStripeCount));
        }
    }

    public bool TryRead(int db, ReadOnlySpan<byte> key, IBufferWriter<byte>? value, out StoredRecord record)
    {
        ReadOnlySpan<byte> storedKey = StoredKey(_store.Physical(db), key);
        ReadStored(storedKey, value, copyHot: true);
        StoreOutput output = _output;
        if (output.Expired && !Warming)
        {
            NoteExpiredRead(storedKey);
        }

        record = output.Found ? new StoredRecord(output.Header.Type, output.Header.ExpiresAtMs, output.PayloadLength) : default;
        return output.Found;
    }

    public bool Write(int db, ReadOnlySpan<byte> key, RecordType type, ReadOnlySpan<byte> payload, long expiresAtMs)
    {
        ReadOnlySpan<byte> storedKey = StoredKey(_store.Physical(db), key);
        bool isNew = WriteStored(storedKey, type, payload, expiresAtMs, log: true, _store.Reaper.LazyServerDeletes ? Cascade.Lazy : Cascade.Now);
        if (isNew)
        {
            _store.ReportCreated(storedKey);
        }

        return isNew;
    }

    public bool Delete(int db, ReadOnlySpan<byte> key) =>
        DeleteStored(StoredKey(_store.Physical(db), key), onlyIfExpired: false, log: true, Cascade.Now);

    public bool Unlink(int db, ReadOnlySpan<byte> key) =>
        DeleteStored(StoredKey(_store.Physical(db), key), onlyIfExpired: false, log: true, Cascade.Lazy);

    public long? MeasureKey(int db, ReadOnlySpan<byte> key, long samples)
    {
        ReadOnlySpan<byte> storedKey = StoredKey(_store.Physical(db), key);
        ReadStored(storedKey, null);
        if (!_output.Found)
        {
            return null;
        }

        long bytes = RecordBytes(storedKey.Length, RecordHeader.Size, _output.PayloadLength);
        if (!PartsDescriptor.MayHaveParts(_output.Header.Type))
        {
            return bytes;
        }

        // A collection: its payload says whether its members live in parts.
        _measured.ResetWrittenCount();
        ReadStored(storedKey, _measured);
        if (!_output.Found || !PartsDescriptor.TryRead(_output.Header.Type, _measured.WrittenSpan, out PartsDescriptor parts) || parts.PartCount == 0)
        {
            return bytes;
        }

        long probes = Math.Min(Math.Max(samples, 1), parts.PartCount);
        long sampled = 0;
        Span<byte> partKey = stackalloc byte[PartsDescriptor.PartKeySize];
        for (long i = 0; i < probes; i++)
        {
            PartsDescriptor.WritePartKey(partKey, parts.Generation, parts.FirstPart + (uint)(i * parts.PartCount / probes));
            ReadStored(partKey, null);
            if (_output.Found)
            {
                sampled += RecordBytes(partKey.Length, RecordHeader.RoomySize, _output.PayloadLength);
            }
        }

        return bytes + (sampled * parts.PartCount / probes);
    }

    // A record's bytes in the log (FASTER's record header, then the key and the value, each after a 4-byte length and
    // padded to 8 bytes) plus its 8-byte entry in the hash index; a part's room to grow is not counted.
    private static long RecordBytes(int keyLength, int headerLength, int payloadLength) =>
        8 + (((4 + keyLength + 7) / 8) * 8) + (((4 + headerLength + payloadLength + 7) / 8) * 8) + 8;

    public bool DeleteKeepingParts(int db, ReadOnlySpan<byte> key) =>
        DeleteStored(StoredKey(_store.Physical(db), key), onlyIfExpired: false, log: true, Cascade.None);

    public bool TryReadPart(ulong generation, uint part, IBufferWriter<byte> value)
    {
        Span<byte> partKey = stackalloc byte[PartsDescriptor.PartKeySize];
        PartsDescriptor.WritePartKey(partKey, generation, part);
        ReadStored(partKey, value, copyHot: true);
        if (_output.Found && !Warming)
        {
            _partsFound.Add((generation, part));
        }

        return _output.Found;
    }

    /// <summary>
    /// Writes a part. One this command read is replaced with a blind upsert: an RMW would read its old record again, from
    /// disk when it is cold (a huge collection's bucket, chunk or tree node), only to learn that it exists, which the read
    /// already said. Parts carry no TTL and no parts of their own, and an upsert of an existing record changes no count,
    /// so the result is the RMW's. Any other part (new, or not read) goes through the RMW, which counts a created one.
    /// </summary>
    public void WritePart(ulong generation, uint part, ReadOnlySpan<byte> payload)
    {
        Span<byte> partKey = stackalloc byte[PartsDescriptor.PartKeySize];
        PartsDescriptor.WritePartKey(partKey, generation, part);
        if (!_partsFound.Contains((generation, part)))
        {
            WriteStored(partKey, RecordType.Part, payload, 0, log: true, Cascade.None);
            return;
        }

        byte[]? rented = null;
        StoreOutput output = _output;
        output.Reset(null, 0);
        output.EditWanted = _wal is not null;
        Upsert(partKey, ComposeValue(new RecordHeader(RecordType.Part, 0), payload, ref rented), output);
        ReturnRented(rented);
        if (!output.EditFound)
        {
            LogRecord(WalRecord.EncodeWrite(WalBuffer(WalRecord.WriteSize(partKey.Length, payload.Length)), partKey, RecordType.Part, 0, payload));
            return;
        }

        // Updated in place: the WAL gets the change (a few bytes of a node or bucket of a kilobyte) unless it is most of
        // the part; a part written as it was needs no record at all.
        PartEdit edit = output.Edit;
        if (edit.Count == 0)
        {
            return;
        }

        LogRecord(IsWorthLogging(edit, payload)
            ? WalRecord.EncodePartEdit(WalBuffer(WalRecord.PartEditSize(partKey.Length, edit)), partKey, edit, payload)
            : WalRecord.EncodeWrite(WalBuffer(WalRecord.WriteSize(partKey.Length, payload.Length)), partKey, RecordType.Part, 0, payload));
    }

    public void DeletePart(ulong generation, uint part)
    {
        Span<byte> partKey = stackalloc byte[PartsDescriptor.PartKeySize];
        PartsDescriptor.WritePartKey(partKey, generation, part);
        DeleteStored(partKey, onlyIfExpired: false, log: true, Cascade.None);
    }

    /// <summary>
    /// Deletes every part a record's descriptor names (the record itself is gone or replaced), or, with
    /// <see cref="Cascade.Lazy"/> and more than <see cref="PartReaper.LazyAbovePartCount"/> of them, leaves them to the
    /// background reaper: they join its queue when the command completes (<see cref="CompleteCommand"/>).
    /// </summary>
    private void DeleteParts(PartsDescriptor parts, bool log, Cascade cascade)
    {
        if (cascade == Cascade.Lazy && _wal is not null && parts.PartCount > PartReaper.LazyAbovePartCount
            && _store.Reaper.PendingObjects + _toReap.Count < PartReaper.MostPendingObjects)
        {
            _toReap.Add(new ReapQueue.Entry(parts.Generation, parts.FirstPart, parts.PartCount, 0));
            return;
        }

        DeletePartRange(parts.Generation, parts.FirstPart, 0, parts.PartCount, log);
    }

    /// <summary>
    /// Deletes parts <paramref name="from"/> .. <paramref name="to"/> - 1 of a generation whose first part is
    /// <paramref name="first"/>. A delete needs to know whether the part exists (the record counts; a range may have
    /// holes), so the parts are read first, <see cref="PartReadSlice"/> at a time and together: a large collection on
    /// disk then waits for the disk once per slice rather than once per part.
    /// </summary>
    private void DeletePartRange(ulong generation, uint first, uint from, uint to, bool log)
    {
        _partsFound.Clear();
        _partReads ??= NewReadSlice();
        Span<byte> keys = stackalloc byte[PartReadSlice * PartsDescriptor.PartKeySize];
        for (uint start = from; start < to; start += PartReadSlice)
        {
            int count = (int)Math.Min(PartReadSlice, to - start);
            long begin = BeginAddress;
            int pending = 0;
            for (int i = 0; i < count; i++)
            {
                Span<byte> key = keys.Slice(i * PartsDescriptor.PartKeySize, PartsDescriptor.PartKeySize);
                PartsDescriptor.WritePartKey(key, generation, first + start + (uint)i);
                _partReads[i].Reset(null, NowMs);
                pending += StartRead(key, _partReads[i]) ? 1 : 0;
            }

            if (pending > 0)
            {
                WaitForPending(pending);
            }

            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> key = keys.Slice(i * PartsDescriptor.PartKeySize, PartsDescriptor.PartKeySize);
                if (_partReads[i].Found)
                {
                    RemoveRecord(key, hasExpiry: false, log);
                }
                else if (MissedByCompaction(_partReads[i], begin))
                {
                    // A compaction moved the begin address past the read: the part may have been copied to the tail.
                    DeleteStored(key, onlyIfExpired: false, log, Cascade.None);
                }
            }
        }
    }

    public void PrefetchIndexEntry(int db, ReadOnlySpan<byte> key) => _store.IndexPrefetch.Prefetch(StoredKey(_store.Physical(db), key));

    public bool BeginPrefetch(int db, ReadOnlySpan<byte> key)
    {
        if (_prefetchesCompleted)
        {
            _prefetched.Clear();
            _prefetchesCompleted = false;
            _prefetchRoomRanOut = false;
        }

        if (_prefetched.Count >= PrefetchedRecords.MaxEntries)
        {
            _prefetchRoomRanOut = true;
            return false;
        }

        ReadOnlySpan<byte> storedKey = StoredKey(_store.Physical(db), key);
        int stripe = KeyLocks.StripeOf(key);
        // The version first: a write that ends after this is seen when the record is used, and the record is not.
        PrefetchedRecords.Entry entry = _prefetched.Add(storedKey, stripe, _store.Locks.WriteVersion(stripe), _store.KeyWrites.Of(storedKey), BeginAddress, NowMs);
        using (SessionReadDevice.Issuing(_reads))
        {
            if (!StartRead(storedKey, entry.Output))
            {
                // In memory: the command's own read is as fast as using this one.
                _prefetched.RemoveLast();
                return false;
            }
        }

        _pendingPrefetches++;
        return true;
    }

    /// <summary>
    /// Starts a read of <paramref name="storedKey"/> into <paramref name="output"/>; true when it went to the disk (it
    /// completes with the session's next CompletePending). The key is pinned for the call only: a read that goes pending
    /// keeps its own copy.
    /// </summary>
    private bool StartRead(ReadOnlySpan<byte> storedKey, StoreOutput output)
    {
        SpanByte input = default;
        fixed (byte* k = storedKey)
        {
            SpanByte keyBytes = SpanByte.FromPointer(k, storedKey.Length);
            return _session.Read(ref keyBytes, ref input, ref output, Empty.Default, 0).IsPending;
        }
    }

    public ValueTask CompletePrefetchesAsync(CancellationToken cancellationToken)
    {
        _prefetchesCompleted = true;
        if (_pendingPrefetches == 0)
        {
            return ValueTask.CompletedTask;
        }

        _store.CountPendingReads(_pendingPrefetches);
        int issued = _pendingPrefetches;
        _pendingPrefetches = 0;
        ValueTask arrived = _reads.WhenArrivedAsync(cancellationToken);
        return arrived.IsCompletedSuccessfully
            ? CollectPrefetches(issued, cancellationToken)
            : SessionReads.ThenAsync(arrived, static (state, token) => state.Session.CollectPrefetches(state.Issued, token), (Session: this, Issued: issued), cancellationToken);
    }

    /// <summary>
    /// Once the <paramref name="issued"/> reads that went pending have all arrived (FASTER has queued each one's record):
    /// completes them in one call, with no wait. FASTER's queue released a semaphore permit per record, which only its
    /// own waits take; one is taken here per record (each is there, so none of these waits), or they would pile up and
    /// make the session's next synchronous wait (<c>CompletePending(wait: true)</c>) spin instead of sleeping.
    /// </summary>
    private ValueTask CollectPrefetches(int issued, CancellationToken cancellationToken)
    {
        for (int i = 0; i < issued; i++)
        {
            ValueTask permit = _session.ReadyToCompletePendingAsync(CancellationToken.None);
            if (!permit.IsCompletedSuccessfully)
            {
                // Not every record is there after all (FASTER issued a read this session did not count): wait its way.
                return SessionReads.ThenAsync(permit, static (session, token) => session.CompletePendingAsync(waitForCommit: false, token), _session, cancellationToken);
            }
        }

        // A completion that FASTER has to retry issues its read again from here: counted, like the first ones.
        using (SessionReadDevice.Issuing(_reads))
        {
            if (_session.CompletePending(wait: false))
            {
                return ValueTask.CompletedTask;
            }
        }

        return _session.CompletePendingAsync(waitForCommit: false, cancellationToken);
    }

    /// <summary>
    /// Answers a read from a prefetched record when no write to its stripe, or none to its key, ended since the prefetch
    /// began (the caller holds the stripe's lock, so none can end now) and it kept what the read needs. The record is then
    /// still its key's newest, so with <paramref name="copyHot"/> a hot one is copied to the tail (<see cref="CopyToTail"/>).
    /// </summary>
    private bool TryReadPrefetched(ReadOnlySpan<byte> storedKey, StoreOutput output, bool copyHot)
    {
        PrefetchedRecords.Entry? entry = _prefetched.Find(storedKey);
        if (entry is null || (output.Value is not null && entry.Output.PayloadSkipped) || !IsNewest(entry, storedKey))
        {
            return false;
        }

        AnswerFrom(entry, storedKey, output, copyHot);
        return true;
    }

    // Whether nothing wrote entry's key since its read began: no write to its stripe, or none to the key itself; and
    // its "not found" is not one a compaction caused (MissedByCompaction).
    private bool IsNewest(PrefetchedRecords.Entry entry, ReadOnlySpan<byte> storedKey) =>
        ((entry.Stripe >= 0 && _store.Locks.WriteVersion(entry.Stripe) == entry.WriteVersion) || _store.KeyWrites.Of(storedKey) == entry.KeyVersion)
        && !MissedByCompaction(entry.Output, entry.BeginAddress);

    private long BeginAddress => _store.Kv.Log.BeginAddress;

    /// <summary>
    /// Whether a read that went to the disk found nothing only because a compaction moved the log's begin address past the
    /// record meanwhile: FASTER 2.6.5 answers such a read "not found" (its record is below the begin address) although the
    /// compaction copied the live record to the tail first. The read must be done again; it then finds the copy.
    /// </summary>
    // Waits for the session's operations that went pending (reads, and RMWs reading their old record), counted.
    private void WaitForPending(int operations)
    {
        _store.CountPendingReads(operations);
        MarkWaitingForDisk();
        _session.CompletePending(wait: true);
    }

    // Outputs for reads issued together (made on first use).
    private static StoreOutput[] NewReadSlice() => [.. Enumerable.Range(0, PartReadSlice).Select(_ => new StoreOutput())];

    private bool MissedByCompaction(StoreOutput output, long beginBefore) => !output.Found && !output.Expired && BeginAddress != beginBefore;

    // The read of entry's key, answered from what the entry's read found.
    private void AnswerFrom(PrefetchedRecords.Entry entry, ReadOnlySpan<byte> storedKey, StoreOutput output, bool copyHot)
    {
        StoreOutput read = entry.Output;
        output.Address = read.Address;
        output.Header = read.Header;
        output.Parts = read.Parts;
        if (read.Found || read.Expired)
        {
            if (read.Header.IsExpiredAt(output.NowMs))
            {
                output.Expired = true;
            }
            else
            {
                output.Found = true;
                output.PayloadLength = read.PayloadLength;
                output.Value?.Write(entry.Payload.WrittenSpan);
                if (copyHot && !read.PayloadSkipped && _store.ColdReads?.IsRepeat(storedKey) == true)
                {
                    byte[]? rented = null;
                    CopyToTail(storedKey, ComposeValue(read.Header, entry.Payload.WrittenSpan, ref rented));
                    ReturnRented(rented);
                }
            }
        }
    }

    public ValueTask WaitForDurabilityAsync(CancellationToken cancellationToken) => _wal switch
    {
        { Policy: FsyncPolicy.Always } wal => wal.WaitForCommitAsync(_walEnd, cancellationToken),
        { Policy: FsyncPolicy.EverySecond, IsLagging: true } wal when !wal.IsDurable(_walEnd) => wal.WaitForLateCommitAsync(_walEnd, cancellationToken),
        _ => ValueTask.CompletedTask,
    };

    public ValueTask WaitForCommitAsync(CancellationToken cancellationToken) =>
        _wal is { } wal ? wal.WaitForCommitAsync(_walEnd, cancellationToken) : ValueTask.CompletedTask;

    public bool TrySetExpiry(int db, ReadOnlySpan<byte> key, long expiresAtMs) =>
        SetExpiryStored(StoredKey(_store.Physical(db), key), expiresAtMs, log: true);

    private bool SetExpiryStored(ReadOnlySpan<byte> storedKey, long expiresAtMs, bool log)
    {
        Span<byte> update = stackalloc byte[ExpiryUpdate.Size];
        ExpiryUpdate.Write(update, expiresAtMs);
        StoreOutput output = Rmw(storedKey, update);

        if (!output.Found)
        {
            return false;
        }

        if (log)
        {
            LogRecord(WalRecord.EncodeExpire(WalBuffer(WalRecord.ExpireSize(storedKey.Length)), storedKey, expiresAtMs));
        }

        return true;
    }

    /// <remarks>
    /// A pass walks the log from its begin address up to its bound, the tail when it began (carried in the cursor), so
    /// that writers appending faster than a client scans cannot keep it from ending. A key rewritten during the pass
    /// (by a write, a copy to the tail or a compaction) may land past where the pass will end: when a call meets an older
    /// record of a key whose live record lies at or past the end of this call's walk (the bound, or the tail when that
    /// is lower and the call may be the pass's last), it returns the key there. A compaction copies the live records of
    /// what it compacts to the tail before it moves the begin address, so once the begin address has moved, the tail
    /// lies past every copy: the bound grows to it when the begin address has moved past the cursor between calls, and
    /// when it moved during a call (the walk then skips to the new begin address, and the keys it checks may have moved
    /// past the bound meanwhile).
    /// </remarks>
    public ulong Scan(int db, ulong cursor, int count, IKeyVisitor visitor, bool reclaimExpired)
    {
        byte physical = _store.Physical(db);
        long begin = _store.Kv.Log.BeginAddress;
        long tail = _store.Kv.Log.TailAddress;
        (long position, long bound) = ScanCursor.Decode(cursor);
        if (position == 0 || position < begin)
        {
            bound = Math.Max(bound, ScanCursor.RoundUpBound(tail));
        }

        long end = Math.Min(bound, tail);
        long next = Collect(Math.Max(position, begin), end, Math.Max(1, count), physical, expiredOnly: false, walking: _store.DuringKeyWalk);
        VisitLive(visitor, end, reclaimExpired);
        if (_store.Kv.Log.BeginAddress != begin)
        {
            // Read after the begin address: every copy of the compaction that moved it lies below.
            bound = Math.Max(bound, ScanCursor.RoundUpBound(_store.Kv.Log.TailAddress));
            return ScanCursor.Encode(next, bound);
        }

        return next >= end ? 0 : ScanCursor.Encode(next, bound);
    }

    public IReadOnlyList<ulong> ScanPartitions(int parts)
    {
        long begin = _store.Kv.Log.BeginAddress;
        long tail = _store.Kv.Log.TailAddress;
        long pages = Math.Max(1, ((tail - 1) / _store.PageBytes) - (begin / _store.PageBytes) + 1);
        long pagesPerPart = (pages + parts - 1) / Math.Max(1, parts);
        List<ulong> cursors = [];
        long start = begin;
        while (start < tail)
        {
            // A part ends where the next begins, at a bound a cursor can carry (a multiple of 64 KiB, coarser far into
            // the log: always a power-of-two multiple of 64 KiB), which on a page of at least 64 KiB is a page's start,
            // so a record's: parts neither overlap nor leave a gap. The last runs to the tail, as any scan does.
            long end = _store.PageBytes < 1L << 16 ? tail : ScanCursor.RoundUpBound(((start / _store.PageBytes) + pagesPerPart) * _store.PageBytes);
            cursors.Add(ScanCursor.Encode(start, end >= tail ? ScanCursor.RoundUpBound(tail) : end));
            start = end;
        }

        return cursors;
    }

    public bool TryGetRandomKey(int db, IBufferWriter<byte> key)
    {
        if (_store.KeyCount(db) == 0)
        {
            return false;
        }

        byte physical = _store.Physical(db);
        RandomKeyPicker picker = new();
        long begin;
        do
        {
            begin = _store.Kv.Log.BeginAddress;
            long tail = _store.Kv.Log.TailAddress;
            long pages = ((tail - 1) / _store.PageBytes) - (begin / _store.PageBytes) + 1;
            long firstPage = (begin / _store.PageBytes) + Random.Shared.NextInt64(pages);
            // Records never span pages, so a page start is always a record boundary.
            for (long i = 0; i < pages && picker.Seen == 0; i++)
            {
                long page = begin / _store.PageBytes + ((firstPage - (begin / _store.PageBytes) + i) % pages);
                long from = Math.Max(begin, page * _store.PageBytes);
                long to = Math.Min(tail, (page + 1) * _store.PageBytes);
                for (long next = from; next < to && picker.Seen == 0;)
                {
                    next = Collect(next, to, 256, physical, expiredOnly: false, walking: _store.DuringKeyWalk);
                    VisitLive(picker, reclaimExpired: true);
                }
            }
        }
        // A compaction that moved the begin address during the walk copied the live records the walk skipped past its end.
        while (picker.Seen == 0 && _store.Kv.Log.BeginAddress != begin);

        if (picker.Seen == 0)
        {
            return false;
        }

        key.Write(picker.Chosen);
        return true;
    }

    public void FlushDatabase(int db, bool lazyFree)
    {
        // The key counts are exact: a database without keys has no record to delete (FLUSHALL walked the log once for
        // each of the 16 databases, most of them empty).
        if (_store.KeyCount(db) == 0 || (lazyFree && _wal is not null && TryDetachDatabase(db)))
        {
            return;
        }

        byte physical = _store.Physical(db);
        FlushPhysical(physical, lazyFree);
        LogRecord(WalRecord.EncodeFlushDatabase(WalBuffer(8), physical));
    }

    /// <summary>
    /// Deletes every key of a physical database without logging each delete (the caller logs one FlushDatabase record);
    /// with <paramref name="lazy"/>, the parts of large collections are left to the reaper.
    /// </summary>
    internal void FlushPhysical(byte physical, bool lazy)
    {
        // A compaction that moves the begin address during the walk has copied the live records the walk then skips to the
        // tail, past where the walk ends: it walks again from the new begin address.
        long begin;
        do
        {
            begin = _store.Kv.Log.BeginAddress;
            long tail = _store.Kv.Log.TailAddress;
            for (long next = begin; next < tail;)
            {
                next = Collect(next, tail, PassBatch, physical, expiredOnly: false, walking: _store.DuringKeyWalk);
                DeleteCandidatesReadTogether(log: false, lazy ? Cascade.Lazy : Cascade.Now);
            }
        }
        while (_store.Kv.Log.BeginAddress != begin);
    }

    public Task WhenFlushedRecordsDeletedAsync(CancellationToken cancellationToken) =>
        _flushedDeletedByWalk == 0 ? Task.CompletedTask : _store.Reaper.WhenWalkCompletedAsync(_flushedDeletedByWalk, cancellationToken);

    /// <summary>
    /// Maps logical database <paramref name="db"/> to a physical number that holds no record, so that it is empty at
    /// once, and leaves the records of the one it had to the reaper (<see cref="ReapDatabase"/>): the list of dropped
    /// databases gains it when the command completes, in the same WAL entry as the new map. False when no number is
    /// free (every one mapped, dropped or holding records): the caller then deletes the keys itself.
    /// </summary>
    private bool TryDetachDatabase(int db)
    {
        lock (_store.Reaper.Gate)
        {
            ReadDroppedDatabases();
            for (int candidate = 0; candidate < FasterStore.MetadataPrefix; candidate++)
            {
                byte physical = (byte)candidate;
                if (!_dropped.Contains(physical) && !_toDrop.Contains(physical) && _store.IsUnused(physical))
                {
                    _toDrop.Add(_store.Physical(db));
                    _store.Remap(db, physical, this);
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Adds the command's <see cref="_toReap"/> to the reaper's queue record, logged with the command; past
    /// <see cref="PartReaper.MostPendingObjects"/> (commands check it before the gate, so several at once can pass it) the
    /// command deletes the rest itself, so that the record stays small. Under the reaper's gate.
    /// </summary>
    private void QueueReaps()
    {
        ReadReapQueue();
        foreach (ReapQueue.Entry entry in _toReap)
        {
            if (_reapQueue.Count < PartReaper.MostPendingObjects)
            {
                _reapQueue.Add(entry);
            }
            else
            {
                DeletePartRange(entry.Generation, entry.FirstPart, 0, entry.PartCount, log: true);
            }
        }

        _toReap.Clear();
        WriteReapQueue();
    }

    /// <summary>
    /// The reaper's step (<see cref="PartReaper"/>): parts of dropped collections first (<see cref="ReapParts"/>), then
    /// the records of dropped databases (<see cref="ReapDatabase"/>), which may queue more parts. False when neither has
    /// anything left.
    /// </summary>
    internal bool Reap(uint mostParts) => ReapParts(mostParts) || ReapDatabase(DatabaseWalk.KeysPerStep);

    /// <summary>
    /// Deletes up to <paramref name="mostParts"/> parts of the first queued collection, then records how far it got,
    /// logged in the same WAL entry as the deletes, so that after a crash the reap goes on from there (deleting a part
    /// again is harmless). Returns false when the queue is empty.
    /// </summary>
    internal bool ReapParts(uint mostParts)
    {
        ReapQueue.Entry first;
        lock (_store.Reaper.Gate)
        {
            ReadReapQueue();
            if (_reapQueue.Count == 0)
            {
                return false;
            }

            first = _reapQueue[0];
        }

        // The parts of a dropped collection are nobody's: no command reads or writes them, so no stripe is needed.
        uint to = first.Deleted + Math.Min(mostParts, first.Remaining);
        DeletePartRange(first.Generation, first.FirstPart, first.Deleted, to, log: true);
        lock (_store.Reaper.Gate)
        {
            // Commands may have queued more meanwhile; only this step removes entries, so the first is still this one.
            ReadReapQueue();
            if (to == first.PartCount)
            {
                _reapQueue.RemoveAt(0);
                _store.Reaper.CountFreed();
            }
            else
            {
                _reapQueue[0] = first with { Deleted = to };
            }

            WriteReapQueue();
            FinishCommand();
        }

        return true;
    }

    /// <summary>Reads the reaper's queue into <see cref="_reapQueue"/> (empty when there is no record). Under the reaper's gate.</summary>
    internal void ReadReapQueue()
    {
        if (ReadReaperRecord(ReapQueue.Key))
        {
            ReapQueue.Decode(_reapBytes.WrittenSpan, _reapQueue);
        }
        else
        {
            _reapQueue.Clear();
        }

        _store.Reaper.Counted(_reapQueue);
    }

    /// <summary>
    /// Deletes the keys of dropped databases that a slice of the log holds (at most <paramref name="mostKeys"/> of them,
    /// their large collections' parts queued), logged as one WAL entry. One walk serves every database dropped when it
    /// started. A walk from the begin address to the tail it started at, during which no compaction moved the begin
    /// address past where a step started, has seen every record of those databases (nothing writes to them any more): the
    /// step that ends it also takes them off the list, in the same entry, and their numbers may be handed out again.
    /// False when no database is dropped.
    /// </summary>
    internal bool ReapDatabase(int mostKeys)
    {
        lock (_store.Reaper.Gate)
        {
            ReadDroppedDatabases();
            if (_dropped.Count == 0)
            {
                return false;
            }

            if (!_databaseWalk.Started)
            {
                _databaseWalk = new DatabaseWalk(_store.Reaper.StartWalk(), _dropped, _store.Kv.Log.BeginAddress, _store.Kv.Log.TailAddress);
            }
        }

        // Nobody else reads or writes a dropped database's keys, so no stripe is needed.
        long keysBefore = KeysIn(_databaseWalk.Physicals);
        int queuedBefore = _toReap.Count;
        long from = _databaseWalk.Next;
        long next = Collect(from, _databaseWalk.End, mostKeys, physical: null, expiredOnly: false, DatabaseWalk.RecordsPerStep, _store.DuringKeyWalk, among: _databaseWalk.Among);
        DeleteCandidatesReadTogether(log: true, Cascade.Lazy);

        // A key whose parts went to the queue counts as freed when they are gone.
        _store.Reaper.CountFreed(keysBefore - KeysIn(_databaseWalk.Physicals) - (_toReap.Count - queuedBefore));
        long completed = 0;
        if (_store.Kv.Log.BeginAddress > from)
        {
            // A compaction moved the begin address past where this step started, since the last step or during this one:
            // records the walk had not reached may have been copied past its end. It walks again from the new begin address.
            // (Moving it over what the walk has seen loses nothing: a key whose record there was copied to the tail before
            // the walk came by was deleted by key when it did.)
            _databaseWalk = default;
        }
        else if (next >= _databaseWalk.End)
        {
            _databasesReaped = _databaseWalk.Physicals;
            completed = _databaseWalk.Number;
            _databaseWalk = default;
        }
        else
        {
            _databaseWalk = _databaseWalk with { Next = next };
        }

        CompleteCommand();
        if (completed > 0)
        {
            _store.Reaper.CompleteWalk(completed);
        }

        return true;
    }

    /// <summary>
    /// Deletes the keys of the collected candidates and, as <paramref name="cascade"/> says, their collections' parts: the
    /// keys are read <see cref="PartReadSlice"/> at a time (their records are mostly on disk, and a delete must know its
    /// record exists), a key collected twice (an older version and the live one) deleted once.
    /// </summary>
    private void DeleteCandidatesReadTogether(bool log, Cascade cascade)
    {
        _partsFound.Clear();
        _keyReads ??= NewReadSlice();
        for (int start = 0; start < _candidates.Count; start += PartReadSlice)
        {
            int count = Math.Min(PartReadSlice, _candidates.Count - start);
            long begin = BeginAddress;
            int pending = 0;
            for (int i = 0; i < count; i++)
            {
                _keyReads[i].Reset(null, NowMs);
                pending += StartRead(_candidates.KeyAt(start + i), _keyReads[i]) ? 1 : 0;
            }

            if (pending > 0)
            {
                WaitForPending(pending);
            }

            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> key = _candidates.KeyAt(start + i);
                StoreOutput read = _keyReads[i];
                if (CollectedEarlierInSlice(start, i))
                {
                    continue;
                }

                if (read.Found || read.Expired)
                {
                    PartsDescriptor? parts = read.Parts;
                    RemoveRecord(key, read.Header.HasExpiry, log);
                    if (parts is PartsDescriptor owned && cascade != Cascade.None)
                    {
                        DeleteParts(owned, log, cascade);
                    }
                }
                else if (MissedByCompaction(read, begin))
                {
                    // A compaction moved the begin address past the read: the record may have been copied to the tail.
                    DeleteStored(key, onlyIfExpired: false, log, cascade);
                }
            }
        }
    }

    private bool CollectedEarlierInSlice(int start, int index)
    {
        ReadOnlySpan<byte> key = _candidates.KeyAt(start + index);
        for (int j = 0; j < index; j++)
        {
            if (key.SequenceEqual(_candidates.KeyAt(start + j)))
            {
                return true;
            }
        }

        return false;
    }

    private long KeysIn(byte[] physicals)
    {
        long keys = 0;
        foreach (byte physical in physicals)
        {
            keys += _store.KeyCountOfPhysical(physical);
        }

        return keys;
    }

    /// <summary>Reads the dropped databases' list into <see cref="_dropped"/> (empty without a record). Under the reaper's gate.</summary>
    internal void ReadDroppedDatabases()
    {
        if (ReadReaperRecord(DroppedDatabases.Key))
        {
            DroppedDatabases.Decode(_reapBytes.WrittenSpan, _dropped);
        }
        else
        {
            _dropped.Clear();
        }

        _store.Reaper.CountedDatabases(_dropped);
    }

    // The command's changes to the dropped list: the databases it detached join it, those the reaper finished leave it.
    // Written (or, empty, deleted) and logged with the command, under the reaper's gate.
    private void UpdateDroppedDatabases()
    {
        if (_toDrop.Count == 0 && _databasesReaped is null)
        {
            return;
        }

        ReadDroppedDatabases();
        if (_toDrop.Count > 0)
        {
            // Walks that start from now on cover these (the list is read under the gate when a walk starts).
            _flushedDeletedByWalk = _store.Reaper.WalksStarted + 1;
        }

        _dropped.AddRange(_toDrop);
        _toDrop.Clear();
        foreach (byte reaped in _databasesReaped ?? [])
        {
            _dropped.Remove(reaped);
        }

        _databasesReaped = null;

        byte[]? payload = null;
        if (_dropped.Count > 0)
        {
            payload = new byte[DroppedDatabases.Size(_dropped.Count)];
            DroppedDatabases.Encode(_dropped, payload);
        }

        WriteReaperRecord(DroppedDatabases.Key, payload);
        _store.Reaper.CountedDatabases(_dropped);
    }

    // Writes (or, empty, deletes) the queue record, logged with the current command. Under the reaper's gate.
    private void WriteReapQueue()
    {
        byte[]? payload = null;
        if (_reapQueue.Count > 0)
        {
            payload = new byte[ReapQueue.Size(_reapQueue.Count)];
            ReapQueue.Encode(_reapQueue, payload);
        }

        WriteReaperRecord(ReapQueue.Key, payload);
        _store.Reaper.Counted(_reapQueue);
    }

    // Reads one of the reaper's records (its queue, the dropped databases) into _reapBytes; false when there is none.
    private bool ReadReaperRecord(ReadOnlySpan<byte> key)
    {
        _reapBytes.ResetWrittenCount();
        ReadStored(key, _reapBytes);
        return _output.Found;
    }

    // Writes one of the reaper's records, logged with the current command; null (nothing left in it) deletes it.
    private void WriteReaperRecord(ReadOnlySpan<byte> key, byte[]? payload)
    {
        if (payload is null)
        {
            DeleteStored(key, onlyIfExpired: false, log: true, Cascade.None);
        }
        else
        {
            WriteStored(key, RecordType.Metadata, payload, 0, log: true, Cascade.None);
        }
    }

    public void SwapDatabases(int first, int second) => _store.SwapPhysical(first, second, this);

    public void Dispose() => _session.Dispose();

    /// <summary>Deletes expired records among the next <paramref name="records"/> records from <paramref name="cursor"/>; returns the next cursor (0 = wrapped).</summary>
    internal long DeleteExpiredSlice(long cursor, int records, KeyLocks locks)
    {
        long start = Math.Max(cursor, _store.Kv.Log.BeginAddress);
        long tail = _store.Kv.Log.TailAddress;
        long next = Collect(start, tail, records, physical: null, expiredOnly: true, examineLimit: records);
        DeleteExpiredCandidates(locks);
        return next >= tail ? 0 : next;
    }

    /// <summary>Deletes (logged and counted) every record in [<paramref name="start"/>, <paramref name="end"/>) that is the live, expired version of its key.</summary>
    internal void DeleteExpiredRange(long start, long end, KeyLocks locks)
    {
        for (long next = Math.Max(start, _store.Kv.Log.BeginAddress); next < end;)
        {
            next = Collect(next, end, 4096, physical: null, expiredOnly: true);
            DeleteExpiredCandidates(locks);
        }
    }

    /// <summary>
    /// FASTER compaction of the log below <paramref name="untilAddress"/> (at most the read-only address): live records are
    /// copied to the tail unless a newer version exists, then the begin address moves. Returns the new begin address.
    /// </summary>
    /// <remarks>
    /// Lookup (the default) checks each record against the index; Scan builds a temporary in-memory store of the whole
    /// range's keys, so its memory grows with the data compacted. Measured in docs/storage.md.
    /// </remarks>
    internal long Compact(long untilAddress, long expiredBeforeMs, CompactionType type = CompactionType.Lookup)
    {
        _functions.BeginCompaction();
        try
        {
            return _session.Compact(untilAddress, type, new ExpiredRecordCompaction(expiredBeforeMs));
        }
        finally
        {
            // Also after a compaction abandoned (CompactionAbandonedException): its copies may have lost races too.
            _functions.EndCompaction();
            RepairAbandonedAllocations();
        }
    }

    /// <summary>
    /// Repairs the allocations this session's operations made FASTER give up (<see cref="FasterStore.RepairAbandonedAllocations"/>),
    /// unless some of its replayed writes are still pending, whose retries may yet reuse theirs.
    /// </summary>
    private void RepairAbandonedAllocations()
    {
        if (_functions.Abandoned.Count == 0 || _replayPending > 0)
        {
            return;
        }

        _store.RepairAbandonedAllocations(_session, _functions.Abandoned);
        _functions.Abandoned.Clear();
    }

    private void DeleteExpiredCandidates(KeyLocks locks)
    {
        for (int i = 0; i < _candidates.Count; i++)
        {
            DeleteIfExpired(_candidates.KeyAt(i), locks);
        }
    }

    public void ReclaimExpiredReads()
    {
        if (_expiredReads.Count == 0)
        {
            return;
        }

        // With the WAL refusing writes, the expiry cycle deletes them once it accepts writes again; while a snapshot holds
        // every stripe (a replica's full sync), too, rather than hold this thread until it ends.
        if (_store.WriteFailure is null && !_store.Locks.AllHeldShared)
        {
            foreach (byte[] storedKey in _expiredReads)
            {
                DeleteIfExpired(storedKey, _store.Locks);
            }
        }

        _expiredReads.Clear();
    }

    // Deletes the key if its live record has expired (checked again under its stripe, taken here): logged, counted, its parts too.
    private void DeleteIfExpired(ReadOnlySpan<byte> storedKey, KeyLocks locks)
    {
        int stripe = KeyLocks.StripeOf(storedKey[1..]);
        locks.EnterExclusive(stripe);
        try
        {
            DeleteStored(storedKey, onlyIfExpired: true, log: true, _store.Reaper.LazyExpiredKeys ? Cascade.Lazy : Cascade.Now);
            CompleteCommand();
        }
        finally
        {
            locks.ExitExclusive(stripe);
        }
    }

    /// <summary>
    /// Reads the database map into <paramref name="physical"/>; databases past the stored map's length (the databases
    /// setting was raised) get numbers neither mapped nor dropped. Returns whether it handed out any: the caller must save
    /// the map then, since the numbers free now depend on what the reaper has finished.
    /// </summary>
    internal bool LoadDatabaseMap(byte[] physical)
    {
        ArrayBufferWriter<byte> stored = new(256);
        ReadStored(FasterStore.DatabaseMapKey, stored);
        if (!_output.Found)
        {
            return false;
        }

        ReadOnlySpan<byte> map = stored.WrittenSpan;
        bool[] used = new bool[256];
        used[FasterStore.MetadataPrefix] = true;
        ReadDroppedDatabases();
        foreach (byte dropped in _dropped)
        {
            used[dropped] = true;
        }

        int i = 0;
        for (; i < physical.Length && i < map.Length; i++)
        {
            physical[i] = map[i];
            used[map[i]] = true;
        }

        // More databases than last time: hand out the physical numbers not yet in use.
        bool extended = i < physical.Length;
        for (int candidate = 0; i < physical.Length; candidate++)
        {
            if (candidate == used.Length)
            {
                throw new InvalidDataException(
                    $"databases {physical.Length} needs more database numbers than are free while {_dropped.Count} databases emptied by FLUSHDB ASYNC " +
                    "are still being deleted: start once with the databases setting of the last start, let the reaper finish (INFO durable_lazyfree_pending_databases 0), then raise it");
            }

            if (!used[candidate])
            {
                physical[i++] = (byte)candidate;
            }
        }

        return extended;
    }

    internal void SaveDatabaseMap(byte[] physical)
    {
        WriteStored(FasterStore.DatabaseMapKey, RecordType.Metadata, physical, 0, log: false, Cascade.None);
        LogRecord(WalRecord.EncodeDatabaseMap(WalBuffer(physical.Length + 8), physical));
    }

    /// <summary>Applies one write-ahead-log record during recovery (this session logs nothing).</summary>
    internal void Replay(ReadOnlySpan<byte> record, in DecodedWalRecord decoded, byte[] physicalMap)
    {
        ReadOnlySpan<byte> body = DecodedWalRecord.Body(record);
        if (decoded.Kind == WalRecordKind.Batch)
        {
            ReplayBatch(body, physicalMap);
            return;
        }

        if (decoded.Kind == WalRecordKind.BatchPart)
        {
            ReadOnlySpan<byte> batch = WalRecord.BatchPartBody(record, out long commandId, out bool last);
            if (!last)
            {
                _pendingParts ??= [];
                if (!_pendingParts.TryGetValue(commandId, out List<byte[]>? parts))
                {
                    _pendingParts[commandId] = parts = [];
                }

                parts.Add(batch.ToArray());
                return;
            }

            // Parts logged before a checkpoint's replay position are in that checkpoint: only those after it are here.
            if (_pendingParts is not null && _pendingParts.Remove(commandId, out List<byte[]>? earlier))
            {
                foreach (byte[] part in earlier)
                {
                    ReplayBatch(part, physicalMap);
                }
            }

            ReplayBatch(batch, physicalMap);
            return;
        }

        ReadOnlySpan<byte> key = body.Slice(decoded.KeyOffset, decoded.KeyLength);
        if (decoded.Kind == WalRecordKind.Write)
        {
            // The live command logged the parts it deleted along with the record: replay applies those records.
            ReplayWrite(key, decoded.Type, body[decoded.PayloadOffset..], decoded.ExpiresAtMs);
            return;
        }

        if (decoded.Kind is WalRecordKind.PartEdit or WalRecordKind.ValueEdit)
        {
            DeferPartEdit(key, body[decoded.PayloadOffset..], decoded.Kind == WalRecordKind.ValueEdit);
            return;
        }

        // Everything else reads what it changes: the writes before it land first.
        FinishReplayWrites();
        switch (decoded.Kind)
        {
            case WalRecordKind.Delete:
                DeleteStored(key, onlyIfExpired: false, log: false, Cascade.None);
                break;
            case WalRecordKind.FlushDatabase:
                FlushPhysical(key[0], lazy: false);
                break;
            case WalRecordKind.Expire:
                SetExpiryStored(key, decoded.ExpiresAtMs, log: false);
                break;
            case WalRecordKind.DatabaseMap:
                key[..Math.Min(key.Length, physicalMap.Length)].CopyTo(physicalMap);
                WriteStored(FasterStore.DatabaseMapKey, RecordType.Metadata, key, 0, log: false, Cascade.None);
                break;
        }
    }

    /// <summary>
    /// Replays a write without waiting for the disk: the RMW that replaces the record (it reads the old one, on disk
    /// after a large load, to keep the key counts) completes with the others of its window at
    /// <see cref="FinishReplayWrites"/>, so that replay reads many records at once instead of one after another. A key
    /// with an RMW still on its way, or a part edit not yet applied, finishes the window first, so that the operations
    /// on one key land in WAL order; so do <see cref="ReplayWindow"/> of them. Unlike a client's write, an expired record
    /// it replaces is not counted in expired_keys (Redis does not expire keys while it loads either).
    /// </summary>
    private void ReplayWrite(ReadOnlySpan<byte> storedKey, RecordType type, ReadOnlySpan<byte> payload, long expiresAtMs)
    {
        ulong hash = JoinReplayWindow(storedKey, needsPrefetchRoom: false);
        byte[]? rented = null;
        ReadOnlySpan<byte> value = ComposeValue(new RecordHeader(type, expiresAtMs), payload, ref rented);
        if (StartRmw(storedKey, value))
        {
            _replayPending++;
            _replayWindow.Add(hash);
        }
        else if (WasCanceled(_output))
        {
            // Not seen: a write FASTER cancels has gone pending first (its old record left memory). Were one to end here,
            // dropping it would lose it, so it goes again, once the window's writes are done (whose own cancellations
            // FinishReplayWrites finds); the value is copied first, as the window's part edits compose theirs in the same
            // buffers.
            byte[] again = value.ToArray();
            FinishReplayWrites();
            Rmw(storedKey, again);
        }

        ReturnRented(rented);
    }

    /// <summary>
    /// Replays a part edit: at once when its part is in memory; otherwise later in the window
    /// (<see cref="FinishReplayWrites"/>), once the read of its part, started here, has come back with the others of the
    /// window. A WAL of edits to parts on disk (a huge collection's random members) then reads those parts together
    /// instead of one after another, while the edits of its hot parts (a tree's upper nodes, edited by every command)
    /// neither wait nor end the window.
    /// </summary>
    private void DeferPartEdit(ReadOnlySpan<byte> partKey, ReadOnlySpan<byte> edit, bool value)
    {
        ulong hash = JoinReplayWindow(partKey, needsPrefetchRoom: true);
        PrefetchedRecords.Entry entry = _prefetched.Add(partKey, stripe: -1, writeVersion: 0, _store.KeyWrites.Of(partKey), BeginAddress, NowMs);
        if (!StartRead(partKey, entry.Output))
        {
            _prefetched.RemoveLast();
            ReplayPartEdit(partKey, edit, value);
            return;
        }

        _replayPending++;
        _replayWindow.Add(hash);
        partKey.CopyTo(_deferredEditBytes.GetSpan(partKey.Length));
        _deferredEditBytes.Advance(partKey.Length);
        edit.CopyTo(_deferredEditBytes.GetSpan(edit.Length));
        _deferredEditBytes.Advance(edit.Length);
        _deferredEdits.Add((partKey.Length, edit.Length, value));
    }

    // Finishes the window first when it holds storedKey, is full, or (for a part edit's read) has no prefetch room left.
    private ulong JoinReplayWindow(ReadOnlySpan<byte> storedKey, bool needsPrefetchRoom)
    {
        ulong hash = System.IO.Hashing.XxHash3.HashToUInt64(storedKey);
        if (_replayWindow.Count >= ReplayWindow || _replayWindow.Contains(hash)
            || (needsPrefetchRoom && _prefetched.Count >= PrefetchedRecords.MaxEntries))
        {
            FinishReplayWrites();
        }

        return hash;
    }

    /// <summary>
    /// Waits for the window's reads (<see cref="ReplayWrite"/>, <see cref="DeferPartEdit"/>), then applies its part edits
    /// in WAL order, each from the record its read brought; the next window starts empty.
    /// </summary>
    internal void FinishReplayWrites()
    {
        if (_replayPending > 0)
        {
            _store.CountPendingReads(_replayPending);
            _replayPending = 0;
            _session.CompletePendingWithOutputs(out CompletedOutputIterator<SpanByte, SpanByte, SpanByte, StoreOutput, Empty> completed, wait: true);
            // The RMWs cancelled for a record FASTER put where the log was flushed (StoreOutput.Canceled): again, now.
            List<(byte[] Key, byte[] Input)>? again = null;
            using (completed)
            {
                while (completed.Next())
                {
                    ref CompletedOutput<SpanByte, SpanByte, SpanByte, StoreOutput, Empty> operation = ref completed.Current;
                    if (operation.Status.IsCanceled)
                    {
                        (again ??= []).Add((operation.Key.ToByteArray(), operation.Input.ToByteArray()));
                    }
                }
            }

            foreach ((byte[] key, byte[] input) in again ?? [])
            {
                _store.CountFlushedAllocationRetry();
                Rmw(key, input);
            }

            RepairAbandonedAllocations();
        }

        ReadOnlySpan<byte> bytes = _deferredEditBytes.WrittenSpan;
        foreach ((int keyLength, int editLength, bool value) in _deferredEdits)
        {
            ReplayPartEdit(bytes[..keyLength], bytes.Slice(keyLength, editLength), value);
            bytes = bytes[(keyLength + editLength)..];
        }

        _deferredEdits.Clear();
        _deferredEditBytes.ResetWrittenCount();
        _prefetched.Clear();
        _replayWindow.Clear();
    }

    /// <summary>
    /// Applies a part edit to the part as stored (a value edit to the string at the key, keeping its expiry), if it holds
    /// the payload the edit was made from. Any other state is left alone: the record is already past the edit (a
    /// checkpoint taken after the WAL position the replay started from holds the edit and maybe later ones, which this
    /// replay meets next), or absent (deleted later, or expired). Each edit applied makes the record what it was after
    /// that edit, so the replay ends with the record as the last edit left it.
    /// </summary>
    private void ReplayPartEdit(ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> edit, bool value)
    {
        _editBefore.ResetWrittenCount();
        ReadStored(storedKey, _editBefore);
        RecordType type = value ? RecordType.String : RecordType.Part;
        if (!_output.Found || _output.Header.Type != type)
        {
            return;
        }

        long expiresAtMs = _output.Header.ExpiresAtMs;
        _editAfter.ResetWrittenCount();
        if (PartEdit.TryApply(edit, _editBefore.WrittenSpan, _editAfter))
        {
            WriteStored(storedKey, type, _editAfter.WrittenSpan, expiresAtMs, log: false, Cascade.None);
        }
    }

    /// <summary>Applies a batch body: count, then length-prefixed records (TryDecode already checked that they decode).</summary>
    private void ReplayBatch(ReadOnlySpan<byte> batch, byte[] physicalMap)
    {
        ReadOnlySpan<byte> entries = batch[4..];
        while (!entries.IsEmpty)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(entries);
            ReadOnlySpan<byte> inner = entries.Slice(4, length);
            WalRecord.TryDecode(inner, out DecodedWalRecord innerDecoded, out _);
            Replay(inner, innerDecoded, physicalMap);
            entries = entries[(4 + length)..];
        }
    }

    /// <summary>
    /// After replay: forgets the parts of commands whose last part never reached the committed log (never acknowledged
    /// with appendfsync always), and returns how many commands that was.
    /// </summary>
    internal int DropIncompleteCommands()
    {
        int dropped = _pendingParts?.Count ?? 0;
        _pendingParts = null;
        return dropped;
    }

    /// <summary>Rebuilds key and TTL counts from the log: every record that is the live version of its key counts once.</summary>
    internal void CountKeys(long[] keys, long[] expiring, Action<double> progress)
    {
        long begin = _store.Kv.Log.BeginAddress;
        long tail = _store.Kv.Log.TailAddress;
        long nextReport = Environment.TickCount64 + 2000;
        for (long next = begin; next < tail;)
        {
            if (Environment.TickCount64 > nextReport)
            {
                nextReport = Environment.TickCount64 + 2000;
                progress((double)(next - begin) / (tail - begin));
            }

            // The store's own records too (parts, the database map, the reaper's queue): the counts hold every record.
            next = Collect(next, tail, PassBatch, physical: null, expiredOnly: false, metadata: true);
            for (int i = 0; i < _candidates.Count; i++)
            {
                ReadOnlySpan<byte> storedKey = _candidates.KeyAt(i);
                if (IsLiveCandidate(i))
                {
                    keys[storedKey[0]]++;
                    if (_output.Header.HasExpiry)
                    {
                        expiring[storedKey[0]]++;
                    }
                }
            }
        }
    }

    public bool TryReadServerRecord(ReadOnlySpan<byte> name, IBufferWriter<byte> value)
    {
        ReadStored(ServerRecordKey(name), value);
        return _output.Found;
    }

    public void WriteServerRecord(ReadOnlySpan<byte> name, ReadOnlySpan<byte> payload) =>
        WriteStored(ServerRecordKey(name), RecordType.Metadata, payload, 0, log: true, Cascade.None);

    public void DeleteServerRecord(ReadOnlySpan<byte> name) =>
        DeleteStored(ServerRecordKey(name), onlyIfExpired: false, log: true, Cascade.None);

    // A server record's stored key: store metadata (as the database map and the reaper's records), after "s:" so that
    // no name can meet one of those.
    private ReadOnlySpan<byte> ServerRecordKey(ReadOnlySpan<byte> name)
    {
        ReadOnlySpan<byte> prefix = [FasterStore.MetadataPrefix, (byte)'s', (byte)':'];
        if (prefix.Length + name.Length > _key.Length)
        {
            _key = new byte[Math.Max(prefix.Length + name.Length, _key.Length * 2)];
        }

        prefix.CopyTo(_key);
        name.CopyTo(_key.AsSpan(prefix.Length));
        return _key.AsSpan(0, prefix.Length + name.Length);
    }

    private ReadOnlySpan<byte> StoredKey(byte physical, ReadOnlySpan<byte> key)
    {
        if (key.Length + 1 > _key.Length)
        {
            _key = new byte[Math.Max(key.Length + 1, _key.Length * 2)];
        }

        _key[0] = physical;
        key.CopyTo(_key.AsSpan(1));
        return _key.AsSpan(0, key.Length + 1);
    }

    /// <summary>
    /// Reads a record into <see cref="_output"/>. <paramref name="unlocked"/>: the caller does not hold the key's stripe (a
    /// liveness check), so a prefetched record cannot be trusted. <paramref name="copyHot"/>: a client read, under its key's
    /// stripe (parts: their root key's), so a hot record read from disk may be copied to the tail (<see cref="CopyToTail"/>).
    /// </summary>
    private void ReadStored(ReadOnlySpan<byte> storedKey, IBufferWriter<byte>? value, bool unlocked = false, bool copyHot = false)
    {
        StoreOutput output = _output;
        output.Reset(value, NowMs);
        if (Warming)
        {
            WarmStored(storedKey, output);
            return;
        }

        if (!unlocked && _prefetched.Count > 0 && TryReadPrefetched(storedKey, output, copyHot))
        {
            return;
        }

        SpanByte input = default;
        while (true)
        {
            long begin = BeginAddress;
            // Pinned: the key, for this read and its completion if it goes to disk.
            fixed (byte* k = storedKey)
            {
                SpanByte keyBytes = SpanByte.FromPointer(k, storedKey.Length);
                Status status = _session.Read(ref keyBytes, ref input, ref output, Empty.Default, 0);
                if (!status.IsPending)
                {
                    return;
                }

                _store.CountPendingReads(1);
                // Decided before the read completes, so that only a record worth copying is captured whole.
                bool copy = copyHot && !_store.RecordsHeldInPlace && _store.ColdReads?.IsRepeat(storedKey) == true;
                if (copy)
                {
                    _copy.ResetWrittenCount();
                    output.Record = _copy;
                }

                MarkWaitingForDisk();
                _session.CompletePending(wait: true);
                if (copy && output.Found)
                {
                    CopyToTail(storedKey, _copy.WrittenSpan);
                }
            }

            if (!MissedByCompaction(output, begin))
            {
                return;
            }

            output.Reset(value, NowMs);
        }
    }

    /// <summary>
    /// A read while <see cref="Warming"/>, without the key's stripe, that never waits: a record on disk is read into the
    /// prefetched ones (with the key's write count from before the read) and the caller is told the key is absent for
    /// now; <see cref="CompletePrefetchesAsync"/> waits for the read, and the next warming pass, or the command once it
    /// holds the stripe, finds the record there unless the key was written since (<see cref="TryReadPrefetched"/>).
    /// Nothing is copied to the tail here: the read cache copies only under the stripe.
    /// </summary>
    private void WarmStored(ReadOnlySpan<byte> storedKey, StoreOutput output)
    {
        PrefetchedRecords.Entry? entry = _prefetched.Find(storedKey);
        if (entry is not null)
        {
            if (!entry.Output.PayloadSkipped && IsNewest(entry, storedKey))
            {
                // (A read of this pass still on its way answers "absent", as the first time.)
                AnswerFrom(entry, storedKey, output, copyHot: false);
                return;
            }

            if (entry.Output.PayloadSkipped || _pendingPrefetches > 0)
            {
                // Too large to keep; or written since, while this pass's reads, maybe its own, are on their way: a second
                // read into the same entry could complete first and leave the older record under the newer count.
                return;
            }

            // Written since that read: read it again.
            entry.Set(storedKey, stripe: -1, writeVersion: 0, _store.KeyWrites.Of(storedKey), BeginAddress, output.NowMs);
        }
        else
        {
            if (_prefetched.Count >= PrefetchedRecords.MaxEntries)
            {
                return;
            }

            entry = _prefetched.Add(storedKey, stripe: -1, writeVersion: 0, _store.KeyWrites.Of(storedKey), BeginAddress, output.NowMs);
        }

        _holdsWarmed = true;
        using (SessionReadDevice.Issuing(_reads))
        {
            if (StartRead(storedKey, entry.Output))
            {
                _pendingPrefetches++;
                _store.CountWarmRead();
                return;
            }
        }

        // In memory: answered now, and the command's own read will be as fast.
        AnswerFrom(entry, storedKey, output, copyHot: false);
        _prefetched.Remove(entry);
    }

    /// <summary>
    /// The read cache: writes <paramref name="storedValue"/>, just read from disk as the newest record of
    /// <paramref name="storedKey"/>, again at the log's tail with an ordinary upsert (not logged, not counted: the key
    /// keeps its value, expiry and parts), so that its next reads are served from memory. Safe because the caller holds
    /// the key's stripe (a client read; for a part, its root key's) since before the read: every write of the key takes
    /// that stripe exclusively, so none came between the read and this copy. The only writes that do not are copies of
    /// the same record (compaction's, another reader's). docs/storage.md, "Read cache".
    /// </summary>
    private void CopyToTail(ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> storedValue)
    {
        Upsert(storedKey, storedValue);
        _store.CountReadCopy();
        if (_copy.Capacity > KeepValueBufferBytes)
        {
            // A large record passed through: drop its buffer rather than keep it for the session's life.
            _copy = new ArrayBufferWriter<byte>(1024);
        }
    }

    /// <summary>A blind write of a stored value (header and payload): FASTER's upsert never reads the old record, nor counts.</summary>
    private void Upsert(ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> storedValue, StoreOutput? output = null)
    {
        // Pinned: key and value, for the upsert (which never goes pending).
        fixed (byte* k = storedKey)
        fixed (byte* v = storedValue)
        {
            SpanByte keyBytes = SpanByte.FromPointer(k, storedKey.Length);
            SpanByte valueBytes = SpanByte.FromPointer(v, storedValue.Length);
            if (output is null)
            {
                _session.Upsert(ref keyBytes, ref valueBytes, Empty.Default, 0);
            }
            else
            {
                SpanByte input = default;
                _session.Upsert(ref keyBytes, ref input, ref valueBytes, ref output, Empty.Default, 0);
            }
        }

        _store.KeyWrites.Written(storedKey);
        RepairAbandonedAllocations();
    }

    /// <summary>
    /// Writes a record; unless <paramref name="cascade"/> is <see cref="Cascade.None"/>, the parts of the record it replaces go too unless the new record
    /// carries the same generation (a collection updating its own root). Returns whether the key is new: no live record
    /// was there (none, or an expired one).
    /// </summary>
    private bool WriteStored(ReadOnlySpan<byte> storedKey, RecordType type, ReadOnlySpan<byte> payload, long expiresAtMs, bool log, Cascade cascade)
    {
        // A long string gets room to grow and, when it is updated in place with its type and expiry kept, the WAL gets
        // the change instead of the value: an APPEND to a long string, a bit or a HyperLogLog register set in it.
        RecordHeader header = new(type, expiresAtMs);
        bool longString = type == RecordType.String && payload.Length >= LongStringBytes;
        byte[]? rented = null;
        StoreOutput output = Rmw(
            storedKey, ComposeValue(header, payload, longString ? RoomFor(storedKey.Length, payload.Length) : -1, ref rented), editWanted: log && longString && _wal is not null);
        ReturnRented(rented);

        bool isNew = output.Created;
        if (!isNew && output.OldHeader.IsExpiredAt(output.NowMs))
        {
            // Redis counts an expired key its write replaces (lookupKeyWrite expires it first); so does Delete here.
            _store.CountExpired(storedKey);
            isNew = true;
        }

        PartsDescriptor? replacedParts = output.OldParts;
        if (log)
        {
            // Logged after the store applied it, under the caller's exclusive stripe: a record below a checkpoint's
            // WAL position is therefore always in that checkpoint.
            if (output.EditFound && !output.Created && output.OldHeader == header && IsWorthLogging(output.Edit, payload))
            {
                LogRecord(WalRecord.EncodeValueEdit(WalBuffer(WalRecord.PartEditSize(storedKey.Length, output.Edit)), storedKey, output.Edit, payload));
            }
            else
            {
                LogRecord(WalRecord.EncodeWrite(WalBuffer(WalRecord.WriteSize(storedKey.Length, payload.Length)), storedKey, type, expiresAtMs, payload));
            }
        }

        if (cascade != Cascade.None && replacedParts is PartsDescriptor old
            && !(PartsDescriptor.TryRead(type, payload, out PartsDescriptor kept) && kept.Generation == old.Generation))
        {
            DeleteParts(old, log, cascade);
        }

        return isNew;
    }

    /// <summary>
    /// A stored value (header, then payload) in the session's value buffer, or in <paramref name="rented"/> (rented here
    /// when larger than the buffer keeps; give it back with <see cref="ReturnRented"/>). Valid until the next call.
    /// A part gets room to grow (<see cref="RoomFor"/>), so that its next writes can update it in place.
    /// </summary>
    private Span<byte> ComposeValue(RecordHeader header, ReadOnlySpan<byte> payload, ref byte[]? rented) =>
        ComposeValue(header, payload, header.Type == RecordType.Part ? RoomFor(PartsDescriptor.PartKeySize, payload.Length) : -1, ref rented);

    // As above with room given: -1 for none (a version 1 header).
    private Span<byte> ComposeValue(RecordHeader header, ReadOnlySpan<byte> payload, int room, ref byte[]? rented)
    {
        int headerSize = room < 0 ? RecordHeader.Size : RecordHeader.RoomySize;
        int length = headerSize + payload.Length + Math.Max(room, 0);
        if (length > _value.Length && length <= KeepValueBufferBytes)
        {
            _value = new byte[Math.Max(length, _value.Length * 2)];
        }

        rented = length > _value.Length ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> value = (rented ?? _value).AsSpan(0, length);
        if (room < 0)
        {
            header.WriteTo(value);
        }
        else
        {
            header.WriteRoomyTo(value, payload.Length);
            value[(headerSize + payload.Length)..].Clear();
        }

        payload.CopyTo(value[headerSize..]);
        return value;
    }

    // A change is logged as an edit while it is less than half what the whole value would cost; an edit that changes
    // nothing is logged too (tiny), since a command's writes are what tells WATCH that it touched its key.
    private static bool IsWorthLogging(PartEdit edit, ReadOnlySpan<byte> payload) => edit.InsertedBytes + edit.FixedSize < payload.Length / 2;

    /// <summary>
    /// Spare bytes for a part (or a long string) of <paramref name="payloadLength"/> bytes: an eighth of it, at least
    /// <see cref="MinPartRoom"/> (a list chunk of small elements takes 16 pushes per record, not one), within the largest
    /// record; -1 (no room, a version 1 header) when not even the longer header fits.
    /// </summary>
    private int RoomFor(int keyLength, int payloadLength)
    {
        long fits = _store.MaxRecordBytes - keyLength - RecordHeader.RoomySize - payloadLength;
        return fits < 0 ? -1 : (int)Math.Min(Math.Max(MinPartRoom, payloadLength / 8), fits);
    }

    private static void ReturnRented(byte[]? rented)
    {
        if (rented != null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>One RMW with <paramref name="input"/> (a whole new value, or an <see cref="ExpiryUpdate"/>), completed even if the old record is on disk.</summary>
    private StoreOutput Rmw(ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> input, bool editWanted = false)
    {
        do
        {
            if (StartRmw(storedKey, input, editWanted))
            {
                WaitForPending(1);
            }
        }
        while (WasCanceled(_output));

        _store.KeyWrites.Written(storedKey);
        RepairAbandonedAllocations();
        return _output;
    }

    /// <summary>Whether an RMW was cancelled for a record FASTER put where the log was flushed (<see cref="StoreOutput.Canceled"/>): it must be issued again.</summary>
    private bool WasCanceled(StoreOutput output)
    {
        if (!output.Canceled)
        {
            return false;
        }

        _store.CountFlushedAllocationRetry();
        return true;
    }

    /// <summary>
    /// Issues one RMW into <see cref="_output"/>; returns true when the old record is on disk: the RMW then completes at
    /// the session's next CompletePending. FASTER copies the key and input of an operation that goes pending, so the
    /// caller's buffers are free again on return.
    /// </summary>
    private bool StartRmw(ReadOnlySpan<byte> storedKey, ReadOnlySpan<byte> input, bool editWanted = false)
    {
        StoreOutput output = _output;
        output.Reset(null, NowMs);
        output.EditWanted = editWanted;
        fixed (byte* k = storedKey)
        fixed (byte* i = input)
        {
            SpanByte keyBytes = SpanByte.FromPointer(k, storedKey.Length);
            SpanByte inputBytes = SpanByte.FromPointer(i, input.Length);
            return _session.RMW(ref keyBytes, ref inputBytes, ref output, Empty.Default, 0).IsPending;
        }
    }

    /// <summary>Deletes a record; unless <paramref name="cascade"/> is <see cref="Cascade.None"/>, its parts too (after it, so that no record ever names a missing part).</summary>
    private bool DeleteStored(ReadOnlySpan<byte> storedKey, bool onlyIfExpired, bool log, Cascade cascade)
    {
        // A part deleted (itself, or by a cascade) no longer exists: its next write must count it again.
        _partsFound.Clear();
        ReadStored(storedKey, null);
        bool expired = _output.Expired;
        if ((!_output.Found && !expired) || (onlyIfExpired && !expired))
        {
            return false;
        }

        PartsDescriptor? parts = _output.Parts;
        RemoveRecord(storedKey, _output.Header.HasExpiry, log);
        if (cascade != Cascade.None && parts is PartsDescriptor owned)
        {
            DeleteParts(owned, log, cascade);
        }

        if (expired)
        {
            _store.CountExpired(storedKey);
            return false;
        }

        return true;
    }

    /// <summary>Deletes a record a read has just found (and, with <paramref name="log"/>, logs it).</summary>
    private void RemoveRecord(ReadOnlySpan<byte> storedKey, bool hasExpiry, bool log)
    {
        // Pinned: the key, for the delete (which never goes pending).
        fixed (byte* k = storedKey)
        {
            SpanByte keyBytes = SpanByte.FromPointer(k, storedKey.Length);
            _functions.DeletingExpiring = hasExpiry;
            _session.Delete(ref keyBytes, Empty.Default, 0);
        }

        _store.KeyWrites.Written(storedKey);
        RepairAbandonedAllocations();
        if (log)
        {
            LogRecord(WalRecord.EncodeDelete(WalBuffer(WalRecord.DeleteSize(storedKey.Length)), storedKey));
        }
    }

    /// <summary>Space for the next WAL record of the current command, after its 4-byte length prefix.</summary>
    private Span<byte> WalBuffer(int length)
    {
        if (_pendingRecords == 0)
        {
            _pendingLength = WalRecord.BatchHeaderSize;
        }

        // Room for the prefix, the record and a batch checksum.
        int needed = _pendingLength + 4 + length + 4;
        if (_pendingWal.Length < needed)
        {
            Array.Resize(ref _pendingWal, Math.Max(needed, _pendingWal.Length * 2));
        }

        return _pendingWal.AsSpan(_pendingLength + 4);
    }

    /// <summary>Keeps the record just encoded in <see cref="WalBuffer"/> until <see cref="CompleteCommand"/>.</summary>
    private void LogRecord(int length)
    {
        if (_wal is null)
        {
            return;
        }

        BinaryPrimitives.WriteInt32LittleEndian(_pendingWal.AsSpan(_pendingLength), length);
        _pendingLength += 4 + length;
        _pendingRecords++;
    }

    public int LoggedRecords => _pendingRecords;

    public void CompleteCommand()
    {
        if (_toReap.Count > 0 || _toDrop.Count > 0 || _databasesReaped is not null)
        {
            // The queue's and the dropped list's records are written and logged under the reaper's gate, and the command's
            // entry goes to the WAL before the gate opens: their versions reach the WAL in the order they were made, so that
            // replay ends with the last (one logged out of order could drop a collection that another command queued
            // meanwhile, or name again a database whose number was handed out since).
            lock (_store.Reaper.Gate)
            {
                if (_toReap.Count > 0)
                {
                    QueueReaps();
                }

                UpdateDroppedDatabases();
                FinishCommand();
            }

            _store.Reaper.Wake();
            return;
        }

        FinishCommand();
    }

    private void FinishCommand()
    {
        _partsFound.Clear();
        _heldStripeCount = 0;
        _commandNowMs = 0;
        if (_holdsWarmed)
        {
            // Commands run in order: what warming read was for this one.
            _prefetched.RemoveWarmed();
            _holdsWarmed = false;
        }

        if (_pendingRecords == 0 || _wal is null)
        {
            return;
        }

        int count = _pendingRecords;
        _pendingRecords = 0;
        if (count == 1)
        {
            _walEnd = _wal.Append(_pendingWal.AsSpan(WalRecord.BatchHeaderSize + 4, _pendingLength - WalRecord.BatchHeaderSize - 4));
            return;
        }

        // Several records from one command (MSET, RENAME, FLUSHDB...) go in as one entry, so that a crash keeps all or none.
        int length = WalRecord.SealBatch(_pendingWal, _pendingLength, count);
        if (length <= _wal.MaxEntryBytes)
        {
            _walEnd = _wal.Append(_pendingWal.AsSpan(0, length));
            return;
        }

        // Larger than a WAL entry: several batch parts under one command id, which replay applies together once the
        // last part is there (a crash before it drops the whole command).
        AppendInParts(_wal, _pendingWal.AsSpan(WalRecord.BatchHeaderSize, _pendingLength - WalRecord.BatchHeaderSize));
    }

    /// <summary>Appends length-prefixed records as batch parts of at most one WAL entry each (every record fits one: see FasterStore.MaxRecordBytes).</summary>
    private void AppendInParts(FasterWriteAheadLog wal, ReadOnlySpan<byte> entries)
    {
        long commandId = Random.Shared.NextInt64();
        byte[] part = ArrayPool<byte>.Shared.Rent(wal.MaxEntryBytes);
        try
        {
            while (!entries.IsEmpty)
            {
                int length = WalRecord.BatchPartHeaderSize;
                int count = 0;
                while (!entries.IsEmpty)
                {
                    int recordLength = 4 + BinaryPrimitives.ReadInt32LittleEndian(entries);
                    if (count > 0 && length + recordLength + 4 > wal.MaxEntryBytes)
                    {
                        break;
                    }

                    entries[..recordLength].CopyTo(part.AsSpan(length));
                    length += recordLength;
                    count++;
                    entries = entries[recordLength..];
                }

                int sealedLength = WalRecord.SealBatchPart(part, length, count, commandId, last: entries.IsEmpty);
                _walEnd = wal.Append(part.AsSpan(0, sealedLength));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(part);
        }
    }

    /// <summary>
    /// Collects into <see cref="_candidates"/> up to <paramref name="limit"/> candidates (records of
    /// <paramref name="physical"/>, or of any database; only expired ones when <paramref name="expiredOnly"/>) from
    /// [<paramref name="start"/>, <paramref name="end"/>), looking at no more than <paramref name="examineLimit"/> records;
    /// returns where to go on. <paramref name="walking"/> runs once the walk has met its first record (a test's hook).
    /// </summary>
    private long Collect(long start, long end, int limit, byte? physical, bool expiredOnly, int examineLimit = int.MaxValue, Action? walking = null, bool metadata = false, bool[]? among = null)
    {
        _candidates.Clear();
        if (start >= end)
        {
            return end;
        }

        // FASTER 2.6.5's iterator skips to the begin address when a compaction moves it under the walk, checking its end
        // address before, not after: past that end it waits for a page it never loaded (NullReferenceException, with the
        // epoch still held) or reads a frame holding another page. So it runs to the tail, which no compaction passes
        // while the walk is registered (FasterStore.WalkStarted), and the walk stops at its own end.
        long walkEnd = _store.WalkStarted(end);
        try
        {
            using IFasterScanIterator<SpanByte, SpanByte> iterator = _store.Kv.Log.Scan(start, walkEnd);
            return CollectFrom(iterator, end, limit, physical, expiredOnly, examineLimit, walking, metadata, among);
        }
        finally
        {
            _store.WalkEnded(walkEnd);
        }
    }

    private long CollectFrom(IFasterScanIterator<SpanByte, SpanByte> iterator, long end, int limit, byte? physical, bool expiredOnly, int examineLimit, Action? walking, bool metadata, bool[]? among)
    {
        long now = NowMs;
        int examined = 0;
        while (iterator.GetNext(out FASTER.core.RecordInfo info))
        {
            if (iterator.CurrentAddress >= end)
            {
                return end;
            }

            if (++examined > examineLimit)
            {
                return iterator.CurrentAddress;
            }

            if (examined == 1)
            {
                walking?.Invoke();
            }

            if (info.Tombstone)
            {
                continue;
            }

            ref SpanByte key = ref iterator.GetKey();
            // Durable's keys carry no metadata: one that does is bytes from the middle of a record, where a made-up SCAN
            // cursor that passed its check started the walk (the walk finds record starts again at the next page).
            if (key.MetadataSize != 0)
            {
                continue;
            }

            ReadOnlySpan<byte> storedKey = key.AsReadOnlySpan();
            if (storedKey.IsEmpty || (storedKey[0] == FasterStore.MetadataPrefix && !metadata) || (physical is byte p && storedKey[0] != p) || (among is not null && !among[storedKey[0]]))
            {
                continue;
            }

            // Expiry leaves the keys of a dropped database to the reaper.
            if (expiredOnly && physical is null && _store.Reaper.IsDropped(storedKey[0]))
            {
                continue;
            }

            if (expiredOnly && !RecordHeader.Read(iterator.GetValue().AsReadOnlySpan()).IsExpiredAt(now))
            {
                continue;
            }

            _candidates.Add(iterator.CurrentAddress, storedKey);
            if (_candidates.Count >= limit || _candidates.KeyBytes >= MostCandidateKeyBytes)
            {
                return iterator.NextAddress;
            }
        }

        return end;
    }

    /// <summary>
    /// Passes each collected candidate that is still the live, unexpired version of its key to <paramref name="visitor"/>,
    /// and each whose key's live, unexpired record lies at or past <paramref name="movedPast"/> (where a scan's call stops:
    /// the pass may not reach it there). With <paramref name="reclaimExpired"/>, a live version that has expired is
    /// noted for <see cref="ReclaimExpiredReads"/>, as Redis's SCAN and RANDOMKEY delete an expired key they meet.
    /// </summary>
    private void VisitLive(IKeyVisitor visitor, long movedPast = long.MaxValue, bool reclaimExpired = false)
    {
        ArrayBufferWriter<byte>? values = visitor.Values;
        for (int i = 0; i < _candidates.Count; i++)
        {
            ReadOnlySpan<byte> storedKey = _candidates.KeyAt(i);
            values?.ResetWrittenCount();
            if (IsLiveCandidate(i, values) || _output.Address >= movedPast)
            {
                if (_output.Found)
                {
                    visitor.Visit(storedKey[1..], new StoredRecord(_output.Header.Type, _output.Header.ExpiresAtMs, _output.PayloadLength));
                }
                else if (_output.Expired && reclaimExpired)
                {
                    NoteExpiredRead(storedKey);
                }
            }
        }
    }

    public int ExpiredReadCount => _expiredReads.Count;

    public byte[] ExpiredRead(int index, out int db)
    {
        byte[] storedKey = _expiredReads[index];
        db = _store.LogicalDb(storedKey[0]);
        return storedKey[1..];
    }

    private void NoteExpiredRead(ReadOnlySpan<byte> storedKey)
    {
        if (_expiredReads.Count < MaxExpiredReads)
        {
            _expiredReads.Add(storedKey.ToArray());
        }
    }

    /// <summary>
    /// Whether collected candidate <paramref name="index"/> is still the newest record of its key (found or expired; the
    /// output then holds what the read found).
    /// </summary>
    private bool IsLiveCandidate(int index, IBufferWriter<byte>? value = null)
    {
        StoreOutput output = _output;
        ReadStored(_candidates.KeyAt(index), value, unlocked: true);
        return (output.Found || output.Expired) && output.Address == _candidates.AddressAt(index);
    }

    /// <summary>Reservoir-samples one key from everything it is shown.</summary>
    private sealed class RandomKeyPicker : IKeyVisitor
    {
        public int Seen { get; private set; }

        public byte[] Chosen { get; private set; } = [];

        public void Visit(ReadOnlySpan<byte> key, in StoredRecord record)
        {
            Seen++;
            if (Random.Shared.Next(Seen) == 0)
            {
                Chosen = key.ToArray();
            }
        }
    }
}
