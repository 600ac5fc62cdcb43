using System.Buffers;

namespace Durable.Storage;

/// <summary>
/// A connection's handle on the store. Not thread-safe: one logical sequence of operations, which may move
/// between threads between calls. Every call completes synchronously, cold (on-disk) records included; so that a batch of
/// reads waits for the disk once, together and without holding a thread, prefetch its keys first (<see cref="BeginPrefetch"/>).
/// Callers hold the key's stripe in <see cref="IStore.Locks"/> (shared to read, exclusive to write) for
/// every call; that is what makes a read-then-write sequence atomic.
/// </summary>
public interface IStoreSession : IDisposable
{
    /// <summary>
    /// Reads a live record of logical database <paramref name="db"/>. Expired records read as absent.
    /// The payload (without header) is appended to <paramref name="value"/> when it is not null.
    /// </summary>
    bool TryRead(int db, ReadOnlySpan<byte> key, IBufferWriter<byte>? value, out StoredRecord record);

    /// <summary>
    /// Creates or replaces a record; returns true when no live record existed (the key is new to its database, as for
    /// Redis's dbAdd). Replacing an expired record counts it as expired.
    /// </summary>
    bool Write(int db, ReadOnlySpan<byte> key, RecordType type, ReadOnlySpan<byte> payload, long expiresAtMs);

    /// <summary>
    /// Sets the expiry of a live record (<paramref name="expiresAtMs"/> in Unix ms, 0 = none) without rewriting its payload;
    /// returns false, changing nothing, when no live record exists.
    /// </summary>
    bool TrySetExpiry(int db, ReadOnlySpan<byte> key, long expiresAtMs);

    /// <summary>
    /// Removes a record, and its parts when it has a <see cref="PartsDescriptor"/>; returns true when a live one existed
    /// (an expired one is reclaimed and counted as expired).
    /// </summary>
    bool Delete(int db, ReadOnlySpan<byte> key);

    /// <summary>
    /// Removes a record as <see cref="Delete"/> does, except that the parts of a large collection (more than 16 parts) are
    /// deleted in the background after the command (UNLINK): the key is gone at once, and a restart goes on deleting them.
    /// </summary>
    bool Unlink(int db, ReadOnlySpan<byte> key);

    /// <summary>
    /// An estimate of the bytes a live key takes in the store (MEMORY USAGE): its record in the log and its index entry,
    /// and for a collection in parts, <paramref name="samples"/> of its part ids read, spread over its range, scaled to
    /// the whole range (all of them when there are no more). Null when the key does not exist.
    /// </summary>
    long? MeasureKey(int db, ReadOnlySpan<byte> key, long samples);

    /// <summary>
    /// Removes a live record but not its parts, which the caller has just given to another record with the same
    /// descriptor (RENAME, MOVE). Returns true when a live record existed.
    /// </summary>
    bool DeleteKeepingParts(int db, ReadOnlySpan<byte> key);

    /// <summary>
    /// Reads part <paramref name="part"/> of the collection generation <paramref name="generation"/>, appending its
    /// payload to <paramref name="value"/>; false when it does not exist. Callers hold the owning key's stripe.
    /// </summary>
    bool TryReadPart(ulong generation, uint part, IBufferWriter<byte> value);

    /// <summary>Creates or replaces a part (logged with the command, as any write). Callers hold the owning key's stripe exclusively.</summary>
    void WritePart(ulong generation, uint part, ReadOnlySpan<byte> payload);

    /// <summary>Removes a part if it exists. Callers hold the owning key's stripe exclusively.</summary>
    void DeletePart(ulong generation, uint part);

    /// <summary>
    /// Reads the server record <paramref name="name"/> (state of the whole server that belongs to no database: the function
    /// libraries), appending its payload to <paramref name="value"/>; false when there is none. Callers hold the store's
    /// hold-and-wait lock (<see cref="KeyLocks.EnterHoldAndWait"/>), which orders every writer of server records with the
    /// others and with checkpoints (<see cref="KeyLocks.EnterAll"/> takes it first).
    /// </summary>
    bool TryReadServerRecord(ReadOnlySpan<byte> name, IBufferWriter<byte> value);

    /// <summary>
    /// Creates or replaces the server record <paramref name="name"/>, logged with the current command and checkpointed
    /// like any record, never visible to clients. Callers hold the hold-and-wait lock, as for <see cref="TryReadServerRecord"/>.
    /// </summary>
    void WriteServerRecord(ReadOnlySpan<byte> name, ReadOnlySpan<byte> payload);

    /// <summary>Removes the server record <paramref name="name"/> if it exists, logged with the current command.</summary>
    void DeleteServerRecord(ReadOnlySpan<byte> name);

    /// <summary>
    /// Visits up to about <paramref name="count"/> live keys of <paramref name="db"/>, starting at <paramref name="cursor"/> (0 = start).
    /// Returns the next cursor, 0 when the scan is complete. A key that exists for the whole scan is visited at least once.
    /// Callers need no locks. With <paramref name="reclaimExpired"/> (SCAN, not KEYS, as in Redis), expired keys met on the
    /// way are deleted after the command (<see cref="ReclaimExpiredReads"/>).
    /// </summary>
    ulong Scan(int db, ulong cursor, int count, IKeyVisitor visitor, bool reclaimExpired);

    /// <summary>
    /// Cursors that each start a <see cref="Scan"/> over one of about <paramref name="parts"/> consecutive parts of the
    /// log (whole pages, neither overlapping nor leaving a gap): scans from all of them together visit every key a scan
    /// from 0 would; each once while every record stays where it is (<see cref="IStore.HoldRecordsInPlaceAsync"/> with
    /// writes held). For walks run on several sessions at once, so that their reads of records on disk overlap.
    /// </summary>
    IReadOnlyList<ulong> ScanPartitions(int parts);

    /// <summary>A random live key of <paramref name="db"/>, appended to <paramref name="key"/>; false when the database is empty.</summary>
    bool TryGetRandomKey(int db, IBufferWriter<byte> key);

    /// <summary>
    /// Removes every key of <paramref name="db"/>. With <paramref name="lazyFree"/> (FLUSHDB ASYNC) the database is
    /// emptied at once and its records (and large collections' parts) are deleted in the background
    /// (<see cref="WhenFlushedRecordsDeletedAsync"/> waits for that); without, before this returns. Callers hold every
    /// stripe exclusively.
    /// </summary>
    void FlushDatabase(int db, bool lazyFree);

    /// <summary>
    /// Completes once the background deletes of every database this session's lazy flushes emptied are done (the parts of
    /// large collections among them may still be queued). Call after the command has completed.
    /// </summary>
    Task WhenFlushedRecordsDeletedAsync(CancellationToken cancellationToken);

    /// <summary>Swaps two logical databases. Callers hold every stripe exclusively.</summary>
    void SwapDatabases(int first, int second);

    /// <summary>How many changes the current store command has logged so far (every change to the store is logged).</summary>
    int LoggedRecords { get; }

    /// <summary>
    /// How many keys reads found expired since the last <see cref="ReclaimExpiredReads"/> (at most 64): a primary tells
    /// its replicas to delete them before the write that read them, as Redis deletes an expired key a command looks up.
    /// </summary>
    int ExpiredReadCount { get; }

    /// <summary>Key <paramref name="index"/> of <see cref="ExpiredReadCount"/> and its database (-1 if that database was dropped since).</summary>
    byte[] ExpiredRead(int index, out int db);

    /// <summary>
    /// Ends a command: its write-ahead-log records go to the log as one entry, so that after a crash a command that
    /// changed several keys (MSET, RENAME, FLUSHDB) is either wholly there or wholly absent. Called by the dispatcher
    /// while it still holds the command's key locks.
    /// </summary>
    void CompleteCommand();

    /// <summary>
    /// Deletes the keys that the last command's reads (<see cref="TryRead"/>) found expired, each under its stripe (taken
    /// here) if it is still expired there: logged and counted, as the expiry cycle deletes them, so that DBSIZE and INFO
    /// keyspace stop counting a key once a command has found it expired, as in Redis (also those SCAN and RANDOMKEY
    /// met, <see cref="Scan"/>; at most 64 per command, the rest left to the expiry cycle). Called by the dispatcher after the
    /// command has released its key locks.
    /// </summary>
    void ReclaimExpiredReads();

    /// <summary>
    /// Completes when this session's writes are as durable as the fsync policy promises before a reply
    /// (with appendfsync always: committed; otherwise at once). Call before releasing replies to writes. The continuation
    /// may run on the thread that finished the commit, which then resumes the commit's other waiters: send the replies and
    /// leave that thread before running more commands.
    /// </summary>
    ValueTask WaitForDurabilityAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Starts loading into the CPU cache the index entry that the next operation on <paramref name="key"/> looks up first;
    /// changes nothing and never waits. For the command after the one about to run, so that its memory reads overlap.
    /// </summary>
    void PrefetchIndexEntry(int db, ReadOnlySpan<byte> key);

    /// <summary>
    /// Starts reading the record of <paramref name="key"/> when it is on disk only, and keeps what it finds for the next
    /// read of that key, which then needs no disk read of its own unless a key of the same lock stripe was written in
    /// between; returns true when a disk read was started. Needs no lock. Call <see cref="CompletePrefetchesAsync"/>
    /// after the batch's prefetches and before any other call; the next batch's first prefetch forgets the previous ones.
    /// </summary>
    bool BeginPrefetch(int db, ReadOnlySpan<byte> key);

    /// <summary>
    /// While true, the session only warms: a command about to wait for its keys' stripes reads, without them, what it will
    /// need (<see cref="TryRead"/>, <see cref="TryReadPart"/>). A record on disk is not waited for: it reads as absent
    /// now, its read joins the prefetches (<see cref="PrefetchesPending"/>, <see cref="CompletePrefetchesAsync"/>), and a
    /// later warming pass or the command itself, under the stripe, finds it there unless its key was written since. Such
    /// reads may see a mix of versions (callers take them as hints) and do not count as the command's reads of parts.
    /// Nothing may be written while warming; the warmed records are forgotten when the next command completes.
    /// </summary>
    bool Warming { get; set; }

    /// <summary>
    /// The key stripes the caller holds for the command it runs now (until <see cref="CompleteCommand"/>): a read of that
    /// command that waits for the disk marks them (<see cref="KeyLocks.MarkWaitingForDisk"/>), so that waiters stop spinning.
    /// Until then, expiry checks use one time, taken at the command's first look at the clock (Redis: one time per command).
    /// </summary>
    void HoldingStripes(int[] stripes, int count);

    /// <summary>Whether prefetches or warming reads were started that <see cref="CompletePrefetchesAsync"/> has not waited for.</summary>
    bool PrefetchesPending { get; }

    /// <summary>Completes when every read started by <see cref="BeginPrefetch"/> has finished, without blocking a thread meanwhile.</summary>
    ValueTask CompletePrefetchesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Once <see cref="CompletePrefetchesAsync"/> has completed: whether a read of a key given to <see cref="BeginPrefetch"/>
    /// for this batch may still wait for the disk, because the key found no room among the prefetched records or its
    /// record was too large to keep. Otherwise each such read is answered from memory (the prefetched record, the record
    /// in memory, or the newer one a write left there), unless the log moved a record that was in memory to disk meanwhile.
    /// </summary>
    bool PrefetchesMissed { get; }

    /// <summary>How many times this session has waited for the disk on its caller's thread (a read or read-modify-write of a record on disk that no prefetch had read).</summary>
    long DiskWaits { get; }

    /// <summary>
    /// Completes when every write of this session so far is committed to the write-ahead log, whatever the policy (WAITAOF);
    /// like <see cref="WaitForDurabilityAsync"/>, possibly on the thread that finished the commit.
    /// </summary>
    ValueTask WaitForCommitAsync(CancellationToken cancellationToken);
}
