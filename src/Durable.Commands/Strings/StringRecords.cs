using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>Reads, size checks and option matching shared by the string command files.</summary>
internal static class StringRecords
{
    /// <summary>
    /// Reads a string value into <see cref="CommandContext.Scratch"/>. <paramref name="countStats"/> mirrors Redis's
    /// lookupKeyRead (counts a keyspace hit or miss) versus lookupKeyWrite (counts nothing).
    /// </summary>
    public static ReadResult Read(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out StoredRecord record)
    {
        if (!context.Session.TryRead(context.Db, key, context.Scratch, out record))
        {
            if (countStats)
            {
                Interlocked.Increment(ref context.Server.Stats.KeyspaceMisses);
            }

            return ReadResult.Missing;
        }

        if (countStats)
        {
            Interlocked.Increment(ref context.Server.Stats.KeyspaceHits);
        }

        return record.Type == RecordType.String ? ReadResult.Found : ReadResult.WrongType;
    }

    /// <summary>
    /// Redis checkStringLength: a result longer than proto-max-bulk-len is refused. Then the store's own limit, a
    /// record must fit in one log page, which Redis does not have. Writes the error and returns false when too long.
    /// </summary>
    public static bool CheckLength(CommandContext context, ReadOnlySpan<byte> key, long length)
    {
        if (length > context.Server.Config.ProtoMaxBulkLength)
        {
            context.WriteError(RespErrors.StringTooLong);
            return false;
        }

        return FitsRecord(context, key, length);
    }

    /// <summary>The store's limit only (for values that arrived as one argument, which the protocol already bounded).</summary>
    public static bool FitsRecord(CommandContext context, ReadOnlySpan<byte> key, long length)
    {
        long max = context.Store.MaxValueBytes - key.Length;
        if (length <= max)
        {
            return true;
        }

        context.WriteError($"ERR value of {length} bytes exceeds this server's largest record ({Math.Max(0, max)} bytes); raise --memory");
        return false;
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
