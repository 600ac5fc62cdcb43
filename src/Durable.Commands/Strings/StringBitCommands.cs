using Durable.Commands.PubSub;
using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>
/// Bitmap commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO (Redis 7.0 semantics).
/// Writes modify the value in place, as Redis does, so the key keeps its TTL; BITOP replaces its destination.
/// </summary>
internal static class StringBitCommands
{
    // .NET arrays stop short of int.MaxValue bytes; Redis's own limit is proto-max-bulk-len (512 MB by default).
    private const long MaxBitmapBytes = 0x7FFF_FF00;

    public static void Register(CommandTable table)
    {
        table.Add("SETBIT", 4, CommandFlags.Write | CommandFlags.DenyOom, SetBit, 1, 1, 1, ["write", "bitmap", "slow"]);
        table.Add("GETBIT", 3, CommandFlags.ReadOnly | CommandFlags.Fast, GetBit, 1, 1, 1, ["read", "bitmap", "fast"]);
        table.Add("BITCOUNT", -2, CommandFlags.ReadOnly, BitCount, 1, 1, 1, ["read", "bitmap", "slow"]);
        table.Add("BITPOS", -3, CommandFlags.ReadOnly, BitPos, 1, 1, 1, ["read", "bitmap", "slow"]);
        table.Add("BITOP", -4, CommandFlags.Write | CommandFlags.DenyOom, BitOp, 2, -1, 1, ["write", "bitmap", "slow"]);
        table.Add("BITFIELD", -2, CommandFlags.Write | CommandFlags.DenyOom, BitFieldCommand.BitField, 1, 1, 1, ["write", "bitmap", "slow"]);
        table.Add("BITFIELD_RO", -2, CommandFlags.ReadOnly | CommandFlags.Fast, BitFieldCommand.BitFieldReadOnly, 1, 1, 1, ["read", "bitmap", "fast"]);
    }

    /// <summary>
    /// Redis getBitOffsetFromArgument: a non-negative integer whose byte fits proto-max-bulk-len. When
    /// <paramref name="hashBits"/> is positive, "#N" means N * <paramref name="hashBits"/> (BITFIELD).
    /// </summary>
    internal static bool TryParseBitOffset(CommandContext context, ReadOnlySpan<byte> text, int hashBits, out long offset)
    {
        bool useHash = hashBits > 0 && !text.IsEmpty && text[0] == (byte)'#';
        if (!RedisNumber.TryParseInt64(useHash ? text[1..] : text, out offset))
        {
            return false;
        }

        if (useHash)
        {
            // Redis multiplies without an overflow check; a wrapped product is negative or huge and fails below.
            offset = unchecked(offset * hashBits);
        }

        return offset >= 0 && (offset >> 3) < Math.Min(context.Server.Config.ProtoMaxBulkLength, MaxBitmapBytes);
    }

    /// <summary>
    /// Reads a string for a read-only command into <see cref="CommandContext.Scratch"/>, counting keyspace hits and
    /// misses. Returns false, having replied WRONGTYPE, when the key holds another type.
    /// </summary>
    internal static bool TryReadString(CommandContext context, ReadOnlySpan<byte> key, out bool exists)
    {
        exists = context.Session.TryRead(context.Db, key, context.Scratch, out StoredRecord record);
        if (!exists)
        {
            Interlocked.Increment(ref context.Server.Stats.KeyspaceMisses);
            return true;
        }

        Interlocked.Increment(ref context.Server.Stats.KeyspaceHits);
        if (record.Type != RecordType.String)
        {
            context.WriteWrongType();
            return false;
        }

        return true;
    }

    /// <summary>
    /// Loads the string at <paramref name="key"/> into <see cref="CommandContext.Scratch"/> for modification in place,
    /// zero-extended to at least <paramref name="minLength"/> bytes (Redis lookupStringForBitCommand). The span is
    /// valid until Scratch is next written. <paramref name="grown"/> is true when the key is new or got longer, so
    /// it must be written back even if no bit changes. Returns false, having replied WRONGTYPE, for another type.
    /// </summary>
    internal static bool TryLoadForWrite(
        CommandContext context, ReadOnlySpan<byte> key, int minLength, out Span<byte> value, out long expiresAtMs, out bool grown)
    {
        ArrayBufferWriter<byte> scratch = context.Scratch;
        scratch.ResetWrittenCount();
        bool exists = context.Session.TryRead(context.Db, key, scratch, out StoredRecord record);
        if (exists && record.Type != RecordType.String)
        {
            context.WriteWrongType();
            value = default;
            expiresAtMs = 0;
            grown = false;
            return false;
        }

        int length = scratch.WrittenCount;
        grown = !exists || length < minLength;
        if (length < minLength)
        {
            if (!TypedRecords.FitsRecord(context, key, minLength))
            {
                value = default;
                expiresAtMs = 0;
                return false;
            }

            int extra = minLength - length;
            scratch.GetSpan(extra)[..extra].Clear();
            scratch.Advance(extra);
        }

        // The scratch buffer is ours for this command; writing through it avoids a second copy of the bitmap.
        value = MemoryMarshal.AsMemory(scratch.WrittenMemory).Span;
        expiresAtMs = exists ? record.ExpiresAtMs : 0;
        return true;
    }

    private static void SetBit(CommandContext context, RespArgs args)
    {
        if (!TryParseBitOffset(context, args[2], 0, out long offset))
        {
            context.WriteError(RespErrors.BitOffsetOutOfRange);
            return;
        }

        if (!RedisNumber.TryParseInt64(args[3], out long on) || (on & ~1L) != 0)
        {
            context.WriteError(RespErrors.BitNotInteger);
            return;
        }

        int index = (int)(offset >> 3);
        if (!TryLoadForWrite(context, args[1], index + 1, out Span<byte> value, out long expiresAtMs, out bool grown))
        {
            return;
        }

        int shift = 7 - (int)(offset & 7);
        int old = (value[index] >> shift) & 1;
        if (grown || old != on)
        {
            value[index] = (byte)((value[index] & ~(1 << shift)) | ((int)on << shift));
            context.Session.Write(context.Db, args[1], RecordType.String, value, expiresAtMs);
            context.Notify(KeyspaceEventClass.String, "setbit"u8, args[1]);
        }

        context.WriteInteger(old);
    }

    private static void GetBit(CommandContext context, RespArgs args)
    {
        if (!TryParseBitOffset(context, args[2], 0, out long offset))
        {
            context.WriteError(RespErrors.BitOffsetOutOfRange);
            return;
        }

        if (!TryReadString(context, args[1], out _))
        {
            return;
        }

        ReadOnlySpan<byte> value = context.Scratch.WrittenSpan;
        long index = offset >> 3;
        context.WriteInteger(index < value.Length ? (value[(int)index] >> (7 - (int)(offset & 7))) & 1 : 0);
    }

    private static void BitCount(CommandContext context, RespArgs args)
    {
        // Redis 7.0 looks the key up before parsing the range: a missing key answers 0 whatever the other arguments.
        if (!TryReadString(context, args[1], out bool exists))
        {
            return;
        }

        if (!exists)
        {
            context.WriteInteger(0);
            return;
        }

        ReadOnlySpan<byte> value = context.Scratch.WrittenSpan;
        long start;
        long end;
        byte firstMask = 0;
        byte lastMask = 0;
        if (args.Count is 4 or 5)
        {
            if (!RedisNumber.TryParseInt64(args[2], out start) || !RedisNumber.TryParseInt64(args[3], out end))
            {
                context.WriteNotInteger();
                return;
            }

            // Redis: both ends negative and reversed is empty before any clamping, and before the unit is parsed.
            if (start < 0 && end < 0 && start > end)
            {
                context.WriteInteger(0);
                return;
            }

            bool isBit = false;
            if (args.Count == 5 && !TryParseUnit(args[4], out isBit))
            {
                context.WriteSyntaxError();
                return;
            }

            NormalizeRange(value.Length, isBit, ref start, ref end, out firstMask, out lastMask);
        }
        else if (args.Count == 2)
        {
            start = 0;
            end = value.Length - 1;
        }
        else
        {
            context.WriteSyntaxError();
            return;
        }

        if (start > end)
        {
            context.WriteInteger(0);
            return;
        }

        // The edge bytes are counted whole, then the bits outside a BIT range are taken back out.
        long count = BitSpan.PopCount(value[(int)start..((int)end + 1)]);
        count -= BitOperations.PopCount((uint)(value[(int)start] & firstMask)) + BitOperations.PopCount((uint)(value[(int)end] & lastMask));
        context.WriteInteger(count);
    }

    private static void BitPos(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[2], out long bit))
        {
            context.WriteNotInteger();
            return;
        }

        if (bit is not 0 and not 1)
        {
            context.WriteError(RespErrors.BitArgumentNotBinary);
            return;
        }

        // Redis 7.0 looks the key up before parsing the range. A missing key is an infinite run of zeros.
        if (!TryReadString(context, args[1], out bool exists))
        {
            return;
        }

        if (!exists)
        {
            context.WriteInteger(bit == 1 ? -1 : 0);
            return;
        }

        ReadOnlySpan<byte> value = context.Scratch.WrittenSpan;
        long start;
        long end;
        bool endGiven = false;
        byte firstMask = 0;
        byte lastMask = 0;
        if (args.Count is >= 4 and <= 6)
        {
            if (!RedisNumber.TryParseInt64(args[3], out start))
            {
                context.WriteNotInteger();
                return;
            }

            bool isBit = false;
            if (args.Count == 6 && !TryParseUnit(args[5], out isBit))
            {
                context.WriteSyntaxError();
                return;
            }

            end = value.Length - 1;
            if (args.Count >= 5)
            {
                if (!RedisNumber.TryParseInt64(args[4], out end))
                {
                    context.WriteNotInteger();
                    return;
                }

                endGiven = true;
            }

            NormalizeRange(value.Length, isBit, ref start, ref end, out firstMask, out lastMask);
        }
        else if (args.Count == 3)
        {
            start = 0;
            end = value.Length - 1;
        }
        else
        {
            context.WriteSyntaxError();
            return;
        }

        // An empty range holds neither a 0 nor a 1.
        context.WriteInteger(start > end ? -1 : FindInRange(value, (int)bit, (int)start, (int)end, firstMask, lastMask, endGiven));
    }

    /// <summary>
    /// Redis's range rules for BITCOUNT and BITPOS: negative indexes count from the end, both ends are clamped to
    /// the string. For a BIT range the ends become byte indexes plus masks of the edge bits outside the range.
    /// </summary>
    private static void NormalizeRange(int length, bool isBit, ref long start, ref long end, out byte firstMask, out byte lastMask)
    {
        long total = isBit ? (long)length << 3 : length;
        if (start < 0)
        {
            start = total + start;
        }

        if (end < 0)
        {
            end = total + end;
        }

        start = Math.Max(start, 0);
        end = Math.Max(end, 0);
        end = Math.Min(end, total - 1);
        firstMask = 0;
        lastMask = 0;
        if (isBit && start <= end)
        {
            firstMask = (byte)~((1 << (8 - (int)(start & 7))) - 1);
            lastMask = (byte)((1 << (7 - (int)(end & 7))) - 1);
            start >>= 3;
            end >>= 3;
        }
    }

    /// <summary>Redis bitposCommand's search of bytes start..end, the masked edge bits excluded.</summary>
    private static long FindInRange(ReadOnlySpan<byte> value, int bit, int start, int end, byte firstMask, byte lastMask, bool endGiven)
    {
        int bytes = end - start + 1;
        long position;
        Span<byte> single = stackalloc byte[1];
        if (firstMask != 0)
        {
            single[0] = Masked(value[start], firstMask, bit);
            if (lastMask != 0 && bytes == 1)
            {
                single[0] = Masked(single[0], lastMask, bit);
            }

            position = BitSpan.FindFirst(single, bit);
            if (bytes == 1 || (position != -1 && position != 8))
            {
                return Result(position, start, bytes, bit, endGiven);
            }

            start++;
            bytes--;
        }

        // A last byte with bits outside the range is searched on its own, masked.
        int whole = bytes - (lastMask != 0 ? 1 : 0);
        if (whole > 0)
        {
            position = BitSpan.FindFirst(value.Slice(start, whole), bit);
            if (bytes == whole || (position != -1 && position != (long)whole << 3))
            {
                return Result(position, start, bytes, bit, endGiven);
            }

            start += whole;
            bytes -= whole;
        }

        single[0] = Masked(value[end], lastMask, bit);
        position = BitSpan.FindFirst(single, bit);
        return Result(position, start, bytes, bit, endGiven);

        // Bits under the mask are made to never match: cleared when looking for 1, set when looking for 0.
        static byte Masked(byte b, byte mask, int bit) => bit == 1 ? (byte)(b & ~mask) : (byte)(b | mask);

        static long Result(long position, int start, int bytes, int bit, bool endGiven)
        {
            // Looking for 0 with an explicit end: the right of the range is not zero padded, so "just past the end" is -1.
            if (endGiven && bit == 0 && position == (long)bytes << 3)
            {
                return -1;
            }

            return position == -1 ? -1 : position + ((long)start << 3);
        }
    }

    private static bool TryParseUnit(ReadOnlySpan<byte> text, out bool isBit)
    {
        isBit = AsciiCase.EqualsIgnoreCase(text, "bit"u8);
        return isBit || AsciiCase.EqualsIgnoreCase(text, "byte"u8);
    }

    private static void BitOp(CommandContext context, RespArgs args)
    {
        BitOperator op;
        if (args.Is(1, "and"u8))
        {
            op = BitOperator.And;
        }
        else if (args.Is(1, "or"u8))
        {
            op = BitOperator.Or;
        }
        else if (args.Is(1, "xor"u8))
        {
            op = BitOperator.Xor;
        }
        else if (args.Is(1, "not"u8))
        {
            op = BitOperator.Not;
        }
        else
        {
            context.WriteSyntaxError();
            return;
        }

        if (op == BitOperator.Not && args.Count != 4)
        {
            context.WriteError(RespErrors.BitOpNotSingleSource);
            return;
        }

        // Sources are read one at a time into Scratch and folded into a pooled result; a missing key is an empty
        // string, and bytes past a source's end count as zeros.
        byte[] result = [];
        int length = 0;
        try
        {
            for (int i = 3; i < args.Count; i++)
            {
                context.Scratch.ResetWrittenCount();
                if (!TryReadString(context, args[i], out _))
                {
                    return;
                }

                ReadOnlySpan<byte> source = context.Scratch.WrittenSpan;
                int newLength = Math.Max(length, source.Length);
                result = Grow(result, length, newLength);
                Span<byte> target = result.AsSpan(0, newLength);
                if (i == 3)
                {
                    source.CopyTo(target);
                    if (op == BitOperator.Not)
                    {
                        BitSpan.Invert(target);
                    }
                }
                else
                {
                    target[length..].Clear();
                    BitSpan.Combine(op, target, source);
                    if (op == BitOperator.And)
                    {
                        target[source.Length..].Clear();
                    }
                }

                length = newLength;
            }

            // Redis: the destination is replaced (its TTL dropped); an empty result deletes it. Every source fit a
            // record, but under its own key: a longer destination key can push the result past the largest record.
            if (length > 0)
            {
                if (!TypedRecords.FitsRecord(context, args[2], length))
                {
                    return;
                }

                context.Session.Write(context.Db, args[2], RecordType.String, result.AsSpan(0, length), 0);
                context.Notify(KeyspaceEventClass.String, "set"u8, args[2]);
            }
            else if (context.Session.Delete(context.Db, args[2]))
            {
                context.Notify(KeyspaceEventClass.Generic, "del"u8, args[2]);
            }

            context.WriteInteger(length);
        }
        finally
        {
            if (result.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(result);
            }
        }
    }

    private static byte[] Grow(byte[] buffer, int used, int needed)
    {
        if (buffer.Length >= needed)
        {
            return buffer;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(needed);
        buffer.AsSpan(0, used).CopyTo(larger);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return larger;
    }
}
