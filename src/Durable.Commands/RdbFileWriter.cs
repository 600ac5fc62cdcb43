using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
namespace Durable.Commands;

/// <summary>
/// Writes an RDB file of version <see cref="RdbPayload.Version"/> (Redis 7.0's) that redis-server loads at its start:
/// the header, auxiliary fields, function libraries, databases and their keys (each from a DUMP payload, whose body
/// is the value as the file holds it), the end-of-file marker and the CRC-64 of it all. It writes to a temporary name
/// and moves the file into place once it is complete (and synced, unless it is a replica's snapshot, read once at
/// once), so that a failed export leaves no half file. Used by durable-rdb's export and a primary's full sync.
/// </summary>
internal sealed class RdbFileWriter : IDisposable
{
    private const int FlushBytes = 1 << 20;

    private readonly string _path;
    private readonly string _temporary;
    private readonly FileStream _file;
    private readonly bool _syncToDisk;
    private readonly ArrayBufferWriter<byte> _pending = new(FlushBytes + (64 << 10));
    private ulong _crc;
    private bool _completed;

    public RdbFileWriter(string path, bool syncToDisk = true)
    {
        _path = path;
        _syncToDisk = syncToDisk;
        _temporary = path + ".tmp";
        _file = new FileStream(_temporary, FileMode.Create, FileAccess.Write, FileShare.None);
        _pending.Write("REDIS"u8);
        _pending.Write(System.Text.Encoding.ASCII.GetBytes(RdbPayload.Version.ToString("D4", CultureInfo.InvariantCulture)));
    }

    public void Aux(string name, string value)
    {
        Opcode(0xFA);
        RdbPayload.WriteString(_pending, System.Text.Encoding.UTF8.GetBytes(name));
        RdbPayload.WriteString(_pending, System.Text.Encoding.UTF8.GetBytes(value));
    }

    /// <summary>The function libraries of a FUNCTION DUMP payload (its body is their RDB_OPCODE_FUNCTION2 entries).</summary>
    public void Functions(ReadOnlySpan<byte> payload) => _pending.Write(Body(payload, "FUNCTION DUMP", empty: true));

    public void SelectDatabase(int database, long keys, long expires)
    {
        Opcode(0xFE);
        RdbPayload.WriteLength(_pending, (ulong)database);
        Opcode(0xFB);
        RdbPayload.WriteLength(_pending, (ulong)keys);
        RdbPayload.WriteLength(_pending, (ulong)expires);
    }

    /// <summary>A key from its DUMP payload, with its expiry (Unix milliseconds, 0 for none).</summary>
    public void Key(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, long expiresAtMs) => KeyValue(key, Body(payload, "DUMP", empty: false), expiresAtMs);

    /// <summary>A key from its value as the file holds it (type byte and value: a DUMP payload without its footer).</summary>
    public void KeyValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> body, long expiresAtMs)
    {
        WriteKey(_pending, key, body, expiresAtMs);
        FlushIfFull();
    }

    /// <summary>
    /// A key's entry as the file holds it (its expiry, its type byte, the key, the value) into <paramref name="output"/>:
    /// for entries made elsewhere and added with <see cref="Raw"/>.
    /// </summary>
    public static void WriteKey(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> key, ReadOnlySpan<byte> body, long expiresAtMs)
    {
        if (expiresAtMs > 0)
        {
            output.GetSpan(1)[0] = 0xFC;
            output.Advance(1);
            BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), expiresAtMs);
            output.Advance(8);
        }

        output.GetSpan(1)[0] = body[0];
        output.Advance(1);
        RdbPayload.WriteString(output, key);
        output.Write(body[1..]);
    }

    /// <summary>Entries written by <see cref="WriteKey"/>, as they are.</summary>
    public void Raw(ReadOnlySpan<byte> entries)
    {
        _pending.Write(entries);
        FlushIfFull();
    }

    private void FlushIfFull()
    {
        if (_pending.WrittenCount >= FlushBytes)
        {
            Flush();
        }
    }

    /// <summary>Ends the file (marker and checksum), syncs it and moves it to its name.</summary>
    public void Complete()
    {
        Opcode(0xFF);
        Flush();
        BinaryPrimitives.WriteUInt64LittleEndian(_pending.GetSpan(8), _crc);
        _pending.Advance(8);
        _file.Write(_pending.WrittenSpan);
        _file.Flush(flushToDisk: _syncToDisk);
        _file.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        _completed = true;
    }

    private static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> payload, string command, bool empty) =>
        RdbPayload.Verify(payload) && (empty || payload.Length > RdbPayload.FooterSize)
            ? payload[..^RdbPayload.FooterSize]
            : throw new InvalidDataException(
                $"the server's {command} payload is not one of RDB version {RdbPayload.Version} or older with a valid checksum: this writer writes Redis 7.0's RDB version");

    private void Opcode(byte opcode)
    {
        _pending.GetSpan(1)[0] = opcode;
        _pending.Advance(1);
    }

    private void Flush()
    {
        _crc = RdbPayload.Crc64(_crc, _pending.WrittenSpan);
        _file.Write(_pending.WrittenSpan);
        _pending.ResetWrittenCount();
    }

    public void Dispose()
    {
        if (!_completed)
        {
            _file.Dispose();
            File.Delete(_temporary);
        }
    }
}
