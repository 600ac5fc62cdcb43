using Durable.Commands.PubSub;
using Durable.Commands.Collections;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>
/// Generic key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX, COPY, MOVE, RANDOMKEY.
/// Records keep their type and absolute expiry when renamed, copied or moved.
/// </summary>
internal static class KeyCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("DEL", -2, CommandFlags.Write, Del, 1, -1, 1, ["keyspace", "write", "slow"]);
        table.Add("UNLINK", -2, CommandFlags.Write | CommandFlags.Fast, Unlink, 1, -1, 1, ["keyspace", "write", "fast"]);
        table.Add("EXISTS", -2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, Exists, 1, -1, 1, ["keyspace", "read", "fast"]);
        table.Add("TOUCH", -2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, Exists, 1, -1, 1, ["keyspace", "read", "fast"]);
        table.Add("TYPE", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, Type, 1, 1, 1, ["keyspace", "read", "fast"]);
        table.Add("RENAME", 3, CommandFlags.Write, Rename, 1, 2, 1, ["keyspace", "write", "slow"]);
        table.Add("RENAMENX", 3, CommandFlags.Write | CommandFlags.Fast, RenameNx, 1, 2, 1, ["keyspace", "write", "fast"]);
        table.Add("COPY", -3, CommandFlags.Write | CommandFlags.DenyOom, Copy, 1, 2, 1, ["keyspace", "write", "slow"]);
        table.Add("MOVE", 3, CommandFlags.Write | CommandFlags.Fast, Move, 1, 1, 1, ["keyspace", "write", "fast"]);
        table.Add("RANDOMKEY", 1, CommandFlags.ReadOnly, RandomKey, categories: ["keyspace", "read", "slow"]);
    }

    // DEL deletes a large collection's parts before it replies (unless lazyfree-lazy-user-del says otherwise), as Redis
    // frees the value; UNLINK leaves them to the store's background reaper.
    private static void Del(CommandContext context, RespArgs args) => Delete(context, args, context.Server.Config.LazyfreeLazyUserDel);

    private static void Unlink(CommandContext context, RespArgs args) => Delete(context, args, lazyFree: true);

    private static void Delete(CommandContext context, RespArgs args, bool lazyFree)
    {
        long deleted = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (lazyFree ? context.Session.Unlink(context.Db, args[i]) : context.Session.Delete(context.Db, args[i]))
            {
                context.Notify(KeyspaceEventClass.Generic, "del"u8, args[i]);
                deleted++;
            }
        }

        context.WriteInteger(deleted);
    }

    // EXISTS and TOUCH: TOUCH only updates access times in Redis, and Durable keeps none (see OBJECT IDLETIME).
    private static void Exists(CommandContext context, RespArgs args)
    {
        long found = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (context.Session.TryRead(context.Db, args[i], null, out StoredRecord _))
            {
                found++;
            }
        }

        context.WriteInteger(found);
    }

    private static void Type(CommandContext context, RespArgs args)
    {
        bool found = context.Session.TryRead(context.Db, args[1], null, out StoredRecord record);
        context.WriteSimple(found ? KeyTypeNames.Of(record.Type) : "none"u8);
    }

    private static void Rename(CommandContext context, RespArgs args) => RenameGeneric(context, args, onlyIfAbsent: false);

    private static void RenameNx(CommandContext context, RespArgs args) => RenameGeneric(context, args, onlyIfAbsent: true);

    private static void RenameGeneric(CommandContext context, RespArgs args, bool onlyIfAbsent)
    {
        ReadOnlySpan<byte> source = args[1];
        ReadOnlySpan<byte> destination = args[2];
        // Redis: a missing source is an error even when source and destination are the same key.
        if (!context.Session.TryRead(context.Db, source, context.Scratch, out StoredRecord record))
        {
            context.WriteError(RespErrors.NoSuchKey);
            return;
        }

        if (source.SequenceEqual(destination))
        {
            WriteRenameResult(context, onlyIfAbsent, renamed: false);
            return;
        }

        if (onlyIfAbsent && context.Session.TryRead(context.Db, destination, null, out StoredRecord _))
        {
            context.WriteInteger(0);
            return;
        }

        // The record moves with its parts (a large collection's members): only the key changes.
        if (!context.Session.Write(context.Db, destination, record.Type, context.Scratch.WrittenSpan, record.ExpiresAtMs))
        {
            // Redis deletes an existing destination and adds the key anew: a "new" event even so (the store reports the
            // keys it creates).
            context.Notify(KeyspaceEventClass.New, "new"u8, destination);
        }

        context.Session.DeleteKeepingParts(context.Db, source);
        context.Notify(KeyspaceEventClass.Generic, "rename_from"u8, source);
        context.Notify(KeyspaceEventClass.Generic, "rename_to"u8, destination);
        WriteRenameResult(context, onlyIfAbsent, renamed: true);
    }

    private static void WriteRenameResult(CommandContext context, bool onlyIfAbsent, bool renamed)
    {
        if (onlyIfAbsent)
        {
            context.WriteInteger(renamed ? 1 : 0);
        }
        else
        {
            context.WriteOk();
        }
    }

    private static void Copy(CommandContext context, RespArgs args)
    {
        bool replace = false;
        int targetDb = context.Db;
        for (int i = 3; i < args.Count; i++)
        {
            if (args.Is(i, "REPLACE"u8))
            {
                replace = true;
            }
            else if (args.Is(i, "DB"u8) && i + 1 < args.Count)
            {
                if (!TryParseDb(context, args[++i], out targetDb))
                {
                    return;
                }
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        ReadOnlySpan<byte> source = args[1];
        ReadOnlySpan<byte> destination = args[2];
        if (targetDb == context.Db && source.SequenceEqual(destination))
        {
            context.WriteError(RespErrors.SourceDestinationSame);
            return;
        }

        if (!context.Session.TryRead(context.Db, source, context.Scratch, out StoredRecord record))
        {
            context.WriteInteger(0);
            return;
        }

        if (!replace && context.Session.TryRead(targetDb, destination, null, out StoredRecord _))
        {
            context.WriteInteger(0);
            return;
        }

        byte[] payload = CollectionParts.CopyParts(context, record.Type, context.Scratch.WrittenSpan);
        if (!context.Session.Write(targetDb, destination, record.Type, payload, record.ExpiresAtMs))
        {
            // REPLACE: as RENAME, Redis deletes the old destination and adds the copy anew.
            context.Notify(KeyspaceEventClass.New, "new"u8, destination, targetDb);
        }

        TouchInOtherDb(context, targetDb, destination);
        context.Notify(KeyspaceEventClass.Generic, "copy_to"u8, destination, targetDb);
        context.WriteInteger(1);
    }

    private static void Move(CommandContext context, RespArgs args)
    {
        if (!TryParseDb(context, args[2], out int targetDb))
        {
            return;
        }

        if (targetDb == context.Db)
        {
            context.WriteError(RespErrors.SourceDestinationSame);
            return;
        }

        ReadOnlySpan<byte> key = args[1];
        if (!context.Session.TryRead(context.Db, key, context.Scratch, out StoredRecord record)
            || context.Session.TryRead(targetDb, key, null, out StoredRecord _))
        {
            context.WriteInteger(0);
            return;
        }

        context.Session.Write(targetDb, key, record.Type, context.Scratch.WrittenSpan, record.ExpiresAtMs);
        context.Session.DeleteKeepingParts(context.Db, key);
        TouchInOtherDb(context, targetDb, key);
        context.Notify(KeyspaceEventClass.Generic, "move_from"u8, key);
        context.Notify(KeyspaceEventClass.Generic, "move_to"u8, key, targetDb);
        context.WriteInteger(1);
    }

    // The dispatcher marks watched keys in the connection's database; a key written in another one is marked here.
    private static void TouchInOtherDb(CommandContext context, int db, ReadOnlySpan<byte> key)
    {
        if (db != context.Db && context.Server.Watches.Any)
        {
            context.Server.Watches.Touch(db, key);
        }
    }

    // Redis getIntFromObjectOrReply, then selectDb: not an integer, not an int, not a database.
    private static bool TryParseDb(CommandContext context, ReadOnlySpan<byte> text, out int db)
    {
        db = 0;
        if (!RedisNumber.TryParseInt64(text, out long value))
        {
            context.WriteNotInteger();
            return false;
        }

        if (value is < int.MinValue or > int.MaxValue)
        {
            context.WriteError(RespErrors.IntOutOfRange);
            return false;
        }

        if (value < 0 || value >= context.Store.Databases)
        {
            context.WriteError(RespErrors.DbIndexOutOfRange);
            return false;
        }

        db = (int)value;
        return true;
    }

    private static void RandomKey(CommandContext context, RespArgs args)
    {
        if (context.Session.TryGetRandomKey(context.Db, context.Scratch))
        {
            context.WriteBulk(context.Scratch.WrittenSpan);
        }
        else
        {
            context.WriteNull();
        }
    }
}
