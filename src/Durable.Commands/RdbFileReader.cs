using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Durable.Commands;

/// <summary>One item of an RDB file that an import acts on.</summary>
internal abstract record RdbItem;

/// <summary>
/// A key: its database, its name, its value as the file holds it (the RDB type byte, then the value's bytes: a DUMP
/// payload's body), its expiry (Unix milliseconds, 0 for none), and the LRU idle seconds or LFU counter saved with it
/// (-1 when none was).
/// </summary>
internal sealed record RdbKey(int Database, byte[] Key, byte[] Value, long ExpiresAtMs, long IdleSeconds, int Frequency) : RdbItem
{
    /// <summary>
    /// The value as a DUMP payload, for RESTORE: its bytes and a footer. The value's bytes are the same in every RDB
    /// version that has its type, so the footer says the oldest of the file's version and Redis 7.0's, which RESTORE
    /// reads everywhere.
    /// </summary>
    public byte[] Payload(int fileVersion)
    {
        byte[] payload = new byte[Value.Length + RdbPayload.FooterSize];
        Value.CopyTo(payload, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(Value.Length), (ushort)Math.Min(fileVersion, RdbPayload.Version));
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(Value.Length + 2), RdbPayload.Crc64(0, payload.AsSpan(0, Value.Length + 2)));
        return payload;
    }

    /// <summary>RESTORE's arguments after the key and payload: the absolute expiry and what was saved of its access (IDLETIME or FREQ).</summary>
    public IEnumerable<string> RestoreOptions(bool replace)
    {
        yield return "ABSTTL";
        if (replace)
        {
            yield return "REPLACE";
        }

        if (IdleSeconds >= 0)
        {
            yield return "IDLETIME";
            yield return IdleSeconds.ToString(CultureInfo.InvariantCulture);
        }
        else if (Frequency >= 0)
        {
            yield return "FREQ";
            yield return Frequency.ToString(CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>A function library's code (RDB_OPCODE_FUNCTION2).</summary>
internal sealed record RdbFunctionLibrary(byte[] Code) : RdbItem;

/// <summary>An auxiliary field (redis-ver, ctime, used-mem, ...).</summary>
internal sealed record RdbAux(string Name, string Value) : RdbItem;

/// <summary>
/// Reads an RDB file, Redis's snapshot format (rdb.c), versions 1 to 12, front to back without holding more of it than
/// the item being read: keys with their values kept as bytes (the values are not decoded: RESTORE does that), function
/// libraries and auxiliary fields. Values of every type are stepped over, streams and module values too, so that a key
/// of a type the target does not take does not stop the rest. The file's CRC-64 is checked at its end. A file that is
/// cut short, damaged or of a newer version throws <see cref="InvalidDataException"/> saying where.
/// </summary>
internal sealed class RdbFileReader : IDisposable
{
    /// <summary>RDB_VERSION of Redis 7.4, the newest this reads.</summary>
    public const int NewestVersion = 12;

    private const byte OpFunctionPreGa = 0xF6;
    private const byte OpFunction = 0xF5;
    private const byte OpModuleAux = 0xF7;
    private const byte OpIdle = 0xF8;
    private const byte OpFrequency = 0xF9;
    private const byte OpAux = 0xFA;
    private const byte OpResizeDb = 0xFB;
    private const byte OpExpireMs = 0xFC;
    private const byte OpExpireSeconds = 0xFD;
    private const byte OpSelectDb = 0xFE;
    private const byte OpEof = 0xFF;

    // Thrown by the primitives when the buffer ends inside the item; Read fills it and parses the item again.
    private static readonly EndOfStreamException s_needMore = new();

    private readonly Stream _stream;
    private byte[] _buffer = new byte[1 << 16];
    private int _start;
    private int _end;
    private long _bufferOffset;
    private bool _endOfFile;
    private bool _finished;
    private ulong _crc;
    private int _database;

    private RdbFileReader(Stream stream, int version)
    {
        _stream = stream;
        Version = version;
    }

    /// <summary>The file's RDB version (its header's four digits).</summary>
    public int Version { get; }

    /// <summary>Module auxiliary data stepped over (modules' own state, which only the module reads).</summary>
    public int ModuleAuxSkipped { get; private set; }

    public static RdbFileReader Open(string path)
    {
        FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            Span<byte> header = stackalloc byte[9];
            if (stream.ReadAtLeast(header, 9, throwOnEndOfStream: false) < 9 || !header[..5].SequenceEqual("REDIS"u8)
                || !int.TryParse(header[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            {
                throw new InvalidDataException($"'{path}' is not an RDB file: it does not start with REDIS and a four-digit version");
            }

            if (version is < 1 or > NewestVersion)
            {
                throw new InvalidDataException($"'{path}' is an RDB file of version {version}; this tool reads versions 1 to {NewestVersion} (Redis up to 7.4)");
            }

            RdbFileReader reader = new(stream, version);
            reader._crc = RdbPayload.Crc64(0, header);
            reader._bufferOffset = 9;
            return reader;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the file at <paramref name="path"/> whole, checksum included, before anything acts on it; returns its
    /// version, its number of keys and how many modules' auxiliary data it holds. Throws as <see cref="Read"/> does.
    /// </summary>
    public static (int Version, long Keys, int ModuleAuxSkipped) Check(string path)
    {
        using RdbFileReader reader = Open(path);
        long keys = 0;
        while (reader.Read() is { } item)
        {
            keys += item is RdbKey ? 1 : 0;
        }

        return (reader.Version, keys, reader.ModuleAuxSkipped);
    }

    /// <summary>The next item, or null once the end-of-file marker is read and the checksum holds.</summary>
    public RdbItem? Read()
    {
        while (!_finished)
        {
            int position = _start;
            RdbItem? item;
            try
            {
                item = ParseItem(ref position);
            }
            catch (EndOfStreamException exception) when (exception == s_needMore)
            {
                Fill();
                continue;
            }

            if (!_finished)
            {
                Consume(position);
            }

            if (item is not null)
            {
                return item;
            }
        }

        return null;
    }

    private RdbItem? ParseItem(ref int position)
    {
        long expiresAtMs = 0;
        long idle = -1;
        int frequency = -1;
        while (true)
        {
            long at = Offset(position);
            byte opcode = Byte(ref position);
            switch (opcode)
            {
                case OpEof:
                    Finish(position);
                    return null;
                case OpSelectDb:
                    ulong database = PlainLength(ref position);
                    _database = database <= int.MaxValue ? (int)database : throw Damaged(at, $"database number {database}");
                    return null;
                case OpResizeDb:
                    PlainLength(ref position);
                    PlainLength(ref position);
                    return null;
                case OpAux:
                    return new RdbAux(Encoding.UTF8.GetString(String(ref position)), Encoding.UTF8.GetString(String(ref position)));
                case OpModuleAux:
                    PlainLength(ref position); // module id
                    PlainLength(ref position); // when opcode
                    PlainLength(ref position); // when
                    SkipModuleValue(ref position);
                    ModuleAuxSkipped++;
                    return null;
                case OpFunction:
                    return new RdbFunctionLibrary(String(ref position));
                case OpFunctionPreGa:
                    throw new InvalidDataException(
                        $"the RDB file holds a function in the format of Redis 7.0's release candidates (byte offset {at}), which this tool does not read: load it into Redis 7.0 or later and save it again");
                case OpExpireMs:
                    expiresAtMs = BinaryPrimitives.ReadInt64LittleEndian(Bytes(ref position, 8));
                    break;
                case OpExpireSeconds:
                    expiresAtMs = BinaryPrimitives.ReadInt32LittleEndian(Bytes(ref position, 4)) * 1000L;
                    break;
                case OpIdle:
                    ulong seconds = PlainLength(ref position);
                    idle = seconds <= long.MaxValue ? (long)seconds : throw Damaged(at, $"idle time {seconds}");
                    break;
                case OpFrequency:
                    frequency = Byte(ref position);
                    break;
                default:
                    byte[] key = String(ref position);
                    int value = position;
                    SkipValue(opcode, at, ref position);
                    byte[] bytes = new byte[1 + position - value];
                    bytes[0] = opcode;
                    _buffer.AsSpan(value, position - value).CopyTo(bytes.AsSpan(1));
                    return new RdbKey(_database, key, bytes, expiresAtMs, idle, frequency);
            }
        }
    }

    /// <summary>Steps over a value of RDB type <paramref name="type"/> (rdbLoadObject's layouts).</summary>
    private void SkipValue(byte type, long at, ref int position)
    {
        switch (type)
        {
            case 0: // string
            case 9 or 10 or 11 or 12 or 13 or 16 or 17 or 20: // zipmap, ziplists, intset, listpacks: one string each
                SkipString(ref position);
                break;
            case 1 or 2 or 14: // list, set, quicklist of ziplists: a count of strings
                SkipStrings(ref position, PlainLength(ref position));
                break;
            case 4: // hash: field and value strings
                SkipStrings(ref position, PlainLength(ref position) * 2);
                break;
            case 3 or 5: // sorted set: member, then a score as text (type 3) or an 8-byte double (type 5)
                for (ulong count = PlainLength(ref position), i = 0; i < count; i++)
                {
                    SkipString(ref position);
                    if (type == 5)
                    {
                        Skip(ref position, 8);
                    }
                    else if (Byte(ref position) is var length and < 253)
                    {
                        Skip(ref position, length); // 253, 254, 255: NaN, +inf, -inf
                    }
                }

                break;
            case 18: // quicklist of listpacks: per node its container (plain or packed), then a string
                for (ulong count = PlainLength(ref position), i = 0; i < count; i++)
                {
                    PlainLength(ref position);
                    SkipString(ref position);
                }

                break;
            case 15 or 19 or 21:
                SkipStream(type, ref position);
                break;
            case 7: // module value, second format: the module id, then self-describing opcodes
                PlainLength(ref position);
                SkipModuleValue(ref position);
                break;
            case 6:
                throw new InvalidDataException(
                    $"the RDB file holds a module value of the first module format (byte offset {at}), which only its module can read: this tool cannot step over it");
            default:
                throw new InvalidDataException(
                    $"the RDB file holds a value of type {type} (byte offset {at}), which this tool does not know" +
                    (type is >= 22 and <= 25 ? " (a hash with field expiry, Redis 7.4)" : string.Empty) + ": it cannot step over it");
        }
    }

    /// <summary>A stream (rdbSaveObject): listpacks, metadata, then consumer groups with their pending entries and consumers.</summary>
    private void SkipStream(byte type, ref int position)
    {
        for (ulong nodes = PlainLength(ref position), i = 0; i < nodes; i++)
        {
            SkipString(ref position); // the node's master ID
            SkipString(ref position); // its listpack
        }

        // Length and last ID; from type 19 on, first ID, max deleted ID and entries added.
        for (int i = type >= 19 ? 8 : 3; i > 0; i--)
        {
            PlainLength(ref position);
        }

        for (ulong groups = PlainLength(ref position), g = 0; g < groups; g++)
        {
            SkipString(ref position);
            for (int i = type >= 19 ? 3 : 2; i > 0; i--)
            {
                PlainLength(ref position); // last ID, entries read
            }

            for (ulong pending = PlainLength(ref position), p = 0; p < pending; p++)
            {
                Skip(ref position, 16 + 8); // ID, delivery time
                PlainLength(ref position); // delivery count
            }

            for (ulong consumers = PlainLength(ref position), c = 0; c < consumers; c++)
            {
                SkipString(ref position);
                Skip(ref position, type >= 21 ? 16UL : 8UL); // seen time, and active time from type 21 on
                Skip(ref position, PlainLength(ref position) * 16); // its pending IDs
            }
        }
    }

    /// <summary>A module's value in the second format: opcodes (RDB_MODULE_OPCODE_*) each followed by its value, up to EOF.</summary>
    private void SkipModuleValue(ref int position)
    {
        while (true)
        {
            long at = Offset(position);
            switch (PlainLength(ref position))
            {
                case 0:
                    return;
                case 1 or 2: // signed, unsigned integer
                    PlainLength(ref position);
                    break;
                case 3: // float
                    Skip(ref position, 4);
                    break;
                case 4: // double
                    Skip(ref position, 8);
                    break;
                case 5: // string
                    SkipString(ref position);
                    break;
                case var opcode:
                    throw Damaged(at, $"module value opcode {opcode}");
            }
        }
    }

    private void SkipStrings(ref int position, ulong count)
    {
        for (ulong i = 0; i < count; i++)
        {
            SkipString(ref position);
        }
    }

    private void SkipString(ref int position)
    {
        long at = Offset(position);
        ulong length = Length(ref position, out bool encoded);
        if (!encoded)
        {
            Skip(ref position, length);
            return;
        }

        switch (length)
        {
            case 0 or 1 or 2: // an 8, 16 or 32-bit integer
                Skip(ref position, 1UL << (int)length);
                break;
            case 3: // LZF: compressed length, plain length, the compressed bytes
                ulong compressed = PlainLength(ref position);
                PlainLength(ref position);
                Skip(ref position, compressed);
                break;
            default:
                throw Damaged(at, $"string encoding {length}");
        }
    }

    private byte[] String(ref int position)
    {
        int start = position;
        SkipString(ref position);
        int decoded = start;
        byte[]? value = RdbPayload.ReadString(_buffer.AsSpan(0, position), ref decoded);
        return value is not null && decoded == position ? value : throw Damaged(Offset(start), "a string that does not decode");
    }

    private ulong PlainLength(ref int position)
    {
        long at = Offset(position);
        ulong length = Length(ref position, out bool encoded);
        return encoded ? throw Damaged(at, "an encoded string where a length belongs") : length;
    }

    private ulong Length(ref int position, out bool encoded)
    {
        int start = position;
        if (RdbPayload.TryReadLength(_buffer.AsSpan(0, _end), ref position, out ulong length, out encoded))
        {
            return length;
        }

        // A length is at most 9 bytes: with that many there, it is not the buffer's end but a byte no length starts with.
        return _end - start >= 9 ? throw Damaged(Offset(start), "a length of no known encoding") : throw s_needMore;
    }

    private byte Byte(ref int position) => position < _end ? _buffer[position++] : throw s_needMore;

    private ReadOnlySpan<byte> Bytes(ref int position, int count)
    {
        int start = position;
        Skip(ref position, (ulong)count);
        return _buffer.AsSpan(start, count);
    }

    private void Skip(ref int position, ulong count)
    {
        if (count > (ulong)(_end - position))
        {
            throw s_needMore;
        }

        position += (int)count;
    }

    private long Offset(int position) => _bufferOffset + position;

    private InvalidDataException Damaged(long offset, string what) =>
        new($"the RDB file is damaged at byte offset {offset}: {what}");

    /// <summary>Counts the item that ends at <paramref name="position"/> into the checksum and moves past it.</summary>
    private void Consume(int position)
    {
        _crc = RdbPayload.Crc64(_crc, _buffer.AsSpan(_start, position - _start));
        _start = position;
    }

    /// <summary>After the end-of-file marker: the checksum (from version 5 on; all zeros when Redis was told not to compute it).</summary>
    private void Finish(int position)
    {
        int checksum = position;
        ulong expected = Version >= 5 ? BinaryPrimitives.ReadUInt64LittleEndian(Bytes(ref checksum, 8)) : 0;
        Consume(position);
        if (expected != 0 && expected != _crc)
        {
            throw new InvalidDataException(
                $"the RDB file's checksum does not match its contents (CRC-64 {_crc:x16}, the file says {expected:x16}): it is damaged");
        }

        _finished = true;
    }

    /// <summary>Reads more of the file after what is unparsed, moving that to the buffer's start (or doubling the buffer for a long item).</summary>
    private void Fill()
    {
        if (_endOfFile)
        {
            throw new InvalidDataException($"the RDB file is cut short: it ends at byte offset {Offset(_end)}, inside an item that starts at {Offset(_start)}");
        }

        int unparsed = _end - _start;
        if (unparsed > _buffer.Length / 2)
        {
            Array.Resize(ref _buffer, checked(_buffer.Length * 2));
        }

        Buffer.BlockCopy(_buffer, _start, _buffer, 0, unparsed);
        _bufferOffset += _start;
        _start = 0;
        _end = unparsed;
        int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        _end += read;
        _endOfFile = read == 0;
    }

    public void Dispose() => _stream.Dispose();
}
