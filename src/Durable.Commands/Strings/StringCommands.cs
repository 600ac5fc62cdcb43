using Durable.Commands.PubSub;
using System.Buffers;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>
/// String commands that read or replace whole values and ranges: GET, GETDEL, GETSET, MGET, MSET, MSETNX, APPEND,
/// STRLEN, GETRANGE, SUBSTR, SETRANGE. The SET family, counters and LCS live in the other Strings/ files.
/// </summary>
internal static class StringCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("GET", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, Get, 1, 1, 1, ["read", "string", "fast"]);
        table.Add("GETDEL", 2, CommandFlags.Write | CommandFlags.Fast, GetDel, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("GETSET", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, GetSet, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("MGET", -2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, MGet, 1, -1, 1, ["read", "string", "fast"]);
        table.Add("MSET", -3, CommandFlags.Write | CommandFlags.DenyOom, MSet, 1, -1, 2, ["write", "string", "slow"]);
        table.Add("MSETNX", -3, CommandFlags.Write | CommandFlags.DenyOom, MSetNx, 1, -1, 2, ["write", "string", "slow"]);
        table.Add("APPEND", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Append, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("STRLEN", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, StrLen, 1, 1, 1, ["read", "string", "fast"]);
        table.Add("GETRANGE", 4, CommandFlags.ReadOnly | CommandFlags.KeyReadsOnly, GetRange, 1, 1, 1, ["read", "string", "slow"]);
        table.Add("SUBSTR", 4, CommandFlags.ReadOnly | CommandFlags.KeyReadsOnly, GetRange, 1, 1, 1, ["read", "string", "slow"]);
        table.Add("SETRANGE", 4, CommandFlags.Write | CommandFlags.DenyOom, SetRange, 1, 1, 1, ["write", "string", "slow"]);
    }

    private static void Get(CommandContext context, RespArgs args)
    {
        switch (StringRecords.Read(context, args[1], countStats: true, out _))
        {
            case ReadResult.Found: context.WriteBulk(context.Scratch.WrittenSpan); break;
            case ReadResult.Missing: context.WriteNull(); break;
            default: context.WriteWrongType(); break;
        }
    }

    private static void GetDel(CommandContext context, RespArgs args)
    {
        switch (StringRecords.Read(context, args[1], countStats: true, out _))
        {
            case ReadResult.Found:
                context.WriteBulk(context.Scratch.WrittenSpan);
                context.Session.Delete(context.Db, args[1]);
                context.Notify(KeyspaceEventClass.Generic, "del"u8, args[1]);
                context.PropagateAs(Server.Propagation.DeleteCommand(context.Server.Config.LazyfreeLazyUserDel), args[1].ToArray());
                break;
            case ReadResult.Missing: context.WriteNull(); break;
            default: context.WriteWrongType(); break;
        }
    }

    // Redis: the old value (or null) is the reply, WRONGTYPE aborts, and the new value has no expiry.
    private static void GetSet(CommandContext context, RespArgs args)
    {
        if (!TypedRecords.FitsRecord(context, args[1], args[2].Length))
        {
            return;
        }

        switch (StringRecords.Read(context, args[1], countStats: true, out _))
        {
            case ReadResult.Found: context.WriteBulk(context.Scratch.WrittenSpan); break;
            case ReadResult.Missing: context.WriteNull(); break;
            default: context.WriteWrongType(); return;
        }

        context.Session.Write(context.Db, args[1], RecordType.String, args[2], 0);
        context.Notify(KeyspaceEventClass.String, "set"u8, args[1]);
        context.PropagateAs("SET"u8.ToArray(), args[1].ToArray(), args[2].ToArray());
    }

    // Redis: a missing key and a key of another type both read as null; MGET never replies WRONGTYPE.
    private static void MGet(CommandContext context, RespArgs args)
    {
        context.WriteArrayHeader(args.Count - 1);
        for (int i = 1; i < args.Count; i++)
        {
            context.Scratch.ResetWrittenCount();
            if (StringRecords.Read(context, args[i], countStats: true, out _) == ReadResult.Found)
            {
                context.WriteBulk(context.Scratch.WrittenSpan);
            }
            else
            {
                context.WriteNull();
            }
        }
    }

    private static void MSet(CommandContext context, RespArgs args)
    {
        if (args.Count % 2 == 0)
        {
            context.WriteArityError("mset");
            return;
        }

        if (AllFit(context, args))
        {
            WriteAll(context, args);
            context.WriteOk();
        }
    }

    // Redis: nothing is written (reply 0) when any key exists, whatever its type.
    private static void MSetNx(CommandContext context, RespArgs args)
    {
        if (args.Count % 2 == 0)
        {
            context.WriteArityError("msetnx");
            return;
        }

        for (int i = 1; i < args.Count; i += 2)
        {
            if (context.Session.TryRead(context.Db, args[i], null, out _))
            {
                context.WriteInteger(0);
                return;
            }
        }

        if (AllFit(context, args))
        {
            WriteAll(context, args);
            context.WriteInteger(1);
        }
    }

    // Checked before the first write, so an oversized pair leaves every key untouched.
    private static bool AllFit(CommandContext context, RespArgs args)
    {
        for (int i = 1; i < args.Count; i += 2)
        {
            if (!TypedRecords.FitsRecord(context, args[i], args[i + 1].Length))
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteAll(CommandContext context, RespArgs args)
    {
        for (int i = 1; i < args.Count; i += 2)
        {
            context.Session.Write(context.Db, args[i], RecordType.String, args[i + 1], 0);
            context.Notify(KeyspaceEventClass.String, "set"u8, args[i]);
        }
    }

    // Redis: appending keeps the key's expiry; a new key is created without one.
    private static void Append(CommandContext context, RespArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        ReadOnlySpan<byte> tail = args[2];
        switch (StringRecords.Read(context, key, countStats: false, out StoredRecord record))
        {
            case ReadResult.Missing:
                if (TypedRecords.FitsRecord(context, key, tail.Length))
                {
                    context.Session.Write(context.Db, key, RecordType.String, tail, 0);
                    context.Notify(KeyspaceEventClass.String, "append"u8, key);
                    context.WriteInteger(tail.Length);
                }

                break;
            case ReadResult.Found:
                if (StringRecords.CheckLength(context, key, (long)record.Length + tail.Length))
                {
                    context.Scratch.Write(tail);
                    context.Session.Write(context.Db, key, RecordType.String, context.Scratch.WrittenSpan, record.ExpiresAtMs);
                    context.Notify(KeyspaceEventClass.String, "append"u8, key);
                    context.WriteInteger(context.Scratch.WrittenCount);
                }

                break;
            default: context.WriteWrongType(); break;
        }
    }

    private static void StrLen(CommandContext context, RespArgs args)
    {
        if (!context.Session.TryRead(context.Db, args[1], null, out StoredRecord record))
        {
            Interlocked.Increment(ref context.Server.Stats.KeyspaceMisses);
            context.WriteInteger(0);
            return;
        }

        Interlocked.Increment(ref context.Server.Stats.KeyspaceHits);
        if (record.Type != RecordType.String)
        {
            context.WriteWrongType();
            return;
        }

        context.WriteInteger(record.Length);
    }

    /// <summary>Redis getrangeCommand (7.0): both indexes are parsed before the key is read; a missing key is the empty string.</summary>
    private static void GetRange(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[2], out long start) || !RedisNumber.TryParseInt64(args[3], out long end))
        {
            context.WriteNotInteger();
            return;
        }

        switch (StringRecords.Read(context, args[1], countStats: true, out _))
        {
            case ReadResult.Missing: context.WriteBulk(ReadOnlySpan<byte>.Empty); return;
            case ReadResult.WrongType: context.WriteWrongType(); return;
        }

        ReadOnlySpan<byte> value = context.Scratch.WrittenSpan;
        long length = value.Length;
        if (start < 0 && end < 0 && start > end)
        {
            context.WriteBulk(ReadOnlySpan<byte>.Empty);
            return;
        }

        start = start < 0 ? Math.Max(0, length + start) : start;
        end = end < 0 ? Math.Max(0, length + end) : end;
        end = Math.Min(end, length - 1);
        if (start > end || length == 0)
        {
            context.WriteBulk(ReadOnlySpan<byte>.Empty);
            return;
        }

        context.WriteBulk(value.Slice((int)start, (int)(end - start + 1)));
    }

    /// <summary>
    /// Redis setrangeCommand: the offset is checked before the key; an empty value writes nothing and replies the
    /// current length (0 for a missing key, which is not created); the gap up to the offset is zero bytes; the
    /// expiry is kept.
    /// </summary>
    private static void SetRange(CommandContext context, RespArgs args)
    {
        ReadOnlySpan<byte> key = args[1];
        ReadOnlySpan<byte> value = args[3];
        if (!RedisNumber.TryParseInt64(args[2], out long offset))
        {
            context.WriteNotInteger();
            return;
        }

        if (offset < 0)
        {
            context.WriteError(RespErrors.OffsetOutOfRange);
            return;
        }

        ReadResult read = StringRecords.Read(context, key, countStats: false, out StoredRecord record);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (value.IsEmpty)
        {
            context.WriteInteger(read == ReadResult.Found ? record.Length : 0);
            return;
        }

        long end = offset > long.MaxValue - value.Length ? long.MaxValue : offset + value.Length;
        if (!StringRecords.CheckLength(context, key, end))
        {
            return;
        }

        ReadOnlySpan<byte> old = context.Scratch.WrittenSpan;
        int length = (int)Math.Max(old.Length, end);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        Span<byte> result = buffer.AsSpan(0, length);
        old.CopyTo(result);
        result[old.Length..].Clear();
        value.CopyTo(result[(int)offset..]);
        context.Session.Write(context.Db, key, RecordType.String, result, read == ReadResult.Found ? record.ExpiresAtMs : 0);
        ArrayPool<byte>.Shared.Return(buffer);
        context.Notify(KeyspaceEventClass.String, "setrange"u8, key);
        context.WriteInteger(length);
    }
}
