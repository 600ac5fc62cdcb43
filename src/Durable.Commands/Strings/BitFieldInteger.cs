namespace Durable.Commands.Strings;

/// <summary>
/// Signed and unsigned integers of 1 to 64 bits at any bit offset of a bitmap, most significant bit first, with
/// Redis's overflow rules (bitops.c: get/setUnsignedBitfield, check(Un)signedBitfieldOverflow).
/// </summary>
internal static class BitFieldInteger
{
    /// <summary>Reads <paramref name="bits"/> bits at <paramref name="offset"/>; bits past the end of the span read as 0.</summary>
    public static ulong GetUnsigned(ReadOnlySpan<byte> bitmap, long offset, int bits)
    {
        ulong value = 0;
        for (int j = 0; j < bits; j++, offset++)
        {
            long index = offset >> 3;
            uint bit = index < bitmap.Length ? (uint)(bitmap[(int)index] >> (7 - (int)(offset & 7))) & 1 : 0;
            value = (value << 1) | bit;
        }

        return value;
    }

    /// <summary>As <see cref="GetUnsigned"/>, sign-extended from the field's top bit.</summary>
    public static long GetSigned(ReadOnlySpan<byte> bitmap, long offset, int bits)
    {
        ulong value = GetUnsigned(bitmap, offset, bits);
        if (bits < 64 && (value & (1UL << (bits - 1))) != 0)
        {
            value |= ulong.MaxValue << bits;
        }

        return (long)value;
    }

    /// <summary>Writes the low <paramref name="bits"/> bits of <paramref name="value"/>; the span must cover them.</summary>
    public static void Set(Span<byte> bitmap, long offset, int bits, ulong value)
    {
        for (int j = 0; j < bits; j++, offset++)
        {
            int index = (int)(offset >> 3);
            int shift = 7 - (int)(offset & 7);
            int bit = (int)(value >> (bits - 1 - j)) & 1;
            bitmap[index] = (byte)((bitmap[index] & ~(1 << shift)) | (bit << shift));
        }
    }

    /// <summary>
    /// Whether <paramref name="value"/> + <paramref name="increment"/> fits an unsigned field: 0 if it does,
    /// 1 on overflow, -1 on underflow. On overflow <paramref name="limit"/> is the value to store for WRAP and SAT.
    /// </summary>
    public static int CheckUnsignedOverflow(ulong value, long increment, int bits, BitFieldOverflow overflow, out ulong limit)
    {
        limit = 0;
        ulong max = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        long maxIncrement = unchecked((long)(max - value));
        long minIncrement = unchecked(-(long)value);
        int result;
        if (value > max || (increment > 0 && increment > maxIncrement))
        {
            result = 1;
            limit = max;
        }
        else if (increment < 0 && increment < minIncrement)
        {
            result = -1;
            limit = 0;
        }
        else
        {
            return 0;
        }

        if (overflow == BitFieldOverflow.Wrap)
        {
            ulong mask = bits == 64 ? 0 : ulong.MaxValue << bits;
            limit = unchecked(value + (ulong)increment) & ~mask;
        }

        return result;
    }

    /// <summary>As <see cref="CheckUnsignedOverflow"/> for a signed (two's complement) field.</summary>
    public static int CheckSignedOverflow(long value, long increment, int bits, BitFieldOverflow overflow, out long limit)
    {
        limit = 0;
        long max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        long min = -max - 1;

        // Redis computes these with wrapping arithmetic and uses them only where they cannot have wrapped.
        long maxIncrement = unchecked((long)((ulong)max - (ulong)value));
        long minIncrement = unchecked(min - value);
        int result;
        if (value > max || (bits != 64 && increment > maxIncrement) || (value >= 0 && increment > 0 && increment > maxIncrement))
        {
            result = 1;
            limit = max;
        }
        else if (value < min || (bits != 64 && increment < minIncrement) || (value < 0 && increment < 0 && increment < minIncrement))
        {
            result = -1;
            limit = min;
        }
        else
        {
            return 0;
        }

        if (overflow == BitFieldOverflow.Wrap)
        {
            ulong sum = unchecked((ulong)value + (ulong)increment);
            if (bits < 64)
            {
                ulong mask = ulong.MaxValue << bits;
                sum = (sum & (1UL << (bits - 1))) != 0 ? sum | mask : sum & ~mask;
            }

            limit = (long)sum;
        }

        return result;
    }
}
