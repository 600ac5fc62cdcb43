using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>Reads, size checks and option matching shared by the string command files.</summary>
internal static class StringRecords
{
    /// <summary>Reads a string value into <see cref="CommandContext.Scratch"/>; see <see cref="TypedRecords.Read"/>.</summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out StoredRecord record) =>
        TypedRecords.Read(context, key, RecordType.String, context.Scratch, countStats, out record);

    /// <summary>
    /// Redis checkStringLength: a result longer than proto-max-bulk-len is refused. Then the store's own limit
    /// (<see cref="TypedRecords.FitsRecord"/>). Writes the error and returns false when too long.
    /// </summary>
    public static bool CheckLength(CommandContext context, ReadOnlySpan<byte> key, long length)
    {
        if (length > context.Server.Config.ProtoMaxBulkLength)
        {
            context.WriteError(RespErrors.StringTooLong);
            return false;
        }

        return TypedRecords.FitsRecord(context, key, length);
    }

    /// <summary>
    /// Compares an option the way Redis's strcasecmp on an sds does: the argument ends at its first NUL byte, so
    /// "NX\0junk" is NX (Redis reads options as C strings).
    /// </summary>
    public static bool IsOption(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> word)
    {
        int nul = argument.IndexOf((byte)0);
        return AsciiCase.EqualsIgnoreCase(nul < 0 ? argument : argument[..nul], word);
    }
}
