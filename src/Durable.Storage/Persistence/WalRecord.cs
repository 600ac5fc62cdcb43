using System.Buffers.Binary;
using System.IO.Hashing;

namespace Durable.Storage.Persistence;

/// <summary>
/// The write-ahead-log record format, version 1. Records describe effects, never requests: each one sets a state
/// (a key's whole value, its absence, an empty database, the database map) regardless of what came before, so
/// replaying any suffix that contains everything after a checkpoint gives the exact state, even if some records
/// were already in the checkpoint.
/// <code>
/// byte 0       format version (1)
/// byte 1       WalRecordKind
/// bytes 2..n-5 body
///   Write:          int32 LE key length, key (database byte + client key), byte RecordType, int64 LE expiry ms, payload
///   Delete:         key (database byte + client key)
///   FlushDatabase:  byte physical database
///   DatabaseMap:    one physical database byte per logical database
///   Expire:         int64 LE expiry ms (0 = none), key (database byte + client key)
///   Batch:          int32 LE count, then count × (int32 LE length, a whole record as above, checksum included)
///   BatchPart:      int64 LE command id, byte flags (bit 0: last part), then a Batch body
/// last 4 bytes CRC-32 (IEEE) LE of every byte before it
/// </code>
/// Version 2 is the format of one more kind, whose record changes a value instead of setting it:
/// <code>
///   PartEdit:       int32 LE key length, key (a part's stored key), uint64 LE XxHash3 of the part's payload before,
///                   int32 LE that payload's length, int32 LE splice count (0..2), then per splice, in order:
///                   int32 LE offset in the old payload, int32 LE bytes removed there, int32 LE length, bytes inserted
/// </code>
/// Replay applies it only to a part whose payload has that length and hash (<see cref="PartEdit.TryApply"/>), so that
/// replaying a suffix that starts before a checkpoint still gives the exact state (docs/persistence.md, "Part edits").
/// Version 3 is the format of <see cref="WalRecordKind.ValueEdit"/>, the same body for a key holding a string (the
/// stored key is the database byte and the client key), applied only to a string whose payload has that length and hash,
/// and keeping its type and expiry. A build that knows only versions 1 and 2 refuses such a log as newer than it.
/// Version 1 records are still written for every other kind and read as before.
/// Pinned by WalRecordTests; change only by adding a version.
/// </summary>
public static class WalRecord
{
    public const byte CurrentVersion = 1;

    /// <summary>The version of <see cref="WalRecordKind.PartEdit"/> records, the only kind of version 2.</summary>
    public const byte PartEditVersion = 2;

    /// <summary>The version of <see cref="WalRecordKind.ValueEdit"/> records, the only kind of version 3.</summary>
    public const byte ValueEditVersion = 3;

    public const int ChecksumSize = 4;

    public static int PartEditSize(int keyLength, PartEdit edit) => 2 + 4 + keyLength + edit.FixedSize + edit.InsertedBytes + ChecksumSize;

    /// <summary>A <see cref="WalRecordKind.PartEdit"/> record: <paramref name="edit"/> of the part <paramref name="storedKey"/>, whose payload is now <paramref name="updated"/>.</summary>
    public static int EncodePartEdit(Span<byte> destination, ReadOnlySpan<byte> storedKey, PartEdit edit, ReadOnlySpan<byte> updated) =>
        EncodeEdit(destination, WalRecordKind.PartEdit, storedKey, edit, updated);

    /// <summary>A <see cref="WalRecordKind.ValueEdit"/> record: <paramref name="edit"/> of the string at <paramref name="storedKey"/>, now <paramref name="updated"/>; as large as <see cref="PartEditSize"/> says.</summary>
    public static int EncodeValueEdit(Span<byte> destination, ReadOnlySpan<byte> storedKey, PartEdit edit, ReadOnlySpan<byte> updated) =>
        EncodeEdit(destination, WalRecordKind.ValueEdit, storedKey, edit, updated);

    private static int EncodeEdit(Span<byte> destination, WalRecordKind kind, ReadOnlySpan<byte> storedKey, PartEdit edit, ReadOnlySpan<byte> updated)
    {
        destination[0] = kind == WalRecordKind.ValueEdit ? ValueEditVersion : PartEditVersion;
        destination[1] = (byte)kind;
        BinaryPrimitives.WriteInt32LittleEndian(destination[2..], storedKey.Length);
        storedKey.CopyTo(destination[6..]);
        int position = 6 + storedKey.Length;
        position += edit.WriteTo(destination[position..], updated);
        return Seal(destination, position);
    }

    public static int WriteSize(int keyLength, int payloadLength) => 2 + 4 + keyLength + 1 + 8 + payloadLength + ChecksumSize;

    public static int EncodeWrite(Span<byte> destination, ReadOnlySpan<byte> storedKey, RecordType type, long expiresAtMs, ReadOnlySpan<byte> payload)
    {
        destination[0] = CurrentVersion;
        destination[1] = (byte)WalRecordKind.Write;
        BinaryPrimitives.WriteInt32LittleEndian(destination[2..], storedKey.Length);
        storedKey.CopyTo(destination[6..]);
        int position = 6 + storedKey.Length;
        destination[position++] = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(destination[position..], expiresAtMs);
        position += 8;
        payload.CopyTo(destination[position..]);
        return Seal(destination, position + payload.Length);
    }

    /// <summary>Bytes before the first entry of a batch: version, kind, count.</summary>
    public const int BatchHeaderSize = 6;

    /// <summary>
    /// Seals a batch in place: <paramref name="buffer"/> holds <see cref="BatchHeaderSize"/> reserved bytes, then
    /// <paramref name="count"/> length-prefixed records up to <paramref name="length"/>, then room for the checksum.
    /// Returns the batch record's length.
    /// </summary>
    public static int SealBatch(Span<byte> buffer, int length, int count)
    {
        buffer[0] = CurrentVersion;
        buffer[1] = (byte)WalRecordKind.Batch;
        BinaryPrimitives.WriteInt32LittleEndian(buffer[2..], count);
        return Seal(buffer, length);
    }

    /// <summary>Bytes before the first entry of a batch part: version, kind, command id, flags, count.</summary>
    public const int BatchPartHeaderSize = 15;

    /// <summary>
    /// Seals a batch part in place, as <see cref="SealBatch"/> with <see cref="BatchPartHeaderSize"/> reserved bytes.
    /// </summary>
    public static int SealBatchPart(Span<byte> buffer, int length, int count, long commandId, bool last)
    {
        buffer[0] = CurrentVersion;
        buffer[1] = (byte)WalRecordKind.BatchPart;
        BinaryPrimitives.WriteInt64LittleEndian(buffer[2..], commandId);
        buffer[10] = last ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(buffer[11..], count);
        return Seal(buffer, length);
    }

    /// <summary>A batch part's command id, whether it is the last part, and its batch body (count and entries).</summary>
    public static ReadOnlySpan<byte> BatchPartBody(ReadOnlySpan<byte> record, out long commandId, out bool last)
    {
        ReadOnlySpan<byte> body = DecodedWalRecord.Body(record);
        commandId = BinaryPrimitives.ReadInt64LittleEndian(body);
        last = (body[8] & 1) != 0;
        return body[9..];
    }

    public static int ExpireSize(int keyLength) => 2 + 8 + keyLength + ChecksumSize;

    public static int EncodeExpire(Span<byte> destination, ReadOnlySpan<byte> storedKey, long expiresAtMs)
    {
        destination[0] = CurrentVersion;
        destination[1] = (byte)WalRecordKind.Expire;
        BinaryPrimitives.WriteInt64LittleEndian(destination[2..], expiresAtMs);
        storedKey.CopyTo(destination[10..]);
        return Seal(destination, 10 + storedKey.Length);
    }

    public static int DeleteSize(int keyLength) => 2 + keyLength + ChecksumSize;

    public static int EncodeDelete(Span<byte> destination, ReadOnlySpan<byte> storedKey) => EncodeBody(destination, WalRecordKind.Delete, storedKey);

    public static int EncodeFlushDatabase(Span<byte> destination, byte physical) => EncodeBody(destination, WalRecordKind.FlushDatabase, [physical]);

    public static int EncodeDatabaseMap(Span<byte> destination, ReadOnlySpan<byte> map) => EncodeBody(destination, WalRecordKind.DatabaseMap, map);

    private static int EncodeBody(Span<byte> destination, WalRecordKind kind, ReadOnlySpan<byte> body)
    {
        destination[0] = CurrentVersion;
        destination[1] = (byte)kind;
        body.CopyTo(destination[2..]);
        return Seal(destination, 2 + body.Length);
    }

    private static int Seal(Span<byte> destination, int length)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination[length..], Crc32.HashToUInt32(destination[..length]));
        return length + ChecksumSize;
    }

    /// <summary>Checks version and checksum and splits a record into its parts; false with a reason when it is damaged.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> record, out DecodedWalRecord decoded, out string? problem)
    {
        decoded = default;
        problem = null;
        if (record.Length < 2 + ChecksumSize)
        {
            problem = $"record of {record.Length} bytes is too short";
            return false;
        }

        if (record[0] is not (CurrentVersion or PartEditVersion or ValueEditVersion)
            || (record[0] == PartEditVersion) != (record[1] == (byte)WalRecordKind.PartEdit)
            || (record[0] == ValueEditVersion) != (record[1] == (byte)WalRecordKind.ValueEdit))
        {
            problem = record[0] > ValueEditVersion
                ? $"record format version {record[0]} is newer than this build understands ({ValueEditVersion}); upgrade Durable"
                : $"unknown record format version {record[0]} for record kind {record[1]}";
            return false;
        }

        ReadOnlySpan<byte> content = record[..^ChecksumSize];
        if (Crc32.HashToUInt32(content) != BinaryPrimitives.ReadUInt32LittleEndian(record[^ChecksumSize..]))
        {
            problem = "checksum mismatch";
            return false;
        }

        WalRecordKind kind = (WalRecordKind)content[1];
        ReadOnlySpan<byte> body = content[2..];
        switch (kind)
        {
            case WalRecordKind.Write:
                int keyLength = body.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(body) : -1;
                if (keyLength < 1 || body.Length < 4 + keyLength + 9)
                {
                    problem = "write record body is malformed";
                    return false;
                }

                decoded = new DecodedWalRecord(kind, 4, keyLength, (RecordType)body[4 + keyLength], BinaryPrimitives.ReadInt64LittleEndian(body[(5 + keyLength)..]), 4 + keyLength + 9);
                return true;
            case WalRecordKind.PartEdit or WalRecordKind.ValueEdit:
                int editKeyLength = body.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(body) : -1;
                if (editKeyLength < 1 || body.Length < 4 + editKeyLength || !PartEdit.IsWellFormed(body[(4 + editKeyLength)..]))
                {
                    problem = kind == WalRecordKind.PartEdit ? "part edit record body is malformed" : "value edit record body is malformed";
                    return false;
                }

                decoded = new DecodedWalRecord(kind, 4, editKeyLength, kind == WalRecordKind.PartEdit ? RecordType.Part : RecordType.String, 0, 4 + editKeyLength);
                return true;
            case WalRecordKind.Delete or WalRecordKind.DatabaseMap:
                decoded = new DecodedWalRecord(kind, 0, body.Length, default, 0, body.Length);
                return true;
            case WalRecordKind.Expire when body.Length > 8:
                decoded = new DecodedWalRecord(kind, 8, body.Length - 8, default, BinaryPrimitives.ReadInt64LittleEndian(body), body.Length);
                return true;
            case WalRecordKind.Batch when body.Length >= 4:
            case WalRecordKind.BatchPart when body.Length >= 13:
                if (!TryCheckBatchBody(kind == WalRecordKind.Batch ? body : body[9..], out problem))
                {
                    return false;
                }

                decoded = new DecodedWalRecord(kind, 0, 0, default, 0, 0);
                return true;
            case WalRecordKind.FlushDatabase when body.Length == 1:
                decoded = new DecodedWalRecord(kind, 0, 1, default, 0, 1);
                return true;
            default:
                problem = $"unknown record kind {(byte)kind}";
                return false;
        }
    }

    /// <summary>Checks a batch body (count, then length-prefixed whole records, none of them a batch).</summary>
    private static bool TryCheckBatchBody(ReadOnlySpan<byte> body, out string? problem)
    {
        int count = BinaryPrimitives.ReadInt32LittleEndian(body);
        ReadOnlySpan<byte> entries = body[4..];
        for (int i = 0; i < count; i++)
        {
            int entryLength = entries.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(entries) : -1;
            if (entryLength < 0 || entries.Length < 4 + entryLength)
            {
                problem = $"batch entry {i} of {count} is truncated";
                return false;
            }

            if (!TryDecode(entries.Slice(4, entryLength), out DecodedWalRecord inner, out problem) || inner.Kind is WalRecordKind.Batch or WalRecordKind.BatchPart)
            {
                problem = $"batch entry {i} of {count}: {problem ?? "nested batch"}";
                return false;
            }

            entries = entries[(4 + entryLength)..];
        }

        if (!entries.IsEmpty)
        {
            problem = "batch has bytes after its last entry";
            return false;
        }

        problem = null;
        return true;
    }
}

/// <summary>
/// A decoded record: offsets are into the body (the record without its two header bytes and checksum); the key
/// (or database byte, or map) is body[KeyOffset..KeyOffset+KeyLength], the payload body[PayloadOffset..].
/// </summary>
public readonly record struct DecodedWalRecord(WalRecordKind Kind, int KeyOffset, int KeyLength, RecordType Type, long ExpiresAtMs, int PayloadOffset)
{
    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> record) => record[2..^4];
}
