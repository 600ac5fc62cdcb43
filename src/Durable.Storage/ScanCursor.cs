namespace Durable.Storage;

/// <summary>
/// A SCAN cursor: where the pass goes on (a log address) and where it ends (its bound: the log's tail when the pass
/// began, rounded up), with a check, so that a cursor a client made up almost never makes the store parse a log from
/// the middle of a record: such a cursor starts the scan over. Cursors stay below 2^63, as many clients read them as
/// signed 64-bit numbers.
/// Layout, from the high bits: a zero bit; the address in units of 8 bytes (45 bits; records are 8-byte aligned and
/// FASTER's addresses have 48 bits); the bound (11 bits: a 5-bit exponent and a 6-bit mantissa of 64 KiB units, so
/// it is at most a 64th or 64 KiB above the tail it was made from); the check (7 bits).
/// </summary>
internal static class ScanCursor
{
    private const int CheckBits = 7;
    private const int BoundBits = 11;
    private const int MantissaBits = 6;
    private const int BoundUnitBits = 16;
    private const int AddressShift = CheckBits + BoundBits;
    private const long AddressUnits = 1L << 45;

    /// <summary>The cursor for going on at <paramref name="address"/> (8-byte aligned) in a pass that ends at <paramref name="bound"/> (a value <see cref="RoundUpBound"/> gave).</summary>
    public static ulong Encode(long address, long bound)
    {
        ulong units = (ulong)address >> 3;
        ulong payload = (units << BoundBits) | BoundCode(bound);
        return (payload << CheckBits) | Check(payload);
    }

    /// <summary>
    /// The address and bound of a cursor, or (0, 0) (start a new pass) when the cursor is 0 or was not made by
    /// <see cref="Encode"/>.
    /// </summary>
    public static (long Address, long Bound) Decode(ulong cursor)
    {
        ulong payload = cursor >> CheckBits;
        ulong units = payload >> BoundBits;
        if (units == 0 || units >= AddressUnits || (cursor & ((1UL << CheckBits) - 1)) != Check(payload))
        {
            return (0, 0);
        }

        return ((long)units << 3, BoundOf((int)(payload & ((1UL << BoundBits) - 1))));
    }

    /// <summary>The smallest bound a cursor can carry that is at least <paramref name="tail"/>.</summary>
    public static long RoundUpBound(long tail) => BoundOf((int)BoundCode(tail));

    // 64 KiB units: below 64 of them the mantissa holds the units (exponent 0); from there on the mantissa's top bit is
    // implied and the exponent shifts it.
    private static ulong BoundCode(long bound)
    {
        long units = (bound + (1L << BoundUnitBits) - 1) >> BoundUnitBits;
        if (units < 1L << MantissaBits)
        {
            return (ulong)units;
        }

        int exponent = 1;
        while (((units + (1L << (exponent - 1)) - 1) >> (exponent - 1)) > (2 << MantissaBits) - 1)
        {
            exponent++;
        }

        long mantissa = (units + (1L << (exponent - 1)) - 1) >> (exponent - 1);
        return ((ulong)exponent << MantissaBits) | (ulong)(mantissa - (1L << MantissaBits));
    }

    private static long BoundOf(int code)
    {
        int exponent = code >> MantissaBits;
        long mantissa = code & ((1 << MantissaBits) - 1);
        long units = exponent == 0 ? mantissa : ((1L << MantissaBits) + mantissa) << (exponent - 1);
        return units << BoundUnitBits;
    }

    private static ulong Check(ulong payload)
    {
        ulong x = payload * 0x9E3779B97F4A7C15UL;
        return (x >> (64 - CheckBits)) ^ 0x5A;
    }
}
