using Durable.Commands.PubSub;
using System.Buffers;
using System.Runtime.InteropServices;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>
/// BITFIELD and BITFIELD_RO (Redis bitfieldGeneric): every subcommand is parsed and checked before any runs, so a
/// bad argument anywhere fails the whole command and changes nothing.
/// </summary>
internal static class BitFieldCommand
{
    private enum Opcode
    {
        Get,
        Set,
        IncrBy,
    }

    public static void BitField(CommandContext context, RespArgs args) => Run(context, args, readOnlyCommand: false);

    public static void BitFieldReadOnly(CommandContext context, RespArgs args) => Run(context, args, readOnlyCommand: true);

    private static void Run(CommandContext context, RespArgs args, bool readOnlyCommand)
    {
        // GET, SET and INCRBY each take at least three arguments, which bounds the number of operations.
        Operation[] operations = ArrayPool<Operation>.Shared.Rent(Math.Max(1, (args.Count - 2) / 3));
        try
        {
            if (!TryParse(context, args, operations, out int count, out bool writes, out long highestWriteBit))
            {
                return;
            }

            Span<byte> bitmap;
            long expiresAtMs = 0;
            bool grown = false;
            if (!writes)
            {
                if (!StringBitCommands.TryReadString(context, args[1], out _))
                {
                    return;
                }

                bitmap = MemoryMarshal.AsMemory(context.Scratch.WrittenMemory).Span;
            }
            else if (readOnlyCommand)
            {
                context.WriteError(RespErrors.BitFieldReadOnlyGetOnly);
                return;
            }
            else if (!StringBitCommands.TryLoadForWrite(context, args[1], (int)(highestWriteBit >> 3) + 1, out bitmap, out expiresAtMs, out grown))
            {
                return;
            }

            context.WriteArrayHeader(count);
            bool changed = false;
            foreach (Operation operation in operations.AsSpan(0, count))
            {
                changed |= Execute(context, operation, bitmap);
            }

            // Redis creates or zero-pads the string even when every write fails its OVERFLOW check.
            if (grown || changed)
            {
                context.Session.Write(context.Db, args[1], RecordType.String, bitmap, expiresAtMs);
            }

            if (changed)
            {
                context.Notify(KeyspaceEventClass.String, "setbit"u8, args[1]);
            }
        }
        finally
        {
            ArrayPool<Operation>.Shared.Return(operations);
        }
    }

    private static bool TryParse(
        CommandContext context, RespArgs args, Operation[] operations, out int count, out bool writes, out long highestWriteBit)
    {
        count = 0;
        writes = false;
        highestWriteBit = 0;
        BitFieldOverflow overflow = BitFieldOverflow.Wrap;
        for (int j = 2; j < args.Count; j++)
        {
            int remaining = args.Count - j - 1;
            Opcode opcode;
            if (args.Is(j, "get"u8) && remaining >= 2)
            {
                opcode = Opcode.Get;
            }
            else if (args.Is(j, "set"u8) && remaining >= 3)
            {
                opcode = Opcode.Set;
            }
            else if (args.Is(j, "incrby"u8) && remaining >= 3)
            {
                opcode = Opcode.IncrBy;
            }
            else if (args.Is(j, "overflow"u8) && remaining >= 1)
            {
                j++;
                if (args.Is(j, "wrap"u8))
                {
                    overflow = BitFieldOverflow.Wrap;
                }
                else if (args.Is(j, "sat"u8))
                {
                    overflow = BitFieldOverflow.Sat;
                }
                else if (args.Is(j, "fail"u8))
                {
                    overflow = BitFieldOverflow.Fail;
                }
                else
                {
                    context.WriteError(RespErrors.BitFieldInvalidOverflow);
                    return false;
                }

                continue;
            }
            else
            {
                context.WriteSyntaxError();
                return false;
            }

            if (!TryParseType(args[j + 1], out bool signed, out int bits))
            {
                context.WriteError(RespErrors.BitFieldInvalidType);
                return false;
            }

            if (!StringBitCommands.TryParseBitOffset(context, args[j + 2], bits, out long offset))
            {
                context.WriteError(RespErrors.BitOffsetOutOfRange);
                return false;
            }

            long operand = 0;
            if (opcode != Opcode.Get)
            {
                writes = true;
                highestWriteBit = Math.Max(highestWriteBit, offset + bits - 1);
                if (!RedisNumber.TryParseInt64(args[j + 3], out operand))
                {
                    context.WriteNotInteger();
                    return false;
                }
            }

            operations[count++] = new Operation(opcode, signed, bits, offset, operand, overflow);
            j += opcode == Opcode.Get ? 2 : 3;
        }

        return true;
    }

    /// <summary>Redis getBitfieldTypeFromArgument: 'i' 1..64 or 'u' 1..63 (a u64 could not be replied as an integer).</summary>
    private static bool TryParseType(ReadOnlySpan<byte> text, out bool signed, out int bits)
    {
        signed = false;
        bits = 0;
        if (text.IsEmpty || (text[0] != (byte)'i' && text[0] != (byte)'u'))
        {
            return false;
        }

        signed = text[0] == (byte)'i';
        ReadOnlySpan<byte> digits = text[1..];

        // Redis measures the width with strlen, so it ends at a NUL byte.
        int nul = digits.IndexOf((byte)0);
        if (nul >= 0)
        {
            digits = digits[..nul];
        }

        if (!RedisNumber.TryParseInt64(digits, out long width) || width < 1 || width > (signed ? 64 : 63))
        {
            return false;
        }

        bits = (int)width;
        return true;
    }

    /// <summary>Runs one operation and writes its reply; returns true when it changed the bitmap.</summary>
    private static bool Execute(CommandContext context, Operation operation, Span<byte> bitmap)
    {
        (Opcode opcode, bool signed, int bits, long offset, long operand, BitFieldOverflow overflow) = operation;
        if (opcode == Opcode.Get)
        {
            context.WriteInteger(signed
                ? BitFieldInteger.GetSigned(bitmap, offset, bits)
                : (long)BitFieldInteger.GetUnsigned(bitmap, offset, bits));
            return false;
        }

        ulong oldBits;
        ulong newBits;
        long reply;
        int overflowed;
        if (signed)
        {
            long oldValue = BitFieldInteger.GetSigned(bitmap, offset, bits);
            long newValue;
            if (opcode == Opcode.IncrBy)
            {
                overflowed = BitFieldInteger.CheckSignedOverflow(oldValue, operand, bits, overflow, out long limit);
                newValue = overflowed != 0 ? limit : oldValue + operand;
                reply = newValue;
            }
            else
            {
                overflowed = BitFieldInteger.CheckSignedOverflow(operand, 0, bits, overflow, out long limit);
                newValue = overflowed != 0 ? limit : operand;
                reply = oldValue;
            }

            oldBits = (ulong)oldValue;
            newBits = (ulong)newValue;
        }
        else
        {
            ulong oldValue = BitFieldInteger.GetUnsigned(bitmap, offset, bits);
            ulong newValue;
            if (opcode == Opcode.IncrBy)
            {
                overflowed = BitFieldInteger.CheckUnsignedOverflow(oldValue, operand, bits, overflow, out ulong limit);
                newValue = overflowed != 0 ? limit : unchecked(oldValue + (ulong)operand);
                reply = (long)newValue;
            }
            else
            {
                overflowed = BitFieldInteger.CheckUnsignedOverflow((ulong)operand, 0, bits, overflow, out ulong limit);
                newValue = overflowed != 0 ? limit : (ulong)operand;
                reply = (long)oldValue;
            }

            oldBits = oldValue;
            newBits = newValue;
        }

        // OVERFLOW FAIL: the field keeps its value and the reply is null.
        if (overflowed != 0 && overflow == BitFieldOverflow.Fail)
        {
            context.WriteNull();
            return false;
        }

        context.WriteInteger(reply);
        BitFieldInteger.Set(bitmap, offset, bits, newBits);
        return oldBits != newBits;
    }

    private readonly record struct Operation(Opcode Opcode, bool Signed, int Bits, long Offset, long Operand, BitFieldOverflow Overflow);
}
