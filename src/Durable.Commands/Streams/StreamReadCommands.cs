using Durable.Commands.Blocking;
using Durable.Commands.Server;
using Durable.Protocol;

namespace Durable.Commands.Streams;

/// <summary>
/// XREAD (with BLOCK) and XINFO (STREAM, GROUPS, CONSUMERS, HELP), as Redis 7.0's t_stream.c. A blocked XREAD waits as
/// the blocking list commands do (<see cref="BlockingWait"/>), but every reader of a key wakes on its write: reading
/// takes nothing away from the others.
/// </summary>
internal static class StreamReadCommands
{
    public static void Register(CommandTable table)
    {
        table.Add(
            "XREAD", -4, CommandFlags.ReadOnly | CommandFlags.Blocking, XRead, categories: ["read", "stream", "slow", "blocking"],
            findKeys: FindReadKeys);
        table.Add(
            "XREADGROUP", -7, CommandFlags.Write | CommandFlags.Blocking, XReadGroup, categories: ["write", "stream", "slow", "blocking"],
            findKeys: FindReadKeys);
        string[] read = ["read", "stream", "slow"];
        table.AddContainer(
            "XINFO",
            -2,
            CommandFlags.None,
            CommandTable.Sub("STREAM", -3, CommandFlags.ReadOnly, InfoStream, 2, 2, 1, read),
            CommandTable.Sub("GROUPS", 3, CommandFlags.ReadOnly, InfoGroups, 2, 2, 1, read),
            CommandTable.Sub("CONSUMERS", 4, CommandFlags.ReadOnly, InfoConsumers, 2, 2, 1, read),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, InfoHelp, categories: ["stream", "slow"]));
    }

    // The keys of XREAD: the first half of what follows STREAMS.
    private static void FindReadKeys(RespArgs args, List<int> keys)
    {
        for (int i = 1; i < args.Count; i++)
        {
            if (args.Is(i, "STREAMS"u8))
            {
                int count = (args.Count - i - 1) / 2;
                for (int k = 0; k < count; k++)
                {
                    keys.Add(i + 1 + k);
                }

                return;
            }
        }
    }

    private static void XRead(CommandContext context, RespArgs args) => Read(context, args, groupRead: false);

    private static void XReadGroup(CommandContext context, RespArgs args) => Read(context, args, groupRead: true);

    // Redis xreadCommand, for XREAD and XREADGROUP: options up to STREAMS, then the IDs ("$": the stream's last ID; ">"
    // for a group: entries never delivered to it), each key's type and group checked as its ID is read.
    private static void Read(CommandContext context, RespArgs args, bool groupRead)
    {
        long timeoutMs = -1;
        long count = 0;
        int streamsAt = 0;
        bool noAck = false;
        byte[]? groupName = null;
        byte[]? consumerName = null;
        for (int i = 1; i < args.Count; i++)
        {
            bool more = i + 1 < args.Count;
            if (args.Is(i, "BLOCK"u8) && more)
            {
                if (context.Client.RunningScript)
                {
                    context.WriteError($"ERR {StreamGroupCommands.Text(args[0])} command is not allowed with BLOCK option from scripts");
                    return;
                }

                if (!TryParseBlockTimeout(context, args[++i], out timeoutMs))
                {
                    return;
                }
            }
            else if (args.Is(i, "COUNT"u8) && more)
            {
                if (!RedisNumber.TryParseInt64(args[++i], out count))
                {
                    context.WriteNotInteger();
                    return;
                }

                count = Math.Max(count, 0);
            }
            else if (args.Is(i, "STREAMS"u8) && more)
            {
                streamsAt = i + 1;
                if ((args.Count - streamsAt) % 2 != 0)
                {
                    context.WriteError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."u8);
                    return;
                }

                break;
            }
            else if (args.Is(i, "GROUP"u8) && i + 2 < args.Count)
            {
                if (!groupRead)
                {
                    context.WriteError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."u8);
                    return;
                }

                groupName = args[i + 1].ToArray();
                consumerName = args[i + 2].ToArray();
                i += 2;
            }
            else if (args.Is(i, "NOACK"u8))
            {
                if (!groupRead)
                {
                    context.WriteError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."u8);
                    return;
                }

                noAck = true;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if (streamsAt == 0)
        {
            context.WriteSyntaxError();
            return;
        }

        if (groupRead && groupName is null)
        {
            context.WriteError("ERR Missing GROUP option for XREADGROUP"u8);
            return;
        }

        int streams = (args.Count - streamsAt) / 2;
        byte[][] keys = KeyArguments.CopyKeys(args, streamsAt, streams);
        StreamId[] after = new StreamId[streams];
        for (int k = 0; k < streams; k++)
        {
            ReadOnlySpan<byte> idText = args[streamsAt + streams + k];
            ReadResult found = StreamValue.Read(context, keys[k], countStats: true, out StreamValue? stream);
            if (found == ReadResult.WrongType)
            {
                context.WriteWrongType();
                return;
            }

            if (groupName is not null && stream?.FindGroup(groupName) is null)
            {
                context.WriteError(StreamGroupCommands.NoGroup(keys[k], groupName, " in XREADGROUP with GROUP option"));
                return;
            }

            if (idText.SequenceEqual("$"u8))
            {
                if (groupRead)
                {
                    context.WriteError(
                        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."u8);
                    return;
                }

                after[k] = stream?.LastId ?? StreamId.Min;
            }
            else if (idText.SequenceEqual(">"u8))
            {
                if (!groupRead)
                {
                    context.WriteError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."u8);
                    return;
                }

                after[k] = StreamId.Max;
            }
            else if (!StreamCommands.TryParseStrictId(context, idText, out after[k]))
            {
                return;
            }
        }

        GroupRead? reader = groupName is null ? null : new GroupRead(groupName, consumerName!, noAck);
        if (Serve(context, keys, after, count, reader, blocked: false))
        {
            return;
        }

        if (timeoutMs == -1)
        {
            context.WriteNullArray();
            return;
        }

        // Redis serves a blocked reader at most 1,000 entries when it gave no COUNT.
        long blockedCount = count == 0 ? BlockedDefaultCount : count;
        BlockingWait.Block(context, keys, keys, timeoutMs, retry => Serve(retry, keys, after, blockedCount, reader, blocked: true), reader: true);
    }

    // The entries after each key's ID, for the keys that have some; true once a reply is written. A blocked reader is
    // served from the first key with new entries only, as Redis serves it from the key whose write woke it. A group's
    // reader gets the entries its group has not delivered (">"), which become pending for its consumer unless NOACK,
    // or the history of its consumer's pending entries after an ID.
    private static bool Serve(CommandContext context, byte[][] keys, StreamId[] after, long count, GroupRead? reader, bool blocked)
    {
        List<(byte[] Key, List<(StreamId Id, StreamEntry? Entry)> Items)> served = [];
        if (reader is not null)
        {
            StreamPropagation.Begin(context);
        }

        for (int k = 0; k < keys.Length && !(blocked && served.Count > 0); k++)
        {
            ReadResult found = StreamValue.Read(context, keys[k], countStats: !blocked, out StreamValue? stream);
            if (reader is null)
            {
                if (found == ReadResult.Found && stream!.Length > 0 && stream.LastValidId() > after[k] && after[k].TryIncrement(out StreamId start))
                {
                    served.Add((keys[k], [.. stream.Range(start, StreamId.Max, reverse: false).Take(Limit(count)).Select(e => (e.Id, (StreamEntry?)e))]));
                }

                continue;
            }

            if (blocked && found != ReadResult.Found)
            {
                context.WriteError("UNBLOCKED the stream key no longer exists"u8);
                return true;
            }

            StreamGroup? group = stream?.FindGroup(reader.Group);
            if (group is null)
            {
                if (blocked)
                {
                    context.WriteError("NOGROUP the consumer group this client was blocked on no longer exists"u8);
                    return true;
                }

                continue;
            }

            bool history = after[k] != StreamId.Max;
            if (!history && (stream!.Length == 0 || stream.LastValidId() <= group.LastId))
            {
                continue;
            }

            StreamConsumer consumer = group.Consumer(reader.Consumer, context.NowMs, out bool created);
            consumer.SeenTimeMs = context.NowMs;
            if (created && reader.NoAck)
            {
                StreamPropagation.ConsumerCreated(context, keys[k], reader.Group, reader.Consumer);
            }

            List<(StreamId Id, StreamEntry? Entry)> items = history
                ? History(context, stream!, group, consumer, after[k], count)
                : Deliver(context, keys[k], stream!, group, reader, consumer, count);
            stream!.GroupsChanged();
            if (!stream.Save(keys[k]))
            {
                return true;
            }

            if (created)
            {
                context.Notify(PubSub.KeyspaceEventClass.Stream, "xgroup-createconsumer"u8, keys[k]);
            }

            served.Add((keys[k], items));
        }

        if (served.Count == 0)
        {
            return false;
        }

        if (context.Protocol == RespVersion.Resp3)
        {
            context.WriteMapHeader(served.Count);
        }
        else
        {
            context.WriteArrayHeader(served.Count);
        }

        foreach ((byte[] key, List<(StreamId Id, StreamEntry? Entry)> items) in served)
        {
            if (context.Protocol != RespVersion.Resp3)
            {
                context.WriteArrayHeader(2);
            }

            context.WriteBulk(key);
            context.WriteArrayHeader(items.Count);
            foreach ((StreamId id, StreamEntry? entry) in items)
            {
                if (entry is not null)
                {
                    StreamCommands.WriteEntry(context, entry);
                    continue;
                }

                // A pending entry whose entry was deleted: its ID and a null.
                context.WriteArrayHeader(2);
                context.WriteBulk(id.Format());
                context.WriteNullArray();
            }
        }

        return true;
    }

    // Redis streamReplyWithRange with a group: entries after the group's last ID; each moves the group on (and its read
    // counter, where it can be kept) and, unless NOACK, becomes pending for the consumer (taken from another if it was),
    // which replicas get as an XCLAIM of it; a NOACK read sends them the group's last ID once.
    private static List<(StreamId Id, StreamEntry? Entry)> Deliver(
        CommandContext context, byte[] key, StreamValue stream, StreamGroup group, GroupRead reader, StreamConsumer consumer, long count)
    {
        bool noAck = reader.NoAck;
        StreamId lastBefore = group.LastId;
        List<(StreamId Id, StreamEntry? Entry)> items = [];
        if (!group.LastId.TryIncrement(out StreamId start))
        {
            return items;
        }

        long now = context.NowMs;
        foreach (StreamEntry entry in stream.Range(start, StreamId.Max, reverse: false).Take(Limit(count)))
        {
            if (entry.Id > group.LastId)
            {
                if (group.EntriesRead != StreamGroup.UnknownEntriesRead && !stream.RangeHasTombstones(entry.Id))
                {
                    group.EntriesRead++;
                }
                else if (stream.EntriesAdded != 0)
                {
                    group.EntriesRead = stream.EstimateEntriesRead(entry.Id);
                }

                group.LastId = entry.Id;
            }

            items.Add((entry.Id, entry));
            if (!noAck)
            {
                PendingEntry pending = new(entry.Id, consumer) { DeliveryTimeMs = now, DeliveryCount = 1 };
                group.Pending[entry.Id] = pending;
                StreamPropagation.Claim(context, key, reader.Group, group, pending);
            }
        }

        if (noAck && group.LastId != lastBefore)
        {
            StreamPropagation.GroupId(context, key, reader.Group, group);
        }

        return items;
    }

    // Redis streamReplyWithRangeFromConsumerPEL: the consumer's pending entries after `after`, delivered again (time and
    // count updated); one whose entry is gone is listed with no fields.
    private static List<(StreamId Id, StreamEntry? Entry)> History(
        CommandContext context, StreamValue stream, StreamGroup group, StreamConsumer consumer, StreamId after, long count)
    {
        List<(StreamId Id, StreamEntry? Entry)> items = [];
        if (!after.TryIncrement(out StreamId start))
        {
            return items;
        }

        long now = context.NowMs;
        foreach (PendingEntry pending in group.Pending.Values)
        {
            if (count != 0 && items.Count >= count)
            {
                break;
            }

            if (pending.Id < start || pending.Consumer != consumer)
            {
                continue;
            }

            StreamEntry? entry = stream.Entry(pending.Id);
            if (entry is not null)
            {
                pending.DeliveryTimeMs = now;
                pending.DeliveryCount++;
            }

            items.Add((pending.Id, entry));
        }

        return items;
    }

    private static int Limit(long count) => count == 0 ? int.MaxValue : (int)Math.Min(count, int.MaxValue);

    /// <summary>Redis XREAD_BLOCKED_DEFAULT_COUNT: what a blocked reader without COUNT is served at most.</summary>
    private const long BlockedDefaultCount = 1000;

    /// <summary>A group's read: the group, its consumer, and whether deliveries skip the pending list.</summary>
    private sealed record GroupRead(byte[] Group, byte[] Consumer, bool NoAck);

    // Redis getTimeoutFromObjectOrReply in milliseconds: an integer, not negative (one past the clock's range waits for ever).
    private static bool TryParseBlockTimeout(CommandContext context, ReadOnlySpan<byte> text, out long timeoutMs)
    {
        if (!RedisNumber.TryParseInt64(text, out timeoutMs))
        {
            context.WriteError("ERR timeout is not an integer or out of range"u8);
            return false;
        }

        if (timeoutMs < 0)
        {
            context.WriteError("ERR timeout is negative"u8);
            return false;
        }

        return true;
    }

    // Redis xinfoCommand reads the key first; xinfoReplyWithStreamInfo then takes [FULL [COUNT count]].
    private static void InfoStream(CommandContext context, RespArgs args)
    {
        if (ReadOrReply(context, args[2]) is not { } stream)
        {
            return;
        }

        bool full = args.Count > 3;
        long count = 10;
        if (full && (!args.Is(3, "FULL"u8) || args.Count is not (4 or 6) || (args.Count == 6 && !args.Is(4, "COUNT"u8))))
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        if (args.Count == 6)
        {
            if (!RedisNumber.TryParseInt64(args[5], out count))
            {
                context.WriteNotInteger();
                return;
            }

            count = count < 0 ? 10 : count;
        }

        context.WriteMapHeader(full ? 9 : 10);
        context.WriteBulk("length"u8);
        context.WriteInteger(stream.Length);
        context.WriteBulk("radix-tree-keys"u8);
        context.WriteInteger(stream.Nodes);
        context.WriteBulk("radix-tree-nodes"u8);

        // Redis counts the nodes of its radix tree over the node IDs, which Durable does not build: one for the tree's
        // root and one per node is its count for a single node and close to it beyond (the README says so).
        context.WriteInteger(1 + stream.Nodes);
        context.WriteBulk("last-generated-id"u8);
        context.WriteBulk(stream.LastId.Format());
        context.WriteBulk("max-deleted-entry-id"u8);
        context.WriteBulk(stream.MaxDeletedId.Format());
        context.WriteBulk("entries-added"u8);
        context.WriteInteger(stream.EntriesAdded);
        context.WriteBulk("recorded-first-entry-id"u8);
        context.WriteBulk(stream.FirstId.Format());
        if (full)
        {
            context.WriteBulk("entries"u8);
            StreamCommands.WriteEntries(context, stream.Range(StreamId.Min, StreamId.Max, reverse: false), count == 0 ? long.MaxValue : count);
            context.WriteBulk("groups"u8);
            WriteFullGroups(context, stream, count);
            return;
        }

        context.WriteBulk("groups"u8);
        context.WriteInteger(stream.GroupCount);
        foreach ((string name, bool reverse) in new[] { ("first-entry", false), ("last-entry", true) })
        {
            context.WriteBulk(name);
            StreamEntry? edge = stream.Range(StreamId.Min, StreamId.Max, reverse).FirstOrDefault();
            if (edge is null)
            {
                context.WriteNull();
            }
            else
            {
                StreamCommands.WriteEntry(context, edge);
            }
        }
    }

    // XINFO STREAM FULL's groups: each with its pending entries and consumers, at most `count` pending entries listed
    // per group and per consumer (0: all).
    private static void WriteFullGroups(CommandContext context, StreamValue stream, long count)
    {
        context.WriteArrayHeader(stream.GroupCount);
        foreach (StreamGroup group in stream.Groups)
        {
            context.WriteMapHeader(7);
            context.WriteBulk("name"u8);
            context.WriteBulk(group.Name);
            context.WriteBulk("last-delivered-id"u8);
            context.WriteBulk(group.LastId.Format());
            WriteReadAndLag(context, stream, group);
            context.WriteBulk("pel-count"u8);
            context.WriteInteger(group.Pending.Count);
            context.WriteBulk("pending"u8);
            List<PendingEntry> listed = [.. group.Pending.Values.Take(Limit(count))];
            context.WriteArrayHeader(listed.Count);
            foreach (PendingEntry pending in listed)
            {
                context.WriteArrayHeader(4);
                context.WriteBulk(pending.Id.Format());
                context.WriteBulk(pending.Consumer.Name);
                context.WriteInteger(pending.DeliveryTimeMs);
                context.WriteInteger(pending.DeliveryCount);
            }

            context.WriteBulk("consumers"u8);
            context.WriteArrayHeader(group.Consumers.Count);
            foreach (StreamConsumer consumer in group.Consumers.Values)
            {
                List<PendingEntry> own = [.. group.Pending.Values.Where(p => p.Consumer == consumer)];
                context.WriteMapHeader(4);
                context.WriteBulk("name"u8);
                context.WriteBulk(consumer.Name);
                context.WriteBulk("seen-time"u8);
                context.WriteInteger(consumer.SeenTimeMs);
                context.WriteBulk("pel-count"u8);
                context.WriteInteger(own.Count);
                context.WriteBulk("pending"u8);
                List<PendingEntry> ownListed = [.. own.Take(Limit(count))];
                context.WriteArrayHeader(ownListed.Count);
                foreach (PendingEntry pending in ownListed)
                {
                    context.WriteArrayHeader(3);
                    context.WriteBulk(pending.Id.Format());
                    context.WriteInteger(pending.DeliveryTimeMs);
                    context.WriteInteger(pending.DeliveryCount);
                }
            }
        }
    }

    // "entries-read" (null when unknown) and "lag" (null when it cannot be known), as XINFO GROUPS and STREAM FULL show them.
    private static void WriteReadAndLag(CommandContext context, StreamValue stream, StreamGroup group)
    {
        context.WriteBulk("entries-read"u8);
        if (group.EntriesRead == StreamGroup.UnknownEntriesRead)
        {
            context.WriteNull();
        }
        else
        {
            context.WriteInteger(group.EntriesRead);
        }

        context.WriteBulk("lag"u8);
        if (stream.Lag(group) is { } lag)
        {
            context.WriteInteger(lag);
        }
        else
        {
            context.WriteNull();
        }
    }

    private static void InfoGroups(CommandContext context, RespArgs args)
    {
        if (ReadOrReply(context, args[2]) is not { } stream)
        {
            return;
        }

        context.WriteArrayHeader(stream.GroupCount);
        foreach (StreamGroup group in stream.Groups)
        {
            context.WriteMapHeader(6);
            context.WriteBulk("name"u8);
            context.WriteBulk(group.Name);
            context.WriteBulk("consumers"u8);
            context.WriteInteger(group.Consumers.Count);
            context.WriteBulk("pending"u8);
            context.WriteInteger(group.Pending.Count);
            context.WriteBulk("last-delivered-id"u8);
            context.WriteBulk(group.LastId.Format());
            WriteReadAndLag(context, stream, group);
        }
    }

    private static void InfoConsumers(CommandContext context, RespArgs args)
    {
        if (ReadOrReply(context, args[2]) is not { } stream)
        {
            return;
        }

        if (stream.FindGroup(args[3]) is not { } group)
        {
            context.WriteError(StreamGroupCommands.NoSuchGroup(args[2], args[3]));
            return;
        }

        long now = context.NowMs;
        context.WriteArrayHeader(group.Consumers.Count);
        foreach (StreamConsumer consumer in group.Consumers.Values)
        {
            context.WriteMapHeader(3);
            context.WriteBulk("name"u8);
            context.WriteBulk(consumer.Name);
            context.WriteBulk("pending"u8);
            context.WriteInteger(group.PendingOf(consumer));
            context.WriteBulk("idle"u8);
            context.WriteInteger(Math.Max(0, now - consumer.SeenTimeMs));
        }
    }

    // Redis lookupKeyReadOrReply(no such key) and checkType.
    private static StreamValue? ReadOrReply(CommandContext context, ReadOnlySpan<byte> key) =>
        StreamCommands.ReadOrReply(context, key, countStats: true, static c => c.WriteError(RespErrors.NoSuchKey));

    private static void InfoHelp(CommandContext context, RespArgs args) =>
        HelpReply.Write(context, "XINFO", [
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ]);
}
