using System.Buffers;
using System.Buffers.Binary;

namespace Durable.Commands;

/// <summary>
/// The pieces of Redis's RDB format that a DUMP payload is made of (Redis 7.0's rdb.c, lzf_c.c, lzf_d.c and crc64.c):
/// string encodings (plain, integer, LZF-compressed) and the footer of RDB version and CRC-64. FUNCTION DUMP writes them
/// and FUNCTION RESTORE reads them, so a payload moves between Durable and Redis both ways.
/// </summary>
internal static class RdbPayload
{
    /// <summary>RDB_VERSION of Redis 7.0, written in every footer; a payload of a newer version is refused.</summary>
    public const int Version = 10;

    /// <summary>The footer: two bytes of version, eight of checksum.</summary>
    public const int FooterSize = 10;

    private const byte EncodedValue = 0xC0; // RDB_ENCVAL << 6

    private const ulong MostLzfExpansion = 96;
    private const int EncodingInt8 = 0;
    private const int EncodingInt16 = 1;
    private const int EncodingInt32 = 2;
    private const int EncodingLzf = 3;

    // Redis's crc64: Jones' polynomial 0xad93d23594c935a9, reflected, no final xor.
    private static readonly ulong[] s_crcTable = BuildCrcTable();

    public static ulong Crc64(ulong crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc = s_crcTable[(byte)(crc ^ b)] ^ (crc >> 8);
        }

        return crc;
    }

    private static ulong[] BuildCrcTable()
    {
        const ulong Reflected = 0x95AC9329AC4BC9B5UL; // 0xad93d23594c935a9 with its bits reversed
        ulong[] table = new ulong[256];
        for (uint i = 0; i < 256; i++)
        {
            ulong crc = i;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Reflected : crc >> 1;
            }

            table[i] = crc;
        }

        return table;
    }

    /// <summary>Appends the footer (version, then the CRC-64 of everything before it, both little-endian).</summary>
    public static void Seal(ArrayBufferWriter<byte> payload)
    {
        Span<byte> version = payload.GetSpan(2);
        BinaryPrimitives.WriteUInt16LittleEndian(version, Version);
        payload.Advance(2);
        ulong crc = Crc64(0, payload.WrittenSpan);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.GetSpan(8), crc);
        payload.Advance(8);
    }

    /// <summary>Redis's verifyDumpPayload: a footer whose version this build reads and whose checksum holds.</summary>
    public static bool Verify(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FooterSize)
        {
            return false;
        }

        ReadOnlySpan<byte> footer = payload[^FooterSize..];
        return BinaryPrimitives.ReadUInt16LittleEndian(footer) <= Version
            && Crc64(0, payload[..^8]) == BinaryPrimitives.ReadUInt64LittleEndian(footer[2..]);
    }

    /// <summary>Redis's rdbSaveLen.</summary>
    public static void WriteLength(ArrayBufferWriter<byte> output, ulong length)
    {
        Span<byte> span = output.GetSpan(9);
        if (length < 1 << 6)
        {
            span[0] = (byte)length;
            output.Advance(1);
        }
        else if (length < 1 << 14)
        {
            span[0] = (byte)(0x40 | (length >> 8));
            span[1] = (byte)length;
            output.Advance(2);
        }
        else if (length <= uint.MaxValue)
        {
            span[0] = 0x80;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            output.Advance(5);
        }
        else
        {
            span[0] = 0x81;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], length);
            output.Advance(9);
        }
    }

    /// <summary>
    /// Redis's rdbSaveRawString with rdbcompression on (its default): a short canonical integer as an integer, a string
    /// of more than 20 bytes LZF-compressed when that saves at least 4 bytes, else its length and its bytes.
    /// </summary>
    public static void WriteString(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        if (value.Length <= 11 && Protocol.RedisNumber.TryParseInt64(value, out long number) && number is >= int.MinValue and <= int.MaxValue
            && value.SequenceEqual(System.Text.Encoding.ASCII.GetBytes(number.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
            WriteInteger(output, (int)number);
            return;
        }

        if (value.Length > 20)
        {
            byte[] compressed = ArrayPool<byte>.Shared.Rent(value.Length);
            try
            {
                int length = Lzf.Compress(value, compressed.AsSpan(0, value.Length - 4));
                if (length > 0)
                {
                    output.GetSpan(1)[0] = EncodedValue | EncodingLzf;
                    output.Advance(1);
                    WriteLength(output, (ulong)length);
                    WriteLength(output, (ulong)value.Length);
                    output.Write(compressed.AsSpan(0, length));
                    return;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(compressed);
            }
        }

        WriteLength(output, (ulong)value.Length);
        output.Write(value);
    }

    private static void WriteInteger(ArrayBufferWriter<byte> output, int value)
    {
        Span<byte> span = output.GetSpan(5);
        if (value is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            span[0] = EncodedValue | EncodingInt8;
            span[1] = (byte)(sbyte)value;
            output.Advance(2);
        }
        else if (value is >= short.MinValue and <= short.MaxValue)
        {
            span[0] = EncodedValue | EncodingInt16;
            BinaryPrimitives.WriteInt16LittleEndian(span[1..], (short)value);
            output.Advance(3);
        }
        else
        {
            span[0] = EncodedValue | EncodingInt32;
            BinaryPrimitives.WriteInt32LittleEndian(span[1..], value);
            output.Advance(5);
        }
    }

    /// <summary>Redis's rdbLoadLen; false when the payload ends first. <paramref name="encoded"/>: an encoded string follows.</summary>
    public static bool TryReadLength(ReadOnlySpan<byte> payload, ref int position, out ulong length, out bool encoded)
    {
        length = 0;
        encoded = false;
        if (position >= payload.Length)
        {
            return false;
        }

        byte first = payload[position++];
        switch (first >> 6)
        {
            case 0:
                length = (ulong)(first & 0x3F);
                return true;
            case 1:
                if (position >= payload.Length)
                {
                    return false;
                }

                length = ((ulong)(first & 0x3F) << 8) | payload[position++];
                return true;
            case 3:
                encoded = true;
                length = (ulong)(first & 0x3F);
                return true;
            default:
                int size = first == 0x80 ? 4 : first == 0x81 ? 8 : 0;
                if (size == 0 || position + size > payload.Length)
                {
                    return false;
                }

                length = size == 4 ? BinaryPrimitives.ReadUInt32BigEndian(payload[position..]) : BinaryPrimitives.ReadUInt64BigEndian(payload[position..]);
                position += size;
                return true;
        }
    }

    /// <summary>Redis's rdbGenericLoadStringObject: any of the string encodings; null when the payload is short or corrupt.</summary>
    public static byte[]? ReadString(ReadOnlySpan<byte> payload, ref int position)
    {
        if (!TryReadLength(payload, ref position, out ulong length, out bool encoded))
        {
            return null;
        }

        if (!encoded)
        {
            if (length > (ulong)(payload.Length - position))
            {
                return null;
            }

            byte[] value = payload.Slice(position, (int)length).ToArray();
            position += (int)length;
            return value;
        }

        int integerSize = length switch
        {
            EncodingInt8 => 1,
            EncodingInt16 => 2,
            EncodingInt32 => 4,
            _ => 0,
        };
        if (integerSize > 0)
        {
            if (position + integerSize > payload.Length)
            {
                return null;
            }

            ReadOnlySpan<byte> bytes = payload.Slice(position, integerSize);
            position += integerSize;
            long number = integerSize == 1 ? (sbyte)bytes[0] : integerSize == 2 ? BinaryPrimitives.ReadInt16LittleEndian(bytes) : BinaryPrimitives.ReadInt32LittleEndian(bytes);
            return System.Text.Encoding.ASCII.GetBytes(number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (length != EncodingLzf
            || !TryReadLength(payload, ref position, out ulong compressedLength, out bool compressedEncoded) || compressedEncoded
            || !TryReadLength(payload, ref position, out ulong plainLength, out bool plainEncoded) || plainEncoded
            || compressedLength > (ulong)(payload.Length - position)
            || plainLength > Math.Min(int.MaxValue, (compressedLength * MostLzfExpansion) + MostLzfExpansion))
        {
            // No LZF stream expands more than a back reference does (3 bytes for 264): a larger claim is a damaged
            // payload, not a reason to allocate.
            return null;
        }

        byte[] plain = new byte[plainLength];
        int written = Lzf.Decompress(payload.Slice(position, (int)compressedLength), plain);
        position += (int)compressedLength;
        return written == plain.Length && plain.Length > 0 ? plain : null;
    }

    /// <summary>
    /// liblzf 3.6 as Redis builds it (lzfP.h: HLOG 16, VERY_FAST), with a hash table that starts empty for each input.
    /// The table (one per thread) is not cleared per call, which cost a 256 KiB memset per compressed value: each call
    /// stores offsets above an epoch past every offset stored before, and reads an entry below it as empty.
    /// </summary>
    internal static class Lzf
    {
        [ThreadStatic]
        private static int[]? s_table;

        [ThreadStatic]
        private static int s_epoch;

        private const int HashLog = 16;
        private const int HashSize = 1 << HashLog;
        private const int MaxLiteral = 1 << 5;
        private const int MaxOffset = 1 << 13;
        private const int MaxReference = (1 << 8) + (1 << 3);

        private static uint First(ReadOnlySpan<byte> data, int p) => ((uint)data[p] << 8) | data[p + 1];

        private static uint Next(uint value, ReadOnlySpan<byte> data, int p) => (value << 8) | data[p + 2];

        private static int Index(uint h) => (int)(((h >> ((3 * 8) - HashLog)) - (h * 5)) & (HashSize - 1));

        /// <summary>lzf_compress: the compressed length, or 0 when it would not fit in <paramref name="output"/>.</summary>
        public static int Compress(ReadOnlySpan<byte> input, Span<byte> output)
        {
            if (input.Length == 0 || output.Length == 0)
            {
                return 0;
            }

            int[] table = s_table ??= new int[HashSize];
            if (s_epoch > int.MaxValue - input.Length - 1)
            {
                Array.Clear(table);
                s_epoch = 0;
            }

            // Offsets from the input's start, as LZF_USE_OFFSETS keeps them; 0 is never a match (ref > in_data).
            int epoch = s_epoch + 1;
            s_epoch = epoch + input.Length;
            return Compress(input, output, table, epoch);
        }

        private static int Compress(ReadOnlySpan<byte> input, Span<byte> output, int[] table, int epoch)
        {
            int ip = 0;
            int op = 0;
            int inEnd = input.Length;
            int outEnd = output.Length;
            int literals = 0;
            op++; // start a run

            uint hash = inEnd >= 2 ? First(input, ip) : 0;
            while (ip < inEnd - 2)
            {
                hash = Next(hash, input, ip);
                int slot = Index(hash);
                int stored = table[slot];
                int reference = stored >= epoch ? stored - epoch : 0;
                table[slot] = ip + epoch;
                long offset = (long)ip - reference - 1;
                if (reference < ip && offset < MaxOffset && reference > 0
                    && input[reference + 2] == input[ip + 2] && input[reference] == input[ip] && input[reference + 1] == input[ip + 1])
                {
                    int length = 2;
                    int maxLength = Math.Min(inEnd - ip - length, MaxReference);
                    if (op + 3 + 1 >= outEnd && op - (literals == 0 ? 1 : 0) + 3 + 1 >= outEnd)
                    {
                        return 0;
                    }

                    output[op - literals - 1] = (byte)(literals - 1); // stop the run
                    op -= literals == 0 ? 1 : 0; // undo it if it is empty
                    do
                    {
                        length++;
                    }
                    while (length < maxLength && input[reference + length] == input[ip + length]);

                    length -= 2; // the octets matched, less one
                    ip++;
                    if (length < 7)
                    {
                        output[op++] = (byte)((offset >> 8) + (length << 5));
                    }
                    else
                    {
                        output[op++] = (byte)((offset >> 8) + (7 << 5));
                        output[op++] = (byte)(length - 7);
                    }

                    output[op++] = (byte)offset;
                    literals = 0;
                    op++; // start a run
                    ip += length + 1;
                    if (ip >= inEnd - 2)
                    {
                        break;
                    }

                    // VERY_FAST: hash the two positions before the next one.
                    ip -= 2;
                    hash = First(input, ip);
                    hash = Next(hash, input, ip);
                    table[Index(hash)] = ip + epoch;
                    ip++;
                    hash = Next(hash, input, ip);
                    table[Index(hash)] = ip + epoch;
                    ip++;
                }
                else
                {
                    if (op >= outEnd)
                    {
                        return 0;
                    }

                    CopyLiteral(input, output, ref ip, ref op, ref literals);
                }
            }

            if (op + 3 > outEnd)
            {
                return 0;
            }

            while (ip < inEnd)
            {
                CopyLiteral(input, output, ref ip, ref op, ref literals);
            }

            output[op - literals - 1] = (byte)(literals - 1); // end the run
            op -= literals == 0 ? 1 : 0;
            return op;
        }

        // One more literal byte of the run; a full run is closed and the next begun.
        private static void CopyLiteral(ReadOnlySpan<byte> input, Span<byte> output, ref int ip, ref int op, ref int literals)
        {
            literals++;
            output[op++] = input[ip++];
            if (literals == MaxLiteral)
            {
                output[op - literals - 1] = (byte)(literals - 1);
                literals = 0;
                op++;
            }
        }

        /// <summary>lzf_decompress: the length written, or 0 when the input is corrupt or does not fit.</summary>
        public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
        {
            int ip = 0;
            int op = 0;
            while (ip < input.Length)
            {
                int control = input[ip++];
                if (control < 1 << 5)
                {
                    control++;
                    if (op + control > output.Length || ip + control > input.Length)
                    {
                        return 0;
                    }

                    input.Slice(ip, control).CopyTo(output[op..]);
                    ip += control;
                    op += control;
                    continue;
                }

                int length = control >> 5;
                int reference = op - ((control & 0x1F) << 8) - 1;
                if (ip >= input.Length)
                {
                    return 0;
                }

                if (length == 7)
                {
                    length += input[ip++];
                    if (ip >= input.Length)
                    {
                        return 0;
                    }
                }

                reference -= input[ip++];
                length += 2;
                if (op + length > output.Length || reference < 0)
                {
                    return 0;
                }

                for (int i = 0; i < length; i++)
                {
                    output[op++] = output[reference++];
                }
            }

            return op;
        }
    }
}
