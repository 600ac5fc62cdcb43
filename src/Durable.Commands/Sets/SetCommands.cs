using Durable.Commands.PubSub;
using Durable.Protocol;

namespace Durable.Commands.Sets;

/// <summary>
/// SADD, SREM, SISMEMBER, SMISMEMBER, SMEMBERS, SCARD, SMOVE; registers the other set families too. A set lives whole
/// in its key's record (<see cref="SetMembers"/>); changing it keeps the key's expiry, as Redis's in-place updates do.
/// </summary>
internal static class SetCommands
{
    public static void Register(CommandTable table)
    {
        const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.Fast;
        const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;
        table.Add("SADD", -3, WriteFast | CommandFlags.DenyOom, SAdd, 1, 1, 1, ["write", "set", "fast"]).Warm = WarmMembers;
        table.Add("SREM", -3, WriteFast, SRem, 1, 1, 1, ["write", "set", "fast"]).Warm = WarmMembers;
        table.Add("SISMEMBER", 3, ReadFast, SIsMember, 1, 1, 1, ["read", "set", "fast"]).Warm = WarmMembers;
        table.Add("SMISMEMBER", -3, ReadFast, SMIsMember, 1, 1, 1, ["read", "set", "fast"]).Warm = WarmMembers;
        table.Add("SMEMBERS", 2, CommandFlags.ReadOnly, SMembers, 1, 1, 1, ["read", "set", "slow"]);
        table.Add("SCARD", 2, ReadFast, SCard, 1, 1, 1, ["read", "set", "fast"]);
        table.Add("SMOVE", 4, WriteFast, SMove, 1, 2, 1, ["write", "set", "fast"]);
        SetRandomCommands.Register(table);
        SetAlgebraCommands.Register(table);
        SetScanCommands.Register(table);
    }

    // Warming (CommandDefinition.Warm): the buckets of the members from args[2] on.
    private static void WarmMembers(CommandContext context, RespArgs args)
    {
        if (SetRecords.Read(context, args[1], countStats: false, out SetMembers set, out _) != ReadResult.Found)
        {
            return;
        }

        for (int i = 2; i < args.Count; i++)
        {
            set.Contains(args[i]);
        }
    }

    private static void SAdd(CommandContext context, RespArgs args) => AddOrRemove(context, args, add: true);

    private static void SRem(CommandContext context, RespArgs args) => AddOrRemove(context, args, add: false);

    /// <summary>SADD and SREM: the number of members added or removed; the record is written only when that is not 0.</summary>
    private static void AddOrRemove(CommandContext context, RespArgs args, bool add)
    {
        ReadOnlySpan<byte> key = args[1];
        if (!SetRecords.ReadForUpdate(context, key, out SetMembers set, out _, out long expiresAtMs))
        {
            return;
        }

        int changed = 0;
        for (int i = 2; i < args.Count; i++)
        {
            changed += (add ? set.Add(args[i]) : set.Remove(args[i])) ? 1 : 0;
        }

        if (changed > 0)
        {
            if (!SetRecords.Save(context, key, set, expiresAtMs))
            {
                return;
            }

            SetRecords.Notify(context, key, add ? "sadd"u8 : "srem"u8, set.Count);
        }

        context.WriteInteger(changed);
    }

    private static void SIsMember(CommandContext context, RespArgs args)
    {
        if (SetRecords.ReadForReply(context, args[1]) is { } set)
        {
            context.WriteInteger(set.Contains(args[2]) ? 1 : 0);
        }
    }

    private static void SMIsMember(CommandContext context, RespArgs args)
    {
        if (SetRecords.ReadForReply(context, args[1]) is not { } set)
        {
            return;
        }

        context.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            context.WriteInteger(set.Contains(args[i]) ? 1 : 0);
        }
    }

    // Redis 7.0 runs SMEMBERS as SINTER of the one key.
    private static void SMembers(CommandContext context, RespArgs args)
    {
        if (SetRecords.ReadForReply(context, args[1]) is { } set)
        {
            SetRecords.WriteMembers(context, set.Items);
        }
    }

    private static void SCard(CommandContext context, RespArgs args)
    {
        if (SetRecords.ReadForReply(context, args[1]) is { } set)
        {
            context.WriteInteger(set.Count);
        }
    }

    /// <summary>
    /// Redis smoveCommand: a missing source answers 0 before any type check; then WRONGTYPE for either key; the same
    /// key for both answers whether the member is there; else the member moves (the source key goes when emptied).
    /// </summary>
    private static void SMove(CommandContext context, RespArgs args)
    {
        ReadOnlySpan<byte> source = args[1];
        ReadOnlySpan<byte> destination = args[2];
        ReadOnlySpan<byte> member = args[3];
        ReadResult sourceRead = SetRecords.Read(context, source, countStats: false, out SetMembers sourceSet, out Storage.StoredRecord sourceRecord);
        ReadResult destinationRead = SetRecords.Read(context, destination, countStats: false, out SetMembers destinationSet, out Storage.StoredRecord destinationRecord);
        if (sourceRead == ReadResult.Missing)
        {
            context.WriteInteger(0);
            return;
        }

        if (sourceRead == ReadResult.WrongType || destinationRead == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (source.SequenceEqual(destination))
        {
            context.WriteInteger(sourceSet.Contains(member) ? 1 : 0);
            return;
        }

        if (!sourceSet.Remove(member))
        {
            context.WriteInteger(0);
            return;
        }

        // An existing destination first: it is the record that may grow past the limit, and then nothing has been
        // written. A new one (a single member, within every limit) after the source, so that its "new" event follows
        // the source's "srem" as in Redis.
        bool added = destinationSet.Add(member);
        bool destinationExists = destinationRead == ReadResult.Found;
        if (added && destinationExists && !SetRecords.Save(context, destination, destinationSet, destinationRecord.ExpiresAtMs))
        {
            return;
        }

        SetRecords.Save(context, source, sourceSet, sourceRecord.ExpiresAtMs);
        SetRecords.Notify(context, source, "srem"u8, sourceSet.Count);
        if (!destinationExists && !SetRecords.Save(context, destination, destinationSet, 0))
        {
            return;
        }

        if (added)
        {
            context.Notify(KeyspaceEventClass.Set, "sadd"u8, destination);
        }

        context.WriteInteger(1);
    }
}
