using Durable.Commands.PubSub;
using Durable.Protocol;

namespace Durable.Commands.Streams;

/// <summary>
/// The stream commands that write and read entries: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, as Redis 7.0's
/// t_stream.c (argument order of checks, replies and errors). XREAD and XINFO live in StreamReadCommands.
/// </summary>
internal static class StreamCommands
{
    private static readonly string[] s_writeFast = ["write", "stream", "fast"];
    private static readonly string[] s_readSlow = ["read", "stream", "slow"];

    public static void Register(CommandTable table)
    {
        table.Add("XADD", -5, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, XAdd, 1, 1, 1, s_writeFast);
        table.Add("XLEN", 2, CommandFlags.ReadOnly | CommandFlags.Fast, XLen, 1, 1, 1, ["read", "stream", "fast"]);
        table.Add("XRANGE", -4, CommandFlags.ReadOnly, XRange, 1, 1, 1, s_readSlow);
        table.Add("XREVRANGE", -4, CommandFlags.ReadOnly, XRevRange, 1, 1, 1, s_readSlow);
        table.Add("XDEL", -3, CommandFlags.Write | CommandFlags.Fast, XDel, 1, 1, 1, s_writeFast);
        table.Add("XTRIM", -4, CommandFlags.Write, XTrim, 1, 1, 1, ["write", "stream", "slow"]);
        table.Add("XSETID", -3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, XSetId, 1, 1, 1, s_writeFast);
    }

    private static void XAdd(CommandContext context, RespArgs args)
    {
        if (!TryParseAddOrTrim(context, args, xadd: true, out AddOrTrim parsed))
        {
            return;
        }

        int fieldPosition = parsed.IdPosition + 1;
        if (args.Count - fieldPosition < 2 || (args.Count - fieldPosition) % 2 == 1)
        {
            context.WriteArityError("xadd");
            return;
        }

        if (parsed.IdGiven && parsed.SeqGiven && parsed.Id == StreamId.Min)
        {
            context.WriteError("ERR The ID specified in XADD must be greater than 0-0"u8);
            return;
        }

        ReadResult found = StreamValue.Read(context, args[1], countStats: false, out StreamValue? stream);
        if (found == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (stream is null)
        {
            if (parsed.NoMakeStream)
            {
                context.WriteNull();
                return;
            }

            stream = StreamValue.Create(context);
        }

        if (stream.LastId == StreamId.Max)
        {
            context.WriteError("ERR The stream has exhausted the last possible ID, unable to add more items"u8);
            return;
        }

        if (parsed.IdGiven && !parsed.SeqGiven && parsed.Id.Ms == stream.LastId.Ms && stream.LastId.Seq == ulong.MaxValue)
        {
            // Redis 7.0 fails "ms-*" past the millisecond's last sequence without setting errno, so it reports this.
            context.WriteError("ERR Elements are too large to be stored"u8);
            return;
        }

        if (!TryNextId(context, stream.LastId, parsed, out StreamId id))
        {
            context.WriteError("ERR The ID specified in XADD is equal or smaller than the target stream top item"u8);
            return;
        }

        byte[][] fields = new byte[args.Count - fieldPosition][];
        for (int i = 0; i < fields.Length; i++)
        {
            fields[i] = args[fieldPosition + i].ToArray();
        }

        stream.Append(id, fields);
        long trimmed = parsed.Trim is { } trim ? stream.Trim(trim) : 0;
        if (!stream.Save(args[1]))
        {
            return;
        }

        context.WriteBulk(id.Format());
        PropagateAddOrTrim(context, args, parsed, stream, id);
        context.Notify(KeyspaceEventClass.Stream, "xadd"u8, args[1]);
        if (trimmed > 0)
        {
            context.Notify(KeyspaceEventClass.Stream, "xtrim"u8, args[1]);
        }
    }

    // Redis streamAppendItem's ID: the given one, "ms-*" (the next sequence of that millisecond), or the clock's.
    private static bool TryNextId(CommandContext context, StreamId last, AddOrTrim parsed, out StreamId id)
    {
        if (!parsed.IdGiven)
        {
            ulong now = (ulong)context.NowMs;
            if (now > last.Ms)
            {
                id = new StreamId(now, 0);
                return true;
            }

            return last.TryIncrement(out id);
        }

        id = parsed.Id;
        if (!parsed.SeqGiven && last.Ms == parsed.Id.Ms)
        {
            id = new StreamId(last.Ms, last.Seq + 1);
        }

        return id > last;
    }

    private static void XLen(CommandContext context, RespArgs args)
    {
        switch (StreamValue.Read(context, args[1], countStats: true, out StreamValue? stream))
        {
            case ReadResult.WrongType: context.WriteWrongType(); break;
            default: context.WriteInteger(stream?.Length ?? 0); break;
        }
    }

    private static void XRange(CommandContext context, RespArgs args) => RangeCommand(context, args, reverse: false);

    private static void XRevRange(CommandContext context, RespArgs args) => RangeCommand(context, args, reverse: true);

    // Redis xrangeGenericCommand: start, end (each may be exclusive with '('), COUNT; then the key.
    private static void RangeCommand(CommandContext context, RespArgs args, bool reverse)
    {
        if (!TryParseRange(context, reverse ? args[3] : args[2], reverse ? args[2] : args[3], out StreamId start, out StreamId end))
        {
            return;
        }

        long count = -1;
        for (int i = 4; i < args.Count; i++)
        {
            if (args.Is(i, "COUNT"u8) && i + 1 < args.Count)
            {
                if (!RedisNumber.TryParseInt64(args[++i], out count))
                {
                    context.WriteNotInteger();
                    return;
                }

                count = Math.Max(count, 0);
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        switch (StreamValue.Read(context, args[1], countStats: true, out StreamValue? stream))
        {
            case ReadResult.WrongType:
                context.WriteWrongType();
                return;
            case ReadResult.Missing:
                context.WriteArrayHeader(0);
                return;
        }

        if (count == 0)
        {
            context.WriteNullArray();
            return;
        }

        WriteEntries(context, stream!.Range(start, end, reverse), count == -1 ? long.MaxValue : count);
    }

    /// <summary>An array of [id, [field, value...]] entries, at most <paramref name="count"/> (Redis streamReplyWithRange).</summary>
    public static void WriteEntries(CommandContext context, IEnumerable<StreamEntry> entries, long count)
    {
        List<StreamEntry> taken = [];
        foreach (StreamEntry entry in entries)
        {
            if (taken.Count >= count)
            {
                break;
            }

            taken.Add(entry);
        }

        context.WriteArrayHeader(taken.Count);
        foreach (StreamEntry entry in taken)
        {
            WriteEntry(context, entry);
        }
    }

    public static void WriteEntry(CommandContext context, StreamEntry entry)
    {
        context.WriteArrayHeader(2);
        context.WriteBulk(entry.Id.Format());
        context.WriteArrayHeader(entry.Fields.Length);
        foreach (byte[] item in entry.Fields)
        {
            context.WriteBulk(item);
        }
    }

    private static void XDel(CommandContext context, RespArgs args)
    {
        if (ReadOrReply(context, args[1], countStats: false, static c => c.WriteInteger(0)) is not { } stream)
        {
            return;
        }

        StreamId[] ids = new StreamId[args.Count - 2];
        for (int i = 0; i < ids.Length; i++)
        {
            if (!TryParseStrictId(context, args[i + 2], out ids[i]))
            {
                return;
            }
        }

        long deleted = 0;
        foreach (StreamId id in ids)
        {
            deleted += stream.Delete(id) ? 1 : 0;
        }

        if (deleted > 0)
        {
            if (!stream.Save(args[1]))
            {
                return;
            }

            context.Notify(KeyspaceEventClass.Stream, "xdel"u8, args[1]);
        }

        context.WriteInteger(deleted);
    }

    private static void XTrim(CommandContext context, RespArgs args)
    {
        if (!TryParseAddOrTrim(context, args, xadd: false, out AddOrTrim parsed))
        {
            return;
        }

        if (ReadOrReply(context, args[1], countStats: false, static c => c.WriteInteger(0)) is not { } stream)
        {
            return;
        }

        long deleted = stream.Trim(parsed.Trim!.Value);
        if (deleted > 0)
        {
            if (!stream.Save(args[1]))
            {
                return;
            }

            context.Notify(KeyspaceEventClass.Stream, "xtrim"u8, args[1]);
            PropagateAddOrTrim(context, args, parsed, stream, id: null);
        }

        context.WriteInteger(deleted);
    }

    /// <summary>
    /// Redis: XADD and XTRIM reach replicas with the ID the entry got, and an approximate trim ("~", perhaps with LIMIT) as
    /// an exact one to what it left (MAXLEN = the length, MINID = the first ID), so that replicas trim the same
    /// entries. Durable drops the LIMIT then (an exact trim takes none; Redis keeps it and its replicas ignore it).
    /// </summary>
    private static void PropagateAddOrTrim(CommandContext context, RespArgs args, AddOrTrim parsed, StreamValue stream, StreamId? id)
    {
        bool approximate = parsed.Trim is { Approximate: true };
        bool idChosen = id is not null && (!parsed.IdGiven || !parsed.SeqGiven);
        if (!context.Server.ReplicationFeed.Active || (!approximate && !idChosen))
        {
            return;
        }

        List<byte[]> propagated = new(args.Count);
        for (int i = 0; i < args.Count; i++)
        {
            if (approximate && parsed.LimitPosition != 0 && i == parsed.LimitPosition)
            {
                i++;
                continue;
            }

            propagated.Add(
                approximate && i == parsed.TrimValuePosition - 1 ? "="u8.ToArray()
                : approximate && i == parsed.TrimValuePosition ? (parsed.Trim!.Value.ByLength ? Server.Propagation.Number(stream.Length) : stream.FirstId.Format())
                : idChosen && i == parsed.IdPosition ? id!.Value.Format()
                : args[i].ToArray());
        }

        context.PropagateAs([.. propagated]);
    }

    // Redis xsetidCommand: the ID and options are checked before the key.
    private static void XSetId(CommandContext context, RespArgs args)
    {
        if (!TryParseStrictId(context, args[2], out StreamId id))
        {
            return;
        }

        long entriesAdded = -1;
        StreamId maxDeleted = StreamId.Min;
        for (int i = 3; i < args.Count; i++)
        {
            bool more = i + 1 < args.Count;
            if (args.Is(i, "ENTRIESADDED"u8) && more)
            {
                if (!RedisNumber.TryParseInt64(args[++i], out entriesAdded))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (entriesAdded < 0)
                {
                    context.WriteError("ERR entries_added must be positive"u8);
                    return;
                }
            }
            else if (args.Is(i, "MAXDELETEDID"u8) && more)
            {
                if (!TryParseStrictId(context, args[++i], out maxDeleted))
                {
                    return;
                }

                if (id < maxDeleted)
                {
                    context.WriteError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"u8);
                    return;
                }
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if (ReadOrReply(context, args[1], countStats: false, static c => c.WriteError(RespErrors.NoSuchKey)) is not { } stream)
        {
            return;
        }

        if (stream.Length > 0)
        {
            if (id < stream.LastValidId())
            {
                context.WriteError("ERR The ID specified in XSETID is smaller than the target stream top item"u8);
                return;
            }

            if (entriesAdded != -1 && stream.Length > entriesAdded)
            {
                context.WriteError("ERR The entries_added specified in XSETID is smaller than the target stream length"u8);
                return;
            }
        }

        stream.SetIds(id, entriesAdded, maxDeleted == StreamId.Min ? null : maxDeleted);
        if (stream.Save(args[1]))
        {
            context.WriteOk();
            context.Notify(KeyspaceEventClass.Stream, "xsetid"u8, args[1]);
        }
    }

    /// <summary>
    /// Redis lookupKeyRead/WriteOrReply and checkType: the stream of <paramref name="key"/>, or null after replying
    /// WRONGTYPE or, when there is none, what <paramref name="missing"/> writes.
    /// </summary>
    public static StreamValue? ReadOrReply(CommandContext context, ReadOnlySpan<byte> key, bool countStats, Action<CommandContext> missing)
    {
        switch (StreamValue.Read(context, key, countStats, out StreamValue? stream))
        {
            case ReadResult.WrongType:
                context.WriteWrongType();
                return null;
            case ReadResult.Missing:
                missing(context);
                return null;
            default:
                return stream;
        }
    }

    /// <summary>Redis streamParseStrictIDOrReply with a missing sequence of 0: no "-" or "+".</summary>
    public static bool TryParseStrictId(CommandContext context, ReadOnlySpan<byte> text, out StreamId id)
    {
        if (StreamId.TryParse(text, 0, strict: true, allowAutoSeq: false, out id, out _))
        {
            return true;
        }

        context.WriteError(StreamId.InvalidIdError);
        return false;
    }

    /// <summary>
    /// A range's start and end as XRANGE and XPENDING take them (Redis streamParseIntervalIDOrReply each, then an exclusive
    /// start moved up and an exclusive end down); false after writing the error.
    /// </summary>
    public static bool TryParseRange(CommandContext context, ReadOnlySpan<byte> startText, ReadOnlySpan<byte> endText, out StreamId start, out StreamId end)
    {
        end = default;
        if (!TryParseIntervalId(context, startText, 0, out start, out bool startExclusive))
        {
            return false;
        }

        if (startExclusive && !start.TryIncrement(out start))
        {
            context.WriteError("ERR invalid start ID for the interval"u8);
            return false;
        }

        if (!TryParseIntervalId(context, endText, ulong.MaxValue, out end, out bool endExclusive))
        {
            return false;
        }

        if (endExclusive && !end.TryDecrement(out end))
        {
            context.WriteError("ERR invalid end ID for the interval"u8);
            return false;
        }

        return true;
    }

    /// <summary>Redis streamParseIntervalIDOrReply: "(" makes the ID exclusive (and strict); otherwise "-" and "+" are allowed.</summary>
    public static bool TryParseIntervalId(CommandContext context, ReadOnlySpan<byte> text, ulong missingSeq, out StreamId id, out bool exclusive)
    {
        exclusive = text.Length > 1 && text[0] == (byte)'(';
        if (StreamId.TryParse(exclusive ? text[1..] : text, missingSeq, strict: exclusive, allowAutoSeq: false, out id, out _))
        {
            return true;
        }

        context.WriteError(StreamId.InvalidIdError);
        return false;
    }

    // Redis streamParseAddOrTrimArgsOrReply: the options of XADD (up to its ID) or of XTRIM (all of them).
    private static bool TryParseAddOrTrim(CommandContext context, RespArgs args, bool xadd, out AddOrTrim parsed)
    {
        parsed = new AddOrTrim { IdPosition = 2, SeqGiven = true };
        bool? byLength = null;
        bool approximate = false;
        long maxLength = 0;
        StreamId minId = default;
        long limit = 0;
        bool limitGiven = false;
        int i = 2;
        for (; i < args.Count; i++)
        {
            int more = args.Count - 1 - i;
            ReadOnlySpan<byte> option = args[i];
            if (xadd && option.Length == 1 && option[0] == (byte)'*')
            {
                break;
            }

            bool isMaxLength = more >= 1 && AsciiCase.EqualsIgnoreCase(option, "MAXLEN"u8);
            if (isMaxLength || (more >= 1 && AsciiCase.EqualsIgnoreCase(option, "MINID"u8)))
            {
                if (byLength is not null)
                {
                    context.WriteError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"u8);
                    return false;
                }

                approximate = false;
                ReadOnlySpan<byte> next = args[i + 1];
                if (more >= 2 && next.Length == 1 && next[0] is (byte)'~' or (byte)'=')
                {
                    approximate = next[0] == (byte)'~';
                    i++;
                }

                if (isMaxLength)
                {
                    if (!RedisNumber.TryParseInt64(args[i + 1], out maxLength))
                    {
                        context.WriteNotInteger();
                        return false;
                    }

                    if (maxLength < 0)
                    {
                        context.WriteError("ERR The MAXLEN argument must be >= 0."u8);
                        return false;
                    }
                }
                else if (!TryParseStrictId(context, args[i + 1], out minId))
                {
                    return false;
                }

                i++;
                parsed.TrimValuePosition = i;
                byLength = isMaxLength;
            }
            else if (more >= 1 && AsciiCase.EqualsIgnoreCase(option, "LIMIT"u8))
            {
                if (!RedisNumber.TryParseInt64(args[i + 1], out limit))
                {
                    context.WriteNotInteger();
                    return false;
                }

                if (limit < 0)
                {
                    context.WriteError("ERR The LIMIT argument must be >= 0."u8);
                    return false;
                }

                limitGiven = true;
                parsed.LimitPosition = i;
                i++;
            }
            else if (xadd && AsciiCase.EqualsIgnoreCase(option, "NOMKSTREAM"u8))
            {
                parsed.NoMakeStream = true;
            }
            else if (xadd)
            {
                // Anything else is the ID, or a syntax error reported as an invalid ID.
                if (!StreamId.TryParse(option, 0, strict: true, allowAutoSeq: true, out StreamId id, out bool seqGiven))
                {
                    context.WriteError(StreamId.InvalidIdError);
                    return false;
                }

                parsed.Id = id;
                parsed.IdGiven = true;
                parsed.SeqGiven = seqGiven;
                break;
            }
            else
            {
                context.WriteSyntaxError();
                return false;
            }
        }

        parsed.IdPosition = i;
        if (limit != 0 && byLength is null)
        {
            context.WriteError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"u8);
            return false;
        }

        if (!xadd && byLength is null)
        {
            context.WriteError("ERR syntax error, XTRIM must be called with a trimming strategy"u8);
            return false;
        }

        if (context.Client.IsReplicationSource)
        {
            // Redis mustObeyClient: a primary's command trims exactly what it says.
            limit = 0;
        }
        else if (limitGiven && !approximate)
        {
            context.WriteError("ERR syntax error, LIMIT cannot be used without the special ~ option"u8);
            return false;
        }
        else if (!limitGiven && approximate)
        {
            // Redis: without LIMIT, ~ removes at most 100 nodes' worth of entries (and never more than 10,000).
            limit = 100 * context.Server.Config.StreamNodeMaxEntries;
            if (limit is <= 0 or > 10000)
            {
                limit = 10000;
            }
        }

        if (byLength is { } length)
        {
            parsed.Trim = new StreamTrim(length, maxLength, minId, approximate, approximate ? limit : 0);
        }

        return true;
    }

    private struct AddOrTrim
    {
        public int IdPosition;
        public bool NoMakeStream;
        public bool IdGiven;
        public bool SeqGiven;
        public StreamId Id;
        public StreamTrim? Trim;

        /// <summary>Where the MAXLEN or MINID threshold is (its "~" or "=" just before it, if given), and LIMIT (0: none).</summary>
        public int TrimValuePosition;
        public int LimitPosition;
    }
}
