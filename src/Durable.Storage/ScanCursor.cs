namespace Durable.Storage;

/// <summary>
/// SCAN cursors are log addresses with a 16-bit check, so that a cursor a client made up can never make the
/// store parse a log from the middle of a record: such a cursor starts the scan over.
/// Layout: address in the high 48 bits, check in the low 16.
/// </summary>
internal static class ScanCursor
{
    public static ulong Encode(long address) => address == 0 ? 0 : ((ulong)address << 16) | Check((ulong)address);

    /// <summary>The address of a cursor, or 0 (start over) when the cursor is 0 or was not made by <see cref="Encode"/>.</summary>
    public static long Decode(ulong cursor)
    {
        ulong address = cursor >> 16;
        return address != 0 && (cursor & 0xFFFF) == Check(address) ? (long)address : 0;
    }

    private static ulong Check(ulong address)
    {
        ulong x = address * 0x9E3779B97F4A7C15UL;
        return (x >> 48) ^ 0x5A17;
    }
}
