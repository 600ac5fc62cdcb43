using System.Buffers;
using System.Buffers.Binary;
using Durable.Storage;

namespace Durable.Commands.Streams;

/// <summary>
/// A stream as stored: a root record under its key and its entries in <see cref="StreamChunk"/> part records of the
/// root's generation, numbered consecutively in ID order (the descriptor's range [first, first + count)): XADD appends
/// to the last chunk or adds one, trimming removes chunks from the head, and an entry is found by a binary search over
/// the chunks' ID ranges, so that a command reads the root and the chunks it needs, never the whole stream.
/// Root payload, version 1 (<see cref="RootSize"/> bytes): the <see cref="PartsDescriptor"/>, byte 18 root version,
/// byte 19 flags (0), bytes 20..27 length (live entries, u64 LE), 28..43 last-generated ID, 44..59 the first entry's
/// ID (Redis's recorded first ID), 60..75 max-deleted-entry ID (each ms then seq, u64 LE), 76..83 entries-added (u64),
/// 84..87 hidden chunks (u32): chunks whose entries XDEL deleted, which Redis would have freed and which stay for the
/// IDs the search needs (never the first or the last chunk); then the consumer groups: their count (u32) and each
/// group (<see cref="StreamGroup.Encode"/>), decoded only by the commands that use them. Pinned by StreamChunkTests.
/// Lives for one command.
/// </summary>
internal sealed class StreamValue
{
    public const byte RootVersion = 1;
    /// <summary>The root's size without groups; with them it is longer.</summary>
    public const int RootSize = PartsDescriptor.Size + 74;

    private readonly CommandContext _context;
    private readonly Dictionary<uint, StreamChunk> _chunks = [];
    private readonly HashSet<uint> _dirty = [];

    // Chunks changed as bytes (XADD's append to the last one), written as they are unless a command decodes them.
    private readonly Dictionary<uint, byte[]> _encoded = [];
    private readonly List<uint> _removed = [];
    private bool _rootDirty;

    // The groups as stored (from byte 88), until a command asks for them.
    private byte[] _storedGroups = [0, 0, 0, 0];
    private List<StreamGroup>? _groups;

    private StreamValue(CommandContext context, ulong generation, uint first, uint chunkCount, long expiresAtMs)
    {
        _context = context;
        Generation = generation;
        First = first;
        ChunkCount = chunkCount;
        ExpiresAtMs = expiresAtMs;
    }

    public ulong Generation { get; }

    /// <summary>Id of the first chunk (of the next one to be added when there is none).</summary>
    public uint First { get; private set; }

    public uint ChunkCount { get; private set; }

    public long ExpiresAtMs { get; }

    /// <summary>Entries not deleted (XLEN).</summary>
    public long Length { get; private set; }

    public StreamId LastId { get; private set; }

    /// <summary>The first entry's ID, 0-0 when empty (XINFO recorded-first-entry-id).</summary>
    public StreamId FirstId { get; private set; }

    public StreamId MaxDeletedId { get; private set; }

    public long EntriesAdded { get; private set; }

    /// <summary>Chunks XDEL emptied that Redis would have freed, kept for their IDs.</summary>
    public uint HiddenChunks { get; private set; }

    /// <summary>Redis's node count (XINFO radix-tree-keys).</summary>
    public long Nodes => ChunkCount - HiddenChunks;

    /// <summary>Reads the stream of <paramref name="key"/>; null unless <see cref="ReadResult.Found"/>.</summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out StreamValue? stream)
    {
        context.Scratch.ResetWrittenCount();
        ReadResult result = TypedRecords.Read(context, key, RecordType.Stream, context.Scratch, countStats, out StoredRecord record);
        stream = result == ReadResult.Found ? Open(context, context.Scratch.WrittenSpan, record.ExpiresAtMs) : null;
        context.Scratch.ResetWrittenCount();
        return result;
    }

    /// <summary>A new, empty stream of a fresh generation (written by <see cref="Save"/>).</summary>
    public static StreamValue Create(CommandContext context, long expiresAtMs = 0) =>
        new(context, PartsDescriptor.NewGeneration(), 0, 0, expiresAtMs) { _rootDirty = true };

    /// <summary>Every chunk, in ID order (DUMP).</summary>
    public IEnumerable<StreamChunk> Chunks()
    {
        for (long k = 0; k < ChunkCount; k++)
        {
            yield return Chunk(k);
        }
    }

    /// <summary>RESTORE: appends a node read from Redis's format as the last chunk.</summary>
    public void AddChunk(StreamChunk chunk)
    {
        uint id = First + ChunkCount;
        _chunks[id] = chunk;
        _dirty.Add(id);
        ChunkCount++;
    }

    /// <summary>
    /// RESTORE: the counters read after the nodes (the first ID, when the format has none, found as Redis finds it);
    /// false when they do not agree with the nodes.
    /// </summary>
    public bool Restored(long length, StreamId lastId, StreamId? firstId, StreamId maxDeletedId, long entriesAdded)
    {
        long live = 0;
        foreach (StreamChunk chunk in _chunks.Values)
        {
            live += chunk.Live;
        }

        Length = length;
        LastId = lastId;
        MaxDeletedId = maxDeletedId;
        EntriesAdded = entriesAdded;
        FirstId = firstId ?? FirstLiveId();
        _rootDirty = true;
        return live == length && (ChunkCount == 0 || Chunk(ChunkCount - 1).LastId <= lastId);
    }

    /// <summary>Opens the stream whose root payload is <paramref name="root"/>.</summary>
    public static StreamValue Open(CommandContext context, ReadOnlySpan<byte> root, long expiresAtMs)
    {
        if (!PartsDescriptor.TryRead(RecordType.Stream, root, out PartsDescriptor parts) || root.Length < RootSize || root[PartsDescriptor.Size] != RootVersion)
        {
            throw new InvalidDataException(
                $"stream root version {(root.Length > PartsDescriptor.Size ? root[PartsDescriptor.Size] : 0)} is not supported by this build (expected {RootVersion})");
        }

        ReadOnlySpan<byte> data = root[(PartsDescriptor.Size + 2)..];
        return new StreamValue(context, parts.Generation, parts.FirstPart, parts.PartCount, expiresAtMs)
        {
            Length = BinaryPrimitives.ReadInt64LittleEndian(data),
            LastId = StreamId.ReadLittleEndian(data[8..]),
            FirstId = StreamId.ReadLittleEndian(data[24..]),
            MaxDeletedId = StreamId.ReadLittleEndian(data[40..]),
            EntriesAdded = BinaryPrimitives.ReadInt64LittleEndian(data[56..]),
            HiddenChunks = BinaryPrimitives.ReadUInt32LittleEndian(data[64..]),
            _storedGroups = root[(RootSize - 4)..].ToArray(),
        };
    }

    /// <summary>The consumer groups, in name order (decoded on first use).</summary>
    public List<StreamGroup> Groups
    {
        get
        {
            if (_groups is null)
            {
                int position = 4;
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(_storedGroups);
                _groups = new List<StreamGroup>((int)Math.Min(count, 1024));
                for (uint i = 0; i < count; i++)
                {
                    _groups.Add(StreamGroup.Decode(_storedGroups, ref position));
                }
            }

            return _groups;
        }
    }

    /// <summary>How many groups there are, without decoding them.</summary>
    public int GroupCount => _groups?.Count ?? (int)BinaryPrimitives.ReadUInt32LittleEndian(_storedGroups);

    /// <summary>The group named <paramref name="name"/>, or null.</summary>
    public StreamGroup? FindGroup(ReadOnlySpan<byte> name)
    {
        foreach (StreamGroup group in Groups)
        {
            if (group.Name.AsSpan().SequenceEqual(name))
            {
                return group;
            }
        }

        return null;
    }

    /// <summary>After a command changed a group: the root is written with the groups.</summary>
    public void GroupsChanged() => _rootDirty = true;

    /// <summary>The root payload (layout in the class summary).</summary>
    public byte[] EncodeRoot()
    {
        ArrayBufferWriter<byte> groups = new();
        if (_groups is null)
        {
            groups.Write(_storedGroups);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(groups.GetSpan(4), (uint)_groups.Count);
            groups.Advance(4);
            foreach (StreamGroup group in _groups)
            {
                group.Encode(groups);
            }
        }

        byte[] root = new byte[RootSize - 4 + groups.WrittenCount];
        WriteFixedRoot(root);
        groups.WrittenSpan.CopyTo(root.AsSpan(RootSize - 4));
        return root;
    }

    private void WriteFixedRoot(Span<byte> root)
    {
        new PartsDescriptor(Generation, First, ChunkCount).WriteTo(root);
        root[PartsDescriptor.Size] = RootVersion;
        root[PartsDescriptor.Size + 1] = 0;
        Span<byte> data = root[(PartsDescriptor.Size + 2)..];
        BinaryPrimitives.WriteInt64LittleEndian(data, Length);
        LastId.WriteLittleEndianTo(data[8..]);
        FirstId.WriteLittleEndianTo(data[24..]);
        MaxDeletedId.WriteLittleEndianTo(data[40..]);
        BinaryPrimitives.WriteInt64LittleEndian(data[56..], EntriesAdded);
        BinaryPrimitives.WriteUInt32LittleEndian(data[64..], HiddenChunks);
    }

    /// <summary>
    /// Appends an entry with <paramref name="id"/> (greater than <see cref="LastId"/>, checked by the caller) to the last
    /// chunk, or to a new one where Redis would start a new node.
    /// </summary>
    public void Append(StreamId id, byte[][] fields)
    {
        StreamEntry entry = new(id, fields);
        uint tailId = First + ChunkCount - 1;
        if (ChunkCount > 0 && !_chunks.ContainsKey(tailId))
        {
            // The tail as stored: the entry goes on its end without decoding the others.
            byte[] stored = _encoded.TryGetValue(tailId, out byte[]? pending) ? pending : ReadChunk(tailId).ToArray();
            if (StreamChunk.AppendEncoded(stored, entry, _context.Server.Config) is { } appended)
            {
                _encoded[tailId] = appended;
            }
            else
            {
                StartChunk(entry);
            }
        }
        else if (ChunkCount > 0 && _chunks[tailId].Takes(entry, _context.Server.Config))
        {
            _chunks[tailId].Append(entry);
            _dirty.Add(tailId);
        }
        else
        {
            StartChunk(entry);
        }

        Length++;
        EntriesAdded++;
        LastId = id;
        if (Length == 1)
        {
            FirstId = id;
        }

        _rootDirty = true;
    }

    private void StartChunk(StreamEntry entry)
    {
        uint id = First + ChunkCount;
        _chunks[id] = StreamChunk.Start(entry);
        _dirty.Add(id);
        ChunkCount++;
    }

    /// <summary>The entries not deleted with IDs in [<paramref name="start"/>, <paramref name="end"/>], in order or reversed.</summary>
    public IEnumerable<StreamEntry> Range(StreamId start, StreamId end, bool reverse)
    {
        if (ChunkCount == 0 || start > end)
        {
            yield break;
        }

        if (!reverse)
        {
            for (long k = FirstChunkEndingAtOrAfter(start); k < ChunkCount; k++)
            {
                foreach (StreamEntry entry in Chunk(k).Entries)
                {
                    if (entry.Id > end)
                    {
                        yield break;
                    }

                    if (!entry.Deleted && entry.Id >= start)
                    {
                        yield return entry;
                    }
                }
            }

            yield break;
        }

        for (long k = LastChunkStartingAtOrBefore(end); k >= 0; k--)
        {
            List<StreamEntry> entries = Chunk(k).Entries;
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                StreamEntry entry = entries[i];
                if (entry.Id < start)
                {
                    yield break;
                }

                if (!entry.Deleted && entry.Id <= end)
                {
                    yield return entry;
                }
            }
        }
    }

    /// <summary>The entry <paramref name="id"/>, when it exists and is not deleted (Redis streamEntryExists).</summary>
    public StreamEntry? Entry(StreamId id) => Range(id, id, reverse: false).FirstOrDefault();

    /// <summary>Redis streamRangeHasTombstones: whether a deleted entry may lie in [<paramref name="start"/>, end of the stream].</summary>
    public bool RangeHasTombstones(StreamId start) =>
        Length != 0 && MaxDeletedId != StreamId.Min && FirstId <= MaxDeletedId && start <= MaxDeletedId;

    /// <summary>
    /// Redis streamEstimateDistanceFromFirstEverEntry: the number of entries ever added up to <paramref name="id"/>, where it
    /// can be known; <see cref="StreamGroup.UnknownEntriesRead"/> otherwise.
    /// </summary>
    public long EstimateEntriesRead(StreamId id)
    {
        if (EntriesAdded == 0)
        {
            return 0;
        }

        if (Length == 0 && id <= LastId)
        {
            return EntriesAdded;
        }

        int toLast = id.CompareTo(LastId);
        if (toLast == 0)
        {
            return EntriesAdded;
        }

        if (toLast > 0)
        {
            return StreamGroup.UnknownEntriesRead;
        }

        if (MaxDeletedId == StreamId.Min || MaxDeletedId < FirstId)
        {
            if (id < FirstId)
            {
                return EntriesAdded - Length;
            }

            if (id == FirstId)
            {
                return EntriesAdded - Length + 1;
            }
        }

        return StreamGroup.UnknownEntriesRead;
    }

    /// <summary>Redis streamReplyWithCGLag: entries the group has yet to read, or null when that cannot be known.</summary>
    public long? Lag(StreamGroup group)
    {
        if (EntriesAdded == 0)
        {
            return 0;
        }

        if (group.EntriesRead != StreamGroup.UnknownEntriesRead && !RangeHasTombstones(group.LastId))
        {
            return EntriesAdded - group.EntriesRead;
        }

        long read = EstimateEntriesRead(group.LastId);
        return read == StreamGroup.UnknownEntriesRead ? null : EntriesAdded - read;
    }

    /// <summary>The last entry not deleted (Redis streamLastValidID); 0-0 when the stream is empty.</summary>
    public StreamId LastValidId()
    {
        foreach (StreamEntry entry in Range(StreamId.Min, StreamId.Max, reverse: true))
        {
            return entry.Id;
        }

        return StreamId.Min;
    }

    /// <summary>Deletes the entry <paramref name="id"/> (XDEL); false when there is none.</summary>
    public bool Delete(StreamId id)
    {
        if (ChunkCount == 0)
        {
            return false;
        }

        long k = FirstChunkEndingAtOrAfter(id);
        if (k >= ChunkCount)
        {
            return false;
        }

        StreamChunk chunk = Chunk(k);
        int index = chunk.Find(id);
        if (index < 0 || !chunk.Delete(index))
        {
            return false;
        }

        _dirty.Add(First + (uint)k);
        Length--;
        _rootDirty = true;
        if (id > MaxDeletedId)
        {
            MaxDeletedId = id;
        }

        if (chunk.Live == 0)
        {
            // Redis frees the node; the first and the last chunk go, one between stays for the search, hidden.
            chunk.Hidden = true;
            HiddenChunks++;
            RemoveHiddenEnds();
        }

        if (id == FirstId)
        {
            FirstId = FirstLiveId();
        }

        return true;
    }

    /// <summary>Redis streamTrim: removes entries from the head as <paramref name="trim"/> says; returns how many.</summary>
    public long Trim(StreamTrim trim)
    {
        long deleted = 0;
        while (ChunkCount > 0)
        {
            if (trim.ByLength && Length <= trim.MaxLength)
            {
                break;
            }

            StreamChunk chunk = Chunk(0);
            if (chunk.Hidden)
            {
                RemoveHead();
                continue;
            }

            long entries = chunk.Live;
            if (trim.Limit != 0 && deleted + entries > trim.Limit)
            {
                break;
            }

            bool removeNode = trim.ByLength ? Length - entries >= trim.MaxLength : chunk.LastId < trim.MinId;
            if (removeNode)
            {
                Length -= entries;
                deleted += entries;
                RemoveHead();
                continue;
            }

            if (trim.Approximate)
            {
                break;
            }

            for (int i = 0; i < chunk.Entries.Count; i++)
            {
                if (trim.ByLength ? Length <= trim.MaxLength : chunk.Entries[i].Id >= trim.MinId)
                {
                    break;
                }

                if (chunk.Delete(i))
                {
                    Length--;
                    deleted++;
                    _dirty.Add(First);
                }
            }

            break;
        }

        if (deleted > 0)
        {
            _rootDirty = true;
        }

        FirstId = FirstLiveId();
        return deleted;
    }

    /// <summary>XSETID: the last-generated ID, entries-added and max-deleted ID as given (checked by the caller).</summary>
    public void SetIds(StreamId lastId, long entriesAdded, StreamId? maxDeletedId)
    {
        LastId = lastId;
        if (entriesAdded >= 0)
        {
            EntriesAdded = entriesAdded;
        }

        if (maxDeletedId is { } maxDeleted)
        {
            MaxDeletedId = maxDeleted;
        }

        _rootDirty = true;
    }

    /// <summary>
    /// Writes what changed: the changed chunks, deletes of chunks that left the stream, and the root (an empty stream
    /// stays, as in Redis). False, with the error written and nothing stored, when a chunk would not fit in one record.
    /// </summary>
    public bool Save(ReadOnlySpan<byte> key)
    {
        byte[]? root = _rootDirty ? EncodeRoot() : null;
        if (root is not null && !TypedRecords.FitsRecord(_context, key, root.Length))
        {
            return false;
        }

        List<(uint Id, byte[] Payload)> parts = [.. _encoded.Select(pair => (pair.Key, pair.Value))];
        foreach (uint id in _dirty)
        {
            ArrayBufferWriter<byte> encoded = new();
            _chunks[id].Encode(encoded);
            parts.Add((id, encoded.WrittenSpan.ToArray()));
        }

        foreach ((_, byte[] payload) in parts)
        {
            if (!TypedRecords.FitsRecord(_context, key, payload.Length))
            {
                return false;
            }
        }

        foreach ((uint id, byte[] payload) in parts)
        {
            _context.Session.WritePart(Generation, id, payload);
        }

        foreach (uint id in _removed)
        {
            _context.Session.DeletePart(Generation, id);
        }

        _encoded.Clear();
        _dirty.Clear();
        _removed.Clear();
        if (root is not null)
        {
            _context.Session.Write(_context.Db, key, RecordType.Stream, root, ExpiresAtMs);
            _rootDirty = false;
        }

        return true;
    }

    // The first entry not deleted, 0-0 when none (Redis streamGetEdgeID, first, skipping tombstones).
    private StreamId FirstLiveId()
    {
        foreach (StreamEntry entry in Range(StreamId.Min, StreamId.Max, reverse: false))
        {
            return entry.Id;
        }

        return StreamId.Min;
    }

    // Hidden chunks never stay first or last: Redis has no node there, and XADD and XTRIM look at its first and last node.
    private void RemoveHiddenEnds()
    {
        while (ChunkCount > 0 && Chunk(ChunkCount - 1).Hidden)
        {
            HiddenChunks--;
            Forget(First + ChunkCount - 1);
            ChunkCount--;
        }

        while (ChunkCount > 0 && Chunk(0).Hidden)
        {
            RemoveHead();
        }
    }

    private void RemoveHead()
    {
        if (Chunk(0).Hidden)
        {
            HiddenChunks--;
        }

        Forget(First);
        First++;
        ChunkCount--;
        _rootDirty = true;
    }

    private void Forget(uint id)
    {
        _chunks.Remove(id);
        _encoded.Remove(id);
        _dirty.Remove(id);
        _removed.Add(id);
        _rootDirty = true;
    }

    // The first chunk whose last ID is at least `id` (ChunkCount when none): the last chunk first, where reads of new
    // entries look, then the first, where ranges from "-" start, then a binary search.
    private long FirstChunkEndingAtOrAfter(StreamId id)
    {
        long last = ChunkCount - 1;
        if (Chunk(last).FirstId <= id)
        {
            return Chunk(last).LastId >= id ? last : ChunkCount;
        }

        if (Chunk(0).LastId >= id)
        {
            return 0;
        }

        long low = 1;
        long high = last;
        while (low < high)
        {
            long middle = (low + high) / 2;
            if (Chunk(middle).LastId < id)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    // The last chunk whose first ID is at most `id` (-1 when none).
    private long LastChunkStartingAtOrBefore(StreamId id)
    {
        long last = ChunkCount - 1;
        if (Chunk(last).FirstId <= id)
        {
            return last;
        }

        long low = -1;
        long high = last;
        while (low < high)
        {
            long middle = (low + high + 1) / 2;
            if (Chunk(middle).FirstId <= id)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    private StreamChunk Chunk(long index)
    {
        uint id = First + (uint)index;
        if (_chunks.TryGetValue(id, out StreamChunk? chunk))
        {
            return chunk;
        }

        if (_encoded.Remove(id, out byte[]? changed))
        {
            chunk = StreamChunk.Decode(changed);
            _dirty.Add(id);
        }
        else
        {
            chunk = StreamChunk.Decode(ReadChunk(id));
        }

        _chunks.Add(id, chunk);
        return chunk;
    }

    // The stored payload of chunk `id`, in the connection's staging buffer (valid until its next use).
    private ReadOnlySpan<byte> ReadChunk(uint id)
    {
        ArrayBufferWriter<byte> staging = _context.PartStaging;
        staging.ResetWrittenCount();
        if (!_context.Session.TryReadPart(Generation, id, staging))
        {
            throw new InvalidDataException($"stream chunk {id:x} of generation {Generation:x} is missing");
        }

        return staging.WrittenSpan;
    }
}
