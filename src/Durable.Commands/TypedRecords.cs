using System.Buffers;
using Durable.Storage;

namespace Durable.Commands;

/// <summary>Reads a record that must be of one type, and the store's record-size limit, for every command family.</summary>
internal static class TypedRecords
{
    /// <summary>
    /// Reads the record of <paramref name="key"/>, appending its payload to <paramref name="value"/> (when not null).
    /// <paramref name="countStats"/> mirrors Redis's lookupKeyRead (counts a keyspace hit or miss) versus
    /// lookupKeyWrite (counts nothing). A record of another type is <see cref="ReadResult.WrongType"/>.
    /// </summary>
    public static ReadResult Read(
        CommandContext context, ReadOnlySpan<byte> key, RecordType type, IBufferWriter<byte>? value, bool countStats, out StoredRecord record)
    {
        if (!context.Session.TryRead(context.Db, key, value, out record))
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

        return record.Type == type ? ReadResult.Found : ReadResult.WrongType;
    }

    /// <summary>
    /// The store's limit, which Redis does not have: a record (key, header and payload) must fit in one log page.
    /// Writes the error and returns false when a payload of <paramref name="length"/> bytes would not.
    /// </summary>
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
}
