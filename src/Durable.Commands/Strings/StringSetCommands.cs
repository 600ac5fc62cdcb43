using Durable.Commands.PubSub;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Strings;

/// <summary>The SET family: SET (every option), SETNX, SETEX, PSETEX, and GETEX, which shares SET's option parser.</summary>
internal static class StringSetCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("SET", -3, CommandFlags.Write | CommandFlags.DenyOom, Set, 1, 1, 1, ["write", "string", "slow"]);
        table.Add("SETNX", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, SetNx, 1, 1, 1, ["write", "string", "fast"]);
        table.Add("SETEX", 4, CommandFlags.Write | CommandFlags.DenyOom, SetEx, 1, 1, 1, ["write", "string", "slow"]);
        table.Add("PSETEX", 4, CommandFlags.Write | CommandFlags.DenyOom, PSetEx, 1, 1, 1, ["write", "string", "slow"]);
        table.Add("GETEX", -2, CommandFlags.Write | CommandFlags.Fast, GetEx, 1, 1, 1, ["write", "string", "fast"]);
    }

    private static void Set(CommandContext context, RespArgs args)
    {
        if (!SetOptions.TryParse(args, forSet: true, out SetOptions options))
        {
            context.WriteSyntaxError();
            return;
        }

        long expiresAtMs = 0;
        if (options.ExpireIndex != 0 && !options.TryGetExpiresAtMs(context, args, "set", out expiresAtMs))
        {
            return;
        }

        if (SetGeneric(context, args[1], args[2], options.Flags, expiresAtMs, integerReply: false) && expiresAtMs == 0 && options.Has(SetFlags.Get))
        {
            // Redis: replicas get the SET without its GET (the old value is not theirs to reply with).
            List<byte[]> propagated = [];
            for (int i = 0; i < args.Count; i++)
            {
                if (i < 3 || !args.Is(i, "GET"u8))
                {
                    propagated.Add(args[i].ToArray());
                }
            }

            context.PropagateAs([.. propagated]);
        }
    }

    /// <summary>SETNX without its reply's meaning: writes <paramref name="value"/> unless the key exists (DEBUG POPULATE).</summary>
    internal static bool SetIfAbsent(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        SetGeneric(context, key, value, SetFlags.Nx, 0, integerReply: true);

    private static void SetNx(CommandContext context, RespArgs args) =>
        _ = SetGeneric(context, args[1], args[2], SetFlags.Nx, 0, integerReply: true);

    private static void SetEx(CommandContext context, RespArgs args)
    {
        if (SetOptions.TryGetExpiresAtMs(context, args[2], seconds: true, relative: true, "setex", out long expiresAtMs))
        {
            _ = SetGeneric(context, args[1], args[3], SetFlags.Ex, expiresAtMs, integerReply: false);
        }
    }

    private static void PSetEx(CommandContext context, RespArgs args)
    {
        if (SetOptions.TryGetExpiresAtMs(context, args[2], seconds: false, relative: true, "psetex", out long expiresAtMs))
        {
            _ = SetGeneric(context, args[1], args[3], SetFlags.Px, expiresAtMs, integerReply: false);
        }
    }

    /// <summary>
    /// Redis setGenericCommand, after the expire time was validated: with GET the old value (or WRONGTYPE, which
    /// aborts) is the reply; NX/XX decide whether to write; KEEPTTL keeps the old expiry. Replies +OK / null, or
    /// :1 / :0 for SETNX; with GET nothing more is written. Returns whether it wrote; one with an expiry reaches replicas
    /// as <c>SET key value PXAT ms</c>, as Redis propagates it.
    /// </summary>
    private static bool SetGeneric(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, SetFlags flags, long expiresAtMs, bool integerReply)
    {
        if (!TypedRecords.FitsRecord(context, key, value.Length))
        {
            return false;
        }

        bool withGet = (flags & SetFlags.Get) != 0;
        bool found;
        StoredRecord record;
        if (withGet)
        {
            ReadResult read = StringRecords.Read(context, key, countStats: true, out record);
            if (read == ReadResult.WrongType)
            {
                context.WriteWrongType();
                return false;
            }

            found = read == ReadResult.Found;
            if (found)
            {
                context.WriteBulk(context.Scratch.WrittenSpan);
            }
            else
            {
                context.WriteNull();
            }
        }
        else if ((flags & (SetFlags.Nx | SetFlags.Xx | SetFlags.KeepTtl)) != 0)
        {
            found = context.Session.TryRead(context.Db, key, null, out record);
        }
        else
        {
            // A plain SET needs nothing from the old record: skip the read, which could go to disk for a cold key.
            found = false;
            record = default;
        }

        if (((flags & SetFlags.Nx) != 0 && found) || ((flags & SetFlags.Xx) != 0 && !found))
        {
            if (withGet)
            {
                return false;
            }

            if (integerReply)
            {
                context.WriteInteger(0);
            }
            else
            {
                context.WriteNull();
            }

            return false;
        }

        long expiry = (flags & SetFlags.KeepTtl) != 0 && found ? record.ExpiresAtMs : expiresAtMs;
        context.Session.Write(context.Db, key, RecordType.String, value, expiry);
        context.Notify(KeyspaceEventClass.String, "set"u8, key);
        if (expiresAtMs != 0)
        {
            context.Notify(KeyspaceEventClass.Generic, "expire"u8, key);
            context.PropagateAs("SET"u8.ToArray(), key.ToArray(), value.ToArray(), "PXAT"u8.ToArray(), Server.Propagation.Number(expiresAtMs));
        }

        if (withGet)
        {
            return true;
        }

        if (integerReply)
        {
            context.WriteInteger(1);
        }
        else
        {
            context.WriteOk();
        }

        return true;
    }

    /// <summary>
    /// Redis getexCommand: options are checked first, then the key (null when missing, WRONGTYPE), then the expire
    /// time; the value is the reply. EXAT/PXAT in the past delete the key; PERSIST drops the expiry.
    /// </summary>
    private static void GetEx(CommandContext context, RespArgs args)
    {
        if (!SetOptions.TryParse(args, forSet: false, out SetOptions options))
        {
            context.WriteSyntaxError();
            return;
        }

        ReadResult read = StringRecords.Read(context, args[1], countStats: true, out StoredRecord record);
        if (read == ReadResult.Missing)
        {
            context.WriteNull();
            return;
        }

        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        long expiresAtMs = 0;
        if (options.ExpireIndex != 0 && !options.TryGetExpiresAtMs(context, args, "getex", out expiresAtMs))
        {
            return;
        }

        ReadOnlySpan<byte> value = context.Scratch.WrittenSpan;
        context.WriteBulk(value);
        if (options.Has(SetFlags.ExAt | SetFlags.PxAt) && expiresAtMs <= context.NowMs)
        {
            context.Session.Delete(context.Db, args[1]);
            context.Notify(KeyspaceEventClass.Generic, "del"u8, args[1]);
            context.PropagateAs(Server.Propagation.DeleteCommand(context.Server.Config.LazyfreeLazyExpire), args[1].ToArray());
        }
        else if (options.ExpireIndex != 0)
        {
            // Only the header changes: the value is neither rewritten nor logged again.
            context.Session.TrySetExpiry(context.Db, args[1], expiresAtMs);
            context.Notify(KeyspaceEventClass.Generic, "expire"u8, args[1]);
            context.PropagateAs("PEXPIREAT"u8.ToArray(), args[1].ToArray(), Server.Propagation.Number(expiresAtMs));
        }
        else if (options.Has(SetFlags.Persist) && record.ExpiresAtMs != 0)
        {
            context.Session.TrySetExpiry(context.Db, args[1], 0);
            context.Notify(KeyspaceEventClass.Generic, "persist"u8, args[1]);
            context.PropagateAs("PERSIST"u8.ToArray(), args[1].ToArray());
        }
    }
}
