using Durable.Commands.Collections;
using Durable.Commands.PubSub;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>
/// DUMP, RESTORE and MIGRATE, as Redis 7.0's cluster.c: a key's value in Redis's RDB format (<see cref="RdbValue"/>)
/// with the footer of RDB version and CRC-64 (<see cref="RdbPayload"/>), so that values move between Durable and Redis
/// both ways. RESTORE stores what it read as any write does (in the WAL; a large collection in parts) and picks the
/// encoding Redis would (a small hash stays a listpack, a set of integers an intset). MIGRATE sends keys to another
/// server as RESTOREs and deletes those it took.
/// </summary>
internal static class DumpCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("DUMP", 2, CommandFlags.ReadOnly, Dump, 1, 1, 1, ["keyspace", "read", "slow"]);
        table.Add("RESTORE", -4, CommandFlags.Write | CommandFlags.DenyOom, Restore, 1, 1, 1, ["keyspace", "write", "slow", "dangerous"]);

        // The keys: the third argument, or those after KEYS. The command takes their stripes itself, off the socket threads.
        table.Add(
            "MIGRATE", -6, CommandFlags.Write | CommandFlags.LocksItself, Migrate.Run, 3, 3, 1, ["keyspace", "write", "slow", "dangerous"],
            findKeys: Migrate.FindKeys);
    }

    private static void Dump(CommandContext context, RespArgs args)
    {
        if (DumpPayload(context, args[1], out _) is { } payload)
        {
            context.WriteBulk(payload);
        }
        else
        {
            context.WriteNull();
        }
    }

    /// <summary>The DUMP payload of a key and its expiry (0 = none); null when it does not exist.</summary>
    internal static byte[]? DumpPayload(CommandContext context, ReadOnlySpan<byte> key, out long expiresAtMs) =>
        DumpPayload(context, context.Db, key, out expiresAtMs);

    /// <summary>As <see cref="DumpPayload(CommandContext, ReadOnlySpan{byte}, out long)"/>, for a key of database <paramref name="db"/>.</summary>
    internal static byte[]? DumpPayload(CommandContext context, int db, ReadOnlySpan<byte> key, out long expiresAtMs)
    {
        System.Buffers.ArrayBufferWriter<byte> payload = new();
        if (!TryWriteValue(context, db, key, payload, out expiresAtMs))
        {
            return null;
        }

        RdbPayload.Seal(payload);
        return payload.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Writes a key's value as an RDB file holds it (its type byte, then the value; DUMP's payload without the footer)
    /// to <paramref name="output"/>, with its expiry (0 = none); false when the key does not exist.
    /// </summary>
    internal static bool TryWriteValue(CommandContext context, int db, ReadOnlySpan<byte> key, System.Buffers.ArrayBufferWriter<byte> output, out long expiresAtMs)
    {
        System.Buffers.ArrayBufferWriter<byte> value = new();
        expiresAtMs = 0;
        if (!context.Session.TryRead(db, key, value, out StoredRecord record))
        {
            return false;
        }

        expiresAtMs = record.ExpiresAtMs;
        WriteValue(context, record, value.WrittenSpan, output);
        return true;
    }

    /// <summary>As <see cref="TryWriteValue"/>, from a record already read: its header and its stored payload.</summary>
    internal static void WriteValue(CommandContext context, in StoredRecord record, ReadOnlySpan<byte> stored, System.Buffers.ArrayBufferWriter<byte> output)
    {
        if (record.Type == RecordType.Stream)
        {
            Streams.StreamRdb.Write(output, Streams.StreamValue.Open(context, stored, record.ExpiresAtMs));
            return;
        }

        byte[] copy = stored.ToArray();
        List<byte[]> items = record.Type == RecordType.String ? [copy] : CollectionRecords.AllItems(context, record.Type, copy);
        bool large = record.Type != RecordType.String && ObjectCommands.IsLargeEncoding(record.Type, copy);
        RdbValue.Write(output, record.Type, items, large);
    }

    private static void Restore(CommandContext context, RespArgs args)
    {
        bool replace = false;
        bool absoluteTtl = false;
        bool idleTime = false;
        bool frequency = false;
        for (int i = 4; i < args.Count; i++)
        {
            bool more = i + 1 < args.Count;
            if (args.Is(i, "REPLACE"u8))
            {
                replace = true;
            }
            else if (args.Is(i, "ABSTTL"u8))
            {
                absoluteTtl = true;
            }
            else if (args.Is(i, "IDLETIME"u8) && more && !frequency)
            {
                // Durable keeps no access times (OBJECT IDLETIME is 0): the value is checked, as Redis checks it.
                if (!RedisNumber.TryParseInt64(args[++i], out long idle))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (idle < 0)
                {
                    context.WriteError("ERR Invalid IDLETIME value, must be >= 0"u8);
                    return;
                }

                idleTime = true;
            }
            else if (args.Is(i, "FREQ"u8) && more && !idleTime)
            {
                if (!RedisNumber.TryParseInt64(args[++i], out long freq))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (freq is < 0 or > 255)
                {
                    context.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255"u8);
                    return;
                }

                frequency = true;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        ReadOnlySpan<byte> key = args[1];
        if (!replace && context.Session.TryRead(context.Db, key, null, out StoredRecord _))
        {
            context.WriteError("BUSYKEY Target key name already exists."u8);
            return;
        }

        if (!RedisNumber.TryParseInt64(args[2], out long ttl))
        {
            context.WriteNotInteger();
            return;
        }

        if (ttl < 0)
        {
            context.WriteError("ERR Invalid TTL value, must be >= 0"u8);
            return;
        }

        ReadOnlySpan<byte> payload = args[3];
        if (!RdbPayload.Verify(payload))
        {
            context.WriteError("ERR DUMP payload version or checksum are wrong"u8);
            return;
        }

        // One reading of the clock: the replicas get the very time the key was given.
        long expiresAtMs = ttl == 0 ? 0 : absoluteTtl ? ttl : context.NowMs + ttl;
        if (payload.Length > 0 && Streams.StreamRdb.IsStream(payload[0]))
        {
            RestoreStream(context, key, payload, replace, expiresAtMs);
            PropagateAbsoluteTtl(context, args, absoluteTtl ? 0 : expiresAtMs);
            return;
        }

        // As Redis reads it: over the whole payload, footer included.
        if (RdbValue.Read(payload, out string? unsupported) is not (RecordType type, List<byte[]> items) || !Distinct(type, items))
        {
            context.WriteError(unsupported is null ? "ERR Bad data format" : $"ERR Bad data format: the payload holds {unsupported}, which Durable does not store");
            return;
        }

        if (type == RecordType.String && !TypedRecords.FitsRecord(context, key, items[0].Length))
        {
            return;
        }

        if (ReplaceUnlessExpired(context, key, replace, expiresAtMs) && Save(context, key, type, items, expiresAtMs))
        {
            context.Notify(KeyspaceEventClass.Generic, "restore"u8, key);
            context.WriteOk();
            PropagateAbsoluteTtl(context, args, absoluteTtl ? 0 : expiresAtMs);
        }
    }

    // Redis: a relative TTL reaches replicas as the time it falls on, with ABSTTL added (a DEL asked for first stays).
    private static void PropagateAbsoluteTtl(CommandContext context, RespArgs args, long expiresAtMs)
    {
        if (expiresAtMs == 0 || context.Rewritten is not null)
        {
            return;
        }

        byte[][] propagated = [.. Server.Propagation.Copy(args), "ABSTTL"u8.ToArray()];
        propagated[2] = Server.Propagation.Number(expiresAtMs);
        context.PropagateAs(propagated);
    }

    // A stream payload (Redis RDB types 15, 19, 21): read whole into a new stream before anything changes.
    private static void RestoreStream(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, bool replace, long expiresAtMs)
    {
        Streams.StreamValue stream = Streams.StreamValue.Create(context, expiresAtMs);
        if (!Streams.StreamRdb.Read(payload[..^RdbPayload.FooterSize], stream))
        {
            context.WriteError("ERR Bad data format"u8);
            return;
        }

        if (ReplaceUnlessExpired(context, key, replace, expiresAtMs) && stream.Save(key))
        {
            context.Notify(KeyspaceEventClass.Generic, "restore"u8, key);
            context.WriteOk();
        }
    }

    // With REPLACE the old key goes; a value already expired is not created (OK, and "del" for a key it replaced).
    // True when the value is to be stored.
    private static bool ReplaceUnlessExpired(CommandContext context, ReadOnlySpan<byte> key, bool replace, long expiresAtMs)
    {
        bool deleted = replace && context.Session.Delete(context.Db, key);
        if (expiresAtMs == 0 || expiresAtMs > context.NowMs)
        {
            return true;
        }

        if (deleted)
        {
            context.Notify(KeyspaceEventClass.Generic, "del"u8, key);
            context.PropagateAs("DEL"u8.ToArray(), key.ToArray());
        }

        context.WriteOk();
        return false;
    }

    // Redis refuses a payload whose hash has a field twice, or whose set or sorted set has a member twice.
    private static bool Distinct(RecordType type, List<byte[]> items)
    {
        int width = type switch
        {
            RecordType.Hash or RecordType.SortedSet => 2,
            RecordType.Set => 1,
            _ => 0,
        };
        if (width == 0)
        {
            return true;
        }

        HashSet<byte[]> seen = new(ByteArrayComparer.Instance);
        for (int i = 0; i < items.Count; i += width)
        {
            if (!seen.Add(items[i]))
            {
                return false;
            }
        }

        return true;
    }

    // Stores the value in the encoding Redis's rdbLoadObject leaves it in: a small encoding while the value fits it.
    private static bool Save(CommandContext context, ReadOnlySpan<byte> key, RecordType type, List<byte[]> items, long expiresAtMs)
    {
        Server.ServerConfig config = context.Server.Config;
        switch (type)
        {
            case RecordType.String:
                context.Session.Write(context.Db, key, RecordType.String, items[0], expiresAtMs);
                return true;
            case RecordType.List:
                return Lists.ListRecords.Save(context, key, items, expiresAtMs);
            case RecordType.Set:
                return Sets.SetRecords.Save(context, key, Sets.SetMembers.Build(items, config.SetMaxIntsetEntries), expiresAtMs);
            case RecordType.Hash:
                bool largeHash = items.Count / 2 > config.HashMaxListpackEntries || items.Exists(i => i.Length > config.HashMaxListpackValue);
                return CollectionRecords.Save(context, key, RecordType.Hash, largeHash ? PackedItems.LargeEncoding : (byte)0, items, expiresAtMs, width: 2);
            default:
                List<SortedSets.ScoredMember> members = new(items.Count / 2);
                for (int i = 0; i < items.Count; i += 2)
                {
                    members.Add(SortedSets.ScoredMember.FromItems(items[i], items[i + 1]));
                }

                members.Sort((a, b) => SortedSets.ScoredMember.Compare(a.Score, a.Member, b.Score, b.Member));
                List<byte[]> ordered = new(items.Count);
                foreach (SortedSets.ScoredMember member in members)
                {
                    ordered.Add(member.Member);
                    ordered.Add(SortedSets.ScoredMember.ScoreBytes(member.Score));
                }

                bool largeSet = members.Count > config.ZsetMaxListpackEntries || members.Exists(m => m.Member.Length > config.ZsetMaxListpackValue);
                return SortedSets.SortedSetValue.FromItems(ordered, largeSet).Save(context, key, expiresAtMs);
        }
    }
}
