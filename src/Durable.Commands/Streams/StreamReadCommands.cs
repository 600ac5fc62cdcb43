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

    // Redis xreadCommand (without a group): options up to STREAMS, then the IDs ("$": the stream's last ID), each key's
    // type checked as its ID is read.
    private static void XRead(CommandContext context, RespArgs args)
    {
        long timeoutMs = -1;
        long count = 0;
        int streamsAt = 0;
        for (int i = 1; i < args.Count; i++)
        {
            bool more = i + 1 < args.Count;
            if (args.Is(i, "BLOCK"u8) && more)
            {
                if (context.Client.RunningScript)
                {
                    context.WriteError($"ERR {System.Text.Encoding.Latin1.GetString(args[0])} command is not allowed with BLOCK option from scripts");
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
                context.WriteError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."u8);
                return;
            }
            else if (args.Is(i, "NOACK"u8))
            {
                context.WriteError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."u8);
                return;
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

            if (idText.SequenceEqual("$"u8))
            {
                after[k] = stream?.LastId ?? StreamId.Min;
            }
            else if (idText.SequenceEqual(">"u8))
            {
                context.WriteError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."u8);
                return;
            }
            else if (!StreamCommands.TryParseStrictId(context, idText, out after[k]))
            {
                return;
            }
        }

        if (Serve(context, keys, after, count, firstOnly: false))
        {
            return;
        }

        if (timeoutMs == -1)
        {
            context.WriteNullArray();
            return;
        }

        BlockingWait.Block(context, keys, keys, timeoutMs, retry => Serve(retry, keys, after, count, firstOnly: true), reader: true);
    }

    // The entries after each key's ID, for the keys that have some; true once a reply is written. A blocked reader is
    // served by the first key with new entries only, as Redis serves it from the key whose write woke it.
    private static bool Serve(CommandContext context, byte[][] keys, StreamId[] after, long count, bool firstOnly)
    {
        List<(byte[] Key, List<StreamEntry> Entries)> served = [];
        for (int k = 0; k < keys.Length && !(firstOnly && served.Count > 0); k++)
        {
            if (StreamValue.Read(context, keys[k], countStats: !firstOnly, out StreamValue? stream) != ReadResult.Found || stream!.Length == 0
                || stream.LastValidId() <= after[k] || !after[k].TryIncrement(out StreamId start))
            {
                continue;
            }

            List<StreamEntry> entries = [];
            foreach (StreamEntry entry in stream.Range(start, StreamId.Max, reverse: false))
            {
                if (count > 0 && entries.Count >= count)
                {
                    break;
                }

                entries.Add(entry);
            }

            served.Add((keys[k], entries));
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

        foreach ((byte[] key, List<StreamEntry> entries) in served)
        {
            if (context.Protocol != RespVersion.Resp3)
            {
                context.WriteArrayHeader(2);
            }

            context.WriteBulk(key);
            StreamCommands.WriteEntries(context, entries, long.MaxValue);
        }

        return true;
    }

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
            context.WriteArrayHeader(0);
            return;
        }

        context.WriteBulk("groups"u8);
        context.WriteInteger(0);
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

    // Durable has no consumer groups yet: every stream has none.
    private static void InfoGroups(CommandContext context, RespArgs args)
    {
        if (ReadOrReply(context, args[2]) is not null)
        {
            context.WriteArrayHeader(0);
        }
    }

    private static void InfoConsumers(CommandContext context, RespArgs args)
    {
        if (ReadOrReply(context, args[2]) is not null)
        {
            context.WriteError(
                $"NOGROUP No such consumer group '{System.Text.Encoding.Latin1.GetString(args[3])}' for key name '{System.Text.Encoding.Latin1.GetString(args[2])}'");
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
