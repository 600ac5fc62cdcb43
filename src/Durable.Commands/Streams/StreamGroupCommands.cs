using Durable.Commands.PubSub;
using Durable.Commands.Server;
using Durable.Protocol;

namespace Durable.Commands.Streams;

/// <summary>
/// Consumer groups: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP), XACK, XPENDING, XCLAIM and
/// XAUTOCLAIM, as Redis 7.0.15's t_stream.c (its order of checks, replies and errors). XREADGROUP lives with XREAD.
/// </summary>
internal static class StreamGroupCommands
{
    private static readonly string[] s_writeSlow = ["write", "stream", "slow"];
    private static readonly string[] s_writeFast = ["write", "stream", "fast"];

    public static void Register(CommandTable table)
    {
        table.AddContainer(
            "XGROUP",
            -2,
            CommandFlags.None,
            CommandTable.Sub("CREATE", -5, CommandFlags.Write | CommandFlags.DenyOom, Group, 2, 2, 1, s_writeSlow),
            CommandTable.Sub("SETID", -5, CommandFlags.Write, Group, 2, 2, 1, s_writeSlow),
            CommandTable.Sub("DESTROY", 4, CommandFlags.Write, Group, 2, 2, 1, s_writeSlow),
            CommandTable.Sub("CREATECONSUMER", 5, CommandFlags.Write | CommandFlags.DenyOom, Group, 2, 2, 1, s_writeSlow),
            CommandTable.Sub("DELCONSUMER", 5, CommandFlags.Write, Group, 2, 2, 1, s_writeSlow),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, GroupHelp, categories: ["stream", "slow"]));
        table.Add("XACK", -4, CommandFlags.Write | CommandFlags.Fast, XAck, 1, 1, 1, s_writeFast);
        table.Add("XPENDING", -3, CommandFlags.ReadOnly, XPending, 1, 1, 1, ["read", "stream", "slow"]);
        table.Add("XCLAIM", -6, CommandFlags.Write | CommandFlags.Fast, XClaim, 1, 1, 1, s_writeFast);
        table.Add("XAUTOCLAIM", -6, CommandFlags.Write | CommandFlags.Fast, XAutoClaim, 1, 1, 1, s_writeFast);
    }

    /// <summary>Redis's error for a group that a command needs and the key does not have.</summary>
    public static string NoGroup(ReadOnlySpan<byte> key, ReadOnlySpan<byte> group, string suffix = "") =>
        $"NOGROUP No such key '{Text(key)}' or consumer group '{Text(group)}'{suffix}";

    /// <summary>Redis's error for a group that XGROUP or XINFO CONSUMERS needs and the stream does not have.</summary>
    public static string NoSuchGroup(ReadOnlySpan<byte> key, ReadOnlySpan<byte> group) =>
        $"NOGROUP No such consumer group '{Text(group)}' for key name '{Text(key)}'";

    public static string Text(ReadOnlySpan<byte> bytes) => System.Text.Encoding.Latin1.GetString(bytes);

    // Redis xgroupCommand: one handler for every subcommand, checking in its order.
    private static void Group(CommandContext context, RespArgs args)
    {
        bool create = args.Is(1, "CREATE"u8);
        bool setId = args.Is(1, "SETID"u8);
        bool makeStream = false;
        long entriesRead = StreamGroup.UnknownEntriesRead;
        for (int i = 5; i < args.Count; i++)
        {
            if (create && args.Is(i, "MKSTREAM"u8))
            {
                makeStream = true;
            }
            else if ((create || setId) && args.Is(i, "ENTRIESREAD"u8) && i + 1 < args.Count)
            {
                if (!RedisNumber.TryParseInt64(args[++i], out entriesRead))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (entriesRead < 0 && entriesRead != StreamGroup.UnknownEntriesRead)
                {
                    context.WriteError("ERR value for ENTRIESREAD must be positive or -1"u8);
                    return;
                }
            }
            else
            {
                context.WriteSubcommandSyntaxError(args);
                return;
            }
        }

        ReadResult found = StreamValue.Read(context, args[2], countStats: false, out StreamValue? stream);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        StreamGroup? group = stream?.FindGroup(args[3]);
        if (!makeStream)
        {
            if (stream is null)
            {
                context.WriteError(
                    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."u8);
                return;
            }

            if (group is null && !create && !args.Is(1, "DESTROY"u8))
            {
                context.WriteError(NoSuchGroup(args[2], args[3]));
                return;
            }
        }

        if (create)
        {
            Create(context, args, stream, entriesRead);
        }
        else if (setId)
        {
            SetId(context, args, stream!, group!, entriesRead);
        }
        else if (args.Is(1, "DESTROY"u8))
        {
            if (group is null)
            {
                context.WriteInteger(0);
                return;
            }

            stream!.Groups.Remove(group);
            stream.GroupsChanged();
            if (stream.Save(args[2]))
            {
                context.WriteInteger(1);
                context.Notify(KeyspaceEventClass.Stream, "xgroup-destroy"u8, args[2]);
            }
        }
        else if (args.Is(1, "CREATECONSUMER"u8))
        {
            group!.Consumer(args[4].ToArray(), context.NowMs, out bool created);
            if (created)
            {
                stream!.GroupsChanged();
                if (!stream.Save(args[2]))
                {
                    return;
                }

                context.Notify(KeyspaceEventClass.Stream, "xgroup-createconsumer"u8, args[2]);
            }

            context.WriteInteger(created ? 1 : 0);
        }
        else
        {
            long pending = 0;
            if (group!.Consumers.TryGetValue(args[4].ToArray(), out StreamConsumer? consumer))
            {
                pending = group.DeleteConsumer(consumer);
                stream!.GroupsChanged();
                if (!stream.Save(args[2]))
                {
                    return;
                }

                context.Notify(KeyspaceEventClass.Stream, "xgroup-delconsumer"u8, args[2]);
            }

            context.WriteInteger(pending);
        }
    }

    private static void Create(CommandContext context, RespArgs args, StreamValue? stream, long entriesRead)
    {
        if (args.Count > 8)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        StreamId id;
        if (args[4].SequenceEqual("$"u8))
        {
            id = stream?.LastId ?? StreamId.Min;
        }
        else if (!StreamCommands.TryParseStrictId(context, args[4], out id))
        {
            return;
        }

        stream ??= StreamValue.Create(context);
        if (stream.FindGroup(args[3]) is not null)
        {
            context.WriteError("BUSYGROUP Consumer Group name already exists"u8);
            return;
        }

        StreamGroup group = new(args[3].ToArray(), id, entriesRead);
        int at = stream.Groups.FindIndex(g => g.Name.AsSpan().SequenceCompareTo(group.Name) > 0);
        stream.Groups.Insert(at < 0 ? stream.Groups.Count : at, group);
        stream.GroupsChanged();
        if (stream.Save(args[2]))
        {
            context.WriteOk();
            context.Notify(KeyspaceEventClass.Stream, "xgroup-create"u8, args[2]);
        }
    }

    private static void SetId(CommandContext context, RespArgs args, StreamValue stream, StreamGroup group, long entriesRead)
    {
        if (args.Count is not (5 or 7))
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        StreamId id;
        if (args[4].SequenceEqual("$"u8))
        {
            id = stream.LastId;
        }
        else if (!StreamId.TryParse(args[4], 0, strict: false, allowAutoSeq: false, out id, out _))
        {
            context.WriteError(StreamId.InvalidIdError);
            return;
        }

        group.LastId = id;
        group.EntriesRead = entriesRead;
        stream.GroupsChanged();
        if (stream.Save(args[2]))
        {
            context.WriteOk();
            context.Notify(KeyspaceEventClass.Stream, "xgroup-setid"u8, args[2]);
        }
    }

    private static void GroupHelp(CommandContext context, RespArgs args) =>
        HelpReply.Write(context, "XGROUP", [
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ]);

    // Redis xackCommand: no key or group acknowledges nothing; the IDs are all parsed before any is acknowledged.
    private static void XAck(CommandContext context, RespArgs args)
    {
        ReadResult found = StreamValue.Read(context, args[1], countStats: true, out StreamValue? stream);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        StreamGroup? group = stream?.FindGroup(args[2]);
        if (group is null)
        {
            context.WriteInteger(0);
            return;
        }

        StreamId[] ids = new StreamId[args.Count - 3];
        for (int i = 0; i < ids.Length; i++)
        {
            if (!StreamCommands.TryParseStrictId(context, args[i + 3], out ids[i]))
            {
                return;
            }
        }

        long acknowledged = 0;
        foreach (StreamId id in ids)
        {
            acknowledged += group.Pending.Remove(id) ? 1 : 0;
        }

        if (acknowledged > 0)
        {
            stream!.GroupsChanged();
            if (!stream.Save(args[1]))
            {
                return;
            }
        }

        context.WriteInteger(acknowledged);
    }

    // Redis xpendingCommand: the summary, or [IDLE min-idle] start end count [consumer].
    private static void XPending(CommandContext context, RespArgs args)
    {
        bool summary = args.Count == 3;
        if (!summary && args.Count is < 6 or > 9)
        {
            context.WriteSyntaxError();
            return;
        }

        StreamId start = default;
        StreamId end = default;
        long count = 0;
        long minIdle = 0;
        byte[]? consumerName = null;
        if (!summary)
        {
            int at = 3;
            if (args.Is(3, "IDLE"u8))
            {
                if (!RedisNumber.TryParseInt64(args[4], out minIdle))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (args.Count < 8)
                {
                    context.WriteSyntaxError();
                    return;
                }

                at += 2;
            }

            if (!RedisNumber.TryParseInt64(args[at + 2], out count))
            {
                context.WriteNotInteger();
                return;
            }

            count = Math.Max(count, 0);
            if (!StreamCommands.TryParseRange(context, args[at], args[at + 1], out start, out end))
            {
                return;
            }

            if (at + 3 < args.Count)
            {
                consumerName = args[at + 3].ToArray();
            }
        }

        if (ReadGroupOrReply(context, args) is not var (stream, group))
        {
            return;
        }

        if (summary)
        {
            WritePendingSummary(context, group);
            return;
        }

        StreamConsumer? consumer = null;
        if (consumerName is not null && !group.Consumers.TryGetValue(consumerName, out consumer))
        {
            context.WriteArrayHeader(0);
            return;
        }

        long now = context.NowMs;
        List<PendingEntry> listed = [];
        foreach (PendingEntry entry in group.Pending.Values)
        {
            if (count == 0 || entry.Id > end)
            {
                break;
            }

            if (entry.Id < start || (consumer is not null && entry.Consumer != consumer) || (minIdle != 0 && now - entry.DeliveryTimeMs < minIdle))
            {
                continue;
            }

            listed.Add(entry);
            count--;
        }

        context.WriteArrayHeader(listed.Count);
        foreach (PendingEntry entry in listed)
        {
            context.WriteArrayHeader(4);
            context.WriteBulk(entry.Id.Format());
            context.WriteBulk(entry.Consumer.Name);
            context.WriteInteger(Math.Max(0, now - entry.DeliveryTimeMs));
            context.WriteInteger(entry.DeliveryCount);
        }
    }

    private static void WritePendingSummary(CommandContext context, StreamGroup group)
    {
        context.WriteArrayHeader(4);
        context.WriteInteger(group.Pending.Count);
        if (group.Pending.Count == 0)
        {
            context.WriteNull();
            context.WriteNull();
            context.WriteNullArray();
            return;
        }

        context.WriteBulk(group.Pending.Keys[0].Format());
        context.WriteBulk(group.Pending.Keys[^1].Format());
        List<(StreamConsumer Consumer, long Pending)> holders = [];
        foreach (StreamConsumer consumer in group.Consumers.Values)
        {
            long pending = group.PendingOf(consumer);
            if (pending > 0)
            {
                holders.Add((consumer, pending));
            }
        }

        context.WriteArrayHeader(holders.Count);
        foreach ((StreamConsumer consumer, long pending) in holders)
        {
            context.WriteArrayHeader(2);
            context.WriteBulk(consumer.Name);
            context.WriteBulk(System.Text.Encoding.ASCII.GetBytes(pending.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    // Redis xclaimCommand: the key and group first, then the minimum idle time, the IDs up to the first that does not
    // parse, and the options after them.
    private static void XClaim(CommandContext context, RespArgs args)
    {
        if (ReadGroupOrReply(context, args) is not var (stream, group))
        {
            return;
        }

        if (!RedisNumber.TryParseInt64(args[4], out long minIdle))
        {
            context.WriteError("ERR Invalid min-idle-time argument for XCLAIM"u8);
            return;
        }

        minIdle = Math.Max(minIdle, 0);
        List<StreamId> ids = [];
        int j = 5;
        for (; j < args.Count && StreamId.TryParse(args[j], 0, strict: true, allowAutoSeq: false, out StreamId id, out _); j++)
        {
            ids.Add(id);
        }

        long now = context.NowMs;
        long retryCount = -1;
        long deliveryTime = -1;
        bool force = false;
        bool justId = false;
        StreamId lastId = StreamId.Min;
        for (; j < args.Count; j++)
        {
            bool more = j + 1 < args.Count;
            if (args.Is(j, "FORCE"u8))
            {
                force = true;
            }
            else if (args.Is(j, "JUSTID"u8))
            {
                justId = true;
            }
            else if (args.Is(j, "IDLE"u8) && more)
            {
                if (!RedisNumber.TryParseInt64(args[++j], out long idle))
                {
                    context.WriteError("ERR Invalid IDLE option argument for XCLAIM"u8);
                    return;
                }

                deliveryTime = now - idle;
            }
            else if (args.Is(j, "TIME"u8) && more)
            {
                if (!RedisNumber.TryParseInt64(args[++j], out deliveryTime))
                {
                    context.WriteError("ERR Invalid TIME option argument for XCLAIM"u8);
                    return;
                }
            }
            else if (args.Is(j, "RETRYCOUNT"u8) && more)
            {
                if (!RedisNumber.TryParseInt64(args[++j], out retryCount))
                {
                    context.WriteError("ERR Invalid RETRYCOUNT option argument for XCLAIM"u8);
                    return;
                }
            }
            else if (args.Is(j, "LASTID"u8) && more)
            {
                if (!StreamCommands.TryParseStrictId(context, args[++j], out lastId))
                {
                    return;
                }
            }
            else
            {
                context.WriteError($"ERR Unrecognized XCLAIM option '{Text(args[j])}'");
                return;
            }
        }

        bool changed = false;
        bool lastIdMoved = false;
        if (lastId > group.LastId)
        {
            group.LastId = lastId;
            changed = true;
            lastIdMoved = true;
        }

        // Replicas get what changed, entry by entry (an XCLAIM carries the group's last ID), or the last ID alone.
        StreamPropagation.Begin(context);
        deliveryTime = deliveryTime == -1 || deliveryTime < 0 || deliveryTime > now ? now : deliveryTime;
        byte[] name = args[3].ToArray();
        StreamConsumer? consumer = null;
        bool consumerCreated = false;
        List<(StreamId Id, StreamEntry? Entry)> claimed = [];
        foreach (StreamId id in ids)
        {
            group.Pending.TryGetValue(id, out PendingEntry? pending);
            if (stream.Entry(id) is not { } entry)
            {
                // The entry is gone: its pending entry goes too.
                if (pending is not null && group.Pending.Remove(id))
                {
                    StreamPropagation.Claim(context, args[1], args[2], group, pending);
                    changed = true;
                    lastIdMoved = false;
                }

                continue;
            }

            if (force && pending is null)
            {
                pending = new PendingEntry(id, null!) { DeliveryTimeMs = now, DeliveryCount = 1 };
                group.Pending.Add(id, pending);
                changed = true;
            }

            if (pending is null || (pending.Consumer is not null && minIdle != 0 && now - pending.DeliveryTimeMs < minIdle))
            {
                continue;
            }

            consumer ??= ClaimingConsumer(context, group, name, ref consumerCreated);
            pending.DeliveryTimeMs = deliveryTime;
            if (retryCount >= 0)
            {
                pending.DeliveryCount = retryCount;
            }
            else if (!justId)
            {
                pending.DeliveryCount++;
            }

            pending.Consumer = consumer;
            claimed.Add((id, justId ? null : entry));
            StreamPropagation.Claim(context, args[1], args[2], group, pending);
            changed = true;
            lastIdMoved = false;
        }

        if (lastIdMoved)
        {
            StreamPropagation.GroupId(context, args[1], args[2], group);
        }

        if (!SaveClaim(context, args[1], stream, changed, consumerCreated))
        {
            return;
        }

        context.WriteArrayHeader(claimed.Count);
        foreach ((StreamId id, StreamEntry? entry) in claimed)
        {
            WriteClaimed(context, id, entry);
        }
    }

    // Redis xautoclaimCommand: claims up to COUNT pending entries idle long enough, from a start ID, examining at most
    // ten times COUNT; replies with the cursor, the claimed entries and the IDs of pending entries whose entry is gone.
    private static void XAutoClaim(CommandContext context, RespArgs args)
    {
        if (!RedisNumber.TryParseInt64(args[4], out long minIdle))
        {
            context.WriteError("ERR Invalid min-idle-time argument for XAUTOCLAIM"u8);
            return;
        }

        minIdle = Math.Max(minIdle, 0);
        if (!TryParseIntervalStart(context, args[5], out StreamId start))
        {
            return;
        }

        long count = 100;
        bool justId = false;
        for (int j = 6; j < args.Count; j++)
        {
            if (args.Is(j, "COUNT"u8) && j + 1 < args.Count)
            {
                if (!RedisNumber.TryParseInt64(args[++j], out count) || count < 1 || count > long.MaxValue / 16)
                {
                    context.WriteError("ERR COUNT must be > 0"u8);
                    return;
                }
            }
            else if (args.Is(j, "JUSTID"u8))
            {
                justId = true;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if (ReadGroupOrReply(context, args) is not var (stream, group))
        {
            return;
        }

        long attempts = count * 10;
        long now = context.NowMs;
        byte[] name = args[3].ToArray();
        StreamConsumer? consumer = null;
        bool consumerCreated = false;
        bool changed = false;
        List<(StreamId Id, StreamEntry? Entry)> claimed = [];
        List<StreamId> deleted = [];
        List<PendingEntry> candidates = [.. group.Pending.Values.Where(p => p.Id >= start)];
        int next = 0;
        StreamPropagation.Begin(context);
        for (; attempts-- > 0 && count > 0 && next < candidates.Count; next++)
        {
            PendingEntry pending = candidates[next];
            if (stream.Entry(pending.Id) is not { } entry)
            {
                group.Pending.Remove(pending.Id);
                StreamPropagation.Claim(context, args[1], args[2], group, pending);
                deleted.Add(pending.Id);
                changed = true;
                count--;
                continue;
            }

            if (minIdle != 0 && now - pending.DeliveryTimeMs < minIdle)
            {
                continue;
            }

            consumer ??= ClaimingConsumer(context, group, name, ref consumerCreated);
            pending.DeliveryTimeMs = now;
            if (!justId)
            {
                pending.DeliveryCount++;
            }

            pending.Consumer = consumer;
            claimed.Add((pending.Id, justId ? null : entry));
            StreamPropagation.Claim(context, args[1], args[2], group, pending);
            changed = true;
            count--;
        }

        if (!SaveClaim(context, args[1], stream, changed, consumerCreated))
        {
            return;
        }

        context.WriteArrayHeader(3);
        context.WriteBulk((next < candidates.Count ? candidates[next].Id : StreamId.Min).Format());
        context.WriteArrayHeader(claimed.Count);
        foreach ((StreamId id, StreamEntry? entry) in claimed)
        {
            WriteClaimed(context, id, entry);
        }

        context.WriteArrayHeader(deleted.Count);
        foreach (StreamId id in deleted)
        {
            context.WriteBulk(id.Format());
        }
    }

    // Redis's lookupKeyRead, checkType and streamLookupCG of XPENDING, XCLAIM and XAUTOCLAIM: the stream of args[1] and
    // its group args[2], or null after WRONGTYPE or NOGROUP.
    private static (StreamValue Stream, StreamGroup Group)? ReadGroupOrReply(CommandContext context, RespArgs args)
    {
        ReadResult found = StreamValue.Read(context, args[1], countStats: true, out StreamValue? stream);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return null;
        }

        if (stream?.FindGroup(args[2]) is not { } group)
        {
            context.WriteError(NoGroup(args[1], args[2]));
            return null;
        }

        return (stream, group);
    }

    // The claiming consumer, looked up (seen now) or created, as Redis does on the first entry it claims.
    private static StreamConsumer ClaimingConsumer(CommandContext context, StreamGroup group, byte[] name, ref bool created)
    {
        StreamConsumer consumer = group.Consumer(name, context.NowMs, out created);
        consumer.SeenTimeMs = context.NowMs;
        return consumer;
    }

    private static bool SaveClaim(CommandContext context, ReadOnlySpan<byte> key, StreamValue stream, bool changed, bool consumerCreated)
    {
        if (!changed && !consumerCreated)
        {
            return true;
        }

        stream.GroupsChanged();
        if (!stream.Save(key))
        {
            return false;
        }

        if (consumerCreated)
        {
            context.Notify(KeyspaceEventClass.Stream, "xgroup-createconsumer"u8, key);
        }

        return true;
    }

    private static void WriteClaimed(CommandContext context, StreamId id, StreamEntry? entry)
    {
        if (entry is null)
        {
            context.WriteBulk(id.Format());
        }
        else
        {
            StreamCommands.WriteEntry(context, entry);
        }
    }

    private static bool TryParseIntervalStart(CommandContext context, ReadOnlySpan<byte> text, out StreamId start)
    {
        if (!StreamCommands.TryParseIntervalId(context, text, 0, out start, out bool exclusive))
        {
            return false;
        }

        if (exclusive && !start.TryIncrement(out start))
        {
            context.WriteError("ERR invalid start ID for the interval"u8);
            return false;
        }

        return true;
    }
}
