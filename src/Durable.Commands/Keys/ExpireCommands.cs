using Durable.Commands.PubSub;
using System.Buffers;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>
/// Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX, XX, GT, LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
/// Expiries are stored as absolute Unix milliseconds; a time not in the future deletes the key, as in Redis.
/// </summary>
internal static class ExpireCommands
{
    public static void Register(CommandTable table)
    {
        string[] write = ["keyspace", "write", "fast"];
        string[] read = ["keyspace", "read", "fast"];
        table.Add("EXPIRE", -3, CommandFlags.Write | CommandFlags.Fast, Expire, 1, 1, 1, write);
        table.Add("PEXPIRE", -3, CommandFlags.Write | CommandFlags.Fast, PExpire, 1, 1, 1, write);
        table.Add("EXPIREAT", -3, CommandFlags.Write | CommandFlags.Fast, ExpireAt, 1, 1, 1, write);
        table.Add("PEXPIREAT", -3, CommandFlags.Write | CommandFlags.Fast, PExpireAt, 1, 1, 1, write);
        table.Add("PERSIST", 2, CommandFlags.Write | CommandFlags.Fast, Persist, 1, 1, 1, write);
        table.Add("TTL", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, Ttl, 1, 1, 1, read);
        table.Add("PTTL", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, PTtl, 1, 1, 1, read);
        table.Add("EXPIRETIME", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, ExpireTime, 1, 1, 1, read);
        table.Add("PEXPIRETIME", 2, CommandFlags.ReadOnly | CommandFlags.Fast | CommandFlags.KeyReadsOnly, PExpireTime, 1, 1, 1, read);
    }

    private static void Expire(CommandContext context, RespArgs args) => ExpireGeneric(context, args, "expire", relative: true, inSeconds: true);

    private static void PExpire(CommandContext context, RespArgs args) => ExpireGeneric(context, args, "pexpire", relative: true, inSeconds: false);

    private static void ExpireAt(CommandContext context, RespArgs args) => ExpireGeneric(context, args, "expireat", relative: false, inSeconds: true);

    private static void PExpireAt(CommandContext context, RespArgs args) => ExpireGeneric(context, args, "pexpireat", relative: false, inSeconds: false);

    /// <summary>Redis expireGenericCommand: options first, then the time (with overflow checks), then the key.</summary>
    private static void ExpireGeneric(CommandContext context, RespArgs args, string name, bool relative, bool inSeconds)
    {
        if (!TryParseConditions(context, args, out Conditions conditions))
        {
            return;
        }

        if (!RedisNumber.TryParseInt64(args[2], out long when))
        {
            context.WriteNotInteger();
            return;
        }

        if (inSeconds)
        {
            if (when is > long.MaxValue / 1000 or < long.MinValue / 1000)
            {
                WriteInvalidExpireTime(context, name);
                return;
            }

            when *= 1000;
        }

        long now = context.NowMs;
        long baseTime = relative ? now : 0;
        if (when > long.MaxValue - baseTime)
        {
            WriteInvalidExpireTime(context, name);
            return;
        }

        when += baseTime;
        if (!context.Session.TryRead(context.Db, args[1], null, out StoredRecord record))
        {
            context.WriteInteger(0);
            return;
        }

        // Redis's "current expire": -1 for none, which GT treats as infinite and LT as passing.
        long current = record.ExpiresAtMs == 0 ? -1 : record.ExpiresAtMs;
        bool refused =
            ((conditions & Conditions.Nx) != 0 && current != -1) ||
            ((conditions & Conditions.Xx) != 0 && current == -1) ||
            ((conditions & Conditions.Gt) != 0 && (current == -1 || when <= current)) ||
            ((conditions & Conditions.Lt) != 0 && current != -1 && when >= current);
        if (refused)
        {
            context.WriteInteger(0);
            return;
        }

        if (when <= now)
        {
            context.Session.Delete(context.Db, args[1]);
            context.Notify(KeyspaceEventClass.Generic, "del"u8, args[1]);
            context.WriteInteger(1);
            context.PropagateAs(Server.Propagation.DeleteCommand(context.Server.Config.LazyfreeLazyExpire), args[1].ToArray());
            return;
        }

        // False only if the key expired since it was read: it is gone either way.
        if (!context.Session.TrySetExpiry(context.Db, args[1], when))
        {
            context.WriteInteger(0);
            return;
        }

        context.Notify(KeyspaceEventClass.Generic, "expire"u8, args[1]);
        context.WriteInteger(1);

        // Redis: replicas get PEXPIREAT with the time it falls on (the conditions stay; they decide the same there).
        byte[][] propagated = Server.Propagation.Copy(args);
        propagated[0] = "PEXPIREAT"u8.ToArray();
        propagated[2] = Server.Propagation.Number(when);
        context.PropagateAs(propagated);
    }

    /// <summary>Redis parseExtendedExpireArgumentsOrReply: every argument after the time is NX, XX, GT or LT, any case, repeats allowed.</summary>
    private static bool TryParseConditions(CommandContext context, RespArgs args, out Conditions conditions)
    {
        conditions = Conditions.None;
        for (int i = 3; i < args.Count; i++)
        {
            if (args.Is(i, "NX"u8))
            {
                conditions |= Conditions.Nx;
            }
            else if (args.Is(i, "XX"u8))
            {
                conditions |= Conditions.Xx;
            }
            else if (args.Is(i, "GT"u8))
            {
                conditions |= Conditions.Gt;
            }
            else if (args.Is(i, "LT"u8))
            {
                conditions |= Conditions.Lt;
            }
            else
            {
                WriteUnsupportedOption(context, args[i]);
                return false;
            }
        }

        if ((conditions & Conditions.Nx) != 0 && (conditions & (Conditions.Xx | Conditions.Gt | Conditions.Lt)) != 0)
        {
            context.WriteError(RespErrors.ExpireNxWithOthers);
            return false;
        }

        if ((conditions & (Conditions.Gt | Conditions.Lt)) == (Conditions.Gt | Conditions.Lt))
        {
            context.WriteError(RespErrors.ExpireGtAndLt);
            return false;
        }

        return true;
    }

    // Redis: "Unsupported option %s" prints the option as a C string (up to a NUL byte), trims CR and LF off the end
    // of the message and turns the remaining ones into spaces.
    private static void WriteUnsupportedOption(CommandContext context, ReadOnlySpan<byte> option)
    {
        int nul = option.IndexOf((byte)0);
        if (nul >= 0)
        {
            option = option[..nul];
        }

        option = option.TrimEnd("\r\n"u8);

        context.Scratch.Write(RespErrors.UnsupportedOptionPrefix);
        Span<byte> text = context.Scratch.GetSpan(option.Length)[..option.Length];
        option.CopyTo(text);
        text.Replace((byte)'\r', (byte)' ');
        text.Replace((byte)'\n', (byte)' ');
        context.Scratch.Advance(option.Length);
        context.WriteError(context.Scratch.WrittenSpan);
    }

    private static void WriteInvalidExpireTime(CommandContext context, string name) =>
        context.WriteError(System.Text.Encoding.ASCII.GetString(RespErrors.InvalidExpireTime).Replace("{0}", name, StringComparison.Ordinal));

    private static void Persist(CommandContext context, RespArgs args)
    {
        bool persisted = context.Session.TryRead(context.Db, args[1], null, out StoredRecord record)
            && record.ExpiresAtMs != 0
            && context.Session.TrySetExpiry(context.Db, args[1], 0);
        if (persisted)
        {
            context.Notify(KeyspaceEventClass.Generic, "persist"u8, args[1]);
        }

        context.WriteInteger(persisted ? 1 : 0);
    }

    private static void Ttl(CommandContext context, RespArgs args) => TtlGeneric(context, args, inMilliseconds: false, absolute: false);

    private static void PTtl(CommandContext context, RespArgs args) => TtlGeneric(context, args, inMilliseconds: true, absolute: false);

    private static void ExpireTime(CommandContext context, RespArgs args) => TtlGeneric(context, args, inMilliseconds: false, absolute: true);

    private static void PExpireTime(CommandContext context, RespArgs args) => TtlGeneric(context, args, inMilliseconds: true, absolute: true);

    /// <summary>Redis ttlGenericCommand: -2 no key, -1 no expiry, else the time left (or the absolute time), seconds rounded half up.</summary>
    private static void TtlGeneric(CommandContext context, RespArgs args, bool inMilliseconds, bool absolute)
    {
        if (!context.Session.TryRead(context.Db, args[1], null, out StoredRecord record))
        {
            context.WriteInteger(-2);
            return;
        }

        if (record.ExpiresAtMs == 0)
        {
            context.WriteInteger(-1);
            return;
        }

        long value = Math.Max(0, absolute ? record.ExpiresAtMs : record.ExpiresAtMs - context.NowMs);
        // Redis computes (ms + 500) / 1000; written so that it cannot overflow near long.MaxValue, where Redis's reply is the exact rounding too.
        context.WriteInteger(inMilliseconds ? value : (value / 1000) + (value % 1000 >= 500 ? 1 : 0));
    }

    [Flags]
    private enum Conditions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
    }
}
