using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Durable.Commands.SortedSets;
using Durable.Storage;

namespace Durable.Commands;

/// <summary>
/// A key's value in Redis's RDB object format (Redis 7.0's rdb.c, listpack.c, ziplist.c, intset.c, zipmap.c), as DUMP
/// writes it and RESTORE reads it: the type byte, then the value in the encoding Redis 7.0 writes for it (a string; a
/// list as a quicklist of listpacks; a small set as an intset, a small hash or sorted set as a listpack, large ones
/// member by member). RESTORE also reads what older Redis versions wrote (ziplists, zipmaps, plain lists and sorted
/// sets). Items are in Durable's layouts: a hash's fields and values alternate, a sorted set's members and their
/// <see cref="ScoredMember.ScoreBytes"/> alternate (in order), a list's and a set's are their members.
/// </summary>
internal static class RdbValue
{
    // RDB_TYPE_*.
    private const byte TypeString = 0;
    private const byte TypeList = 1;
    private const byte TypeSet = 2;
    private const byte TypeZset = 3;
    private const byte TypeHash = 4;
    private const byte TypeZset2 = 5;
    private const byte TypeHashZipmap = 9;
    private const byte TypeListZiplist = 10;
    private const byte TypeSetIntset = 11;
    private const byte TypeZsetZiplist = 12;
    private const byte TypeHashZiplist = 13;
    private const byte TypeListQuicklist = 14;
    private const byte TypeHashListpack = 16;
    private const byte TypeZsetListpack = 17;
    private const byte TypeListQuicklist2 = 18;

    // QUICKLIST_NODE_CONTAINER_*.
    private const int ContainerPlain = 1;
    private const int ContainerPacked = 2;

    // list-max-listpack-size -2 (Redis's default): a quicklist node's listpack grows to 8 KiB.
    private const int QuicklistNodeBytes = 8192;

    /// <summary>
    /// Writes a value as Redis 7.0 dumps it. <paramref name="large"/>: the collection is in Redis's large encoding
    /// (hashtable, skiplist), so it is written member by member rather than as an intset or a listpack.
    /// </summary>
    public static void Write(ArrayBufferWriter<byte> output, RecordType type, IReadOnlyList<byte[]> items, bool large)
    {
        switch (type)
        {
            case RecordType.String:
                WriteByte(output, TypeString);
                RdbPayload.WriteString(output, items[0]);
                break;
            case RecordType.List:
                WriteByte(output, TypeListQuicklist2);
                WriteQuicklist(output, items);
                break;
            case RecordType.Set when !large:
                WriteByte(output, TypeSetIntset);
                RdbPayload.WriteString(output, Intset(items));
                break;
            case RecordType.Set:
                WriteByte(output, TypeSet);
                WriteStrings(output, items, items.Count);
                break;
            case RecordType.Hash when !large:
                WriteByte(output, TypeHashListpack);
                RdbPayload.WriteString(output, Listpack(items));
                break;
            case RecordType.Hash:
                WriteByte(output, TypeHash);
                WriteStrings(output, items, items.Count / 2);
                break;
            case RecordType.SortedSet when !large:
                WriteByte(output, TypeZsetListpack);
                RdbPayload.WriteString(output, Listpack(ListpackScores(items)));
                break;
            case RecordType.SortedSet:
                // Redis writes a skiplist from its greatest member to its smallest, each score as a binary double.
                WriteByte(output, TypeZset2);
                RdbPayload.WriteLength(output, (ulong)(items.Count / 2));
                for (int i = items.Count - 2; i >= 0; i -= 2)
                {
                    RdbPayload.WriteString(output, items[i]);
                    output.Write(items[i + 1]);
                }

                break;
            default:
                throw new InvalidOperationException($"no RDB type for record type {type}");
        }
    }

    private static void WriteByte(ArrayBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteStrings(ArrayBufferWriter<byte> output, IReadOnlyList<byte[]> items, int count)
    {
        RdbPayload.WriteLength(output, (ulong)count);
        foreach (byte[] item in items)
        {
            RdbPayload.WriteString(output, item);
        }
    }

    // A sorted set's items with each score as the text a listpack holds (an integral score as an integer).
    private static List<byte[]> ListpackScores(IReadOnlyList<byte[]> items)
    {
        List<byte[]> entries = new(items.Count);
        Span<byte> text = stackalloc byte[32];
        for (int i = 0; i < items.Count; i += 2)
        {
            entries.Add(items[i]);
            int length = ScoreText.FormatListpack(BinaryPrimitives.ReadDoubleLittleEndian(items[i + 1]), text);
            entries.Add(text[..length].ToArray());
        }

        return entries;
    }

    // Redis quicklistPush at the tail, node after node: a node takes an element while its listpack, the element and
    // the element's overhead stay within 8 KiB (or while it is empty).
    private static void WriteQuicklist(ArrayBufferWriter<byte> output, IReadOnlyList<byte[]> items)
    {
        List<List<byte[]>> nodes = [];
        List<byte[]>? node = null;
        long nodeBytes = 0;
        foreach (byte[] item in items)
        {
            int overhead = (item.Length < 254 ? 1 : 5) + (item.Length < 64 ? 1 : item.Length < 16384 ? 2 : 5);
            if (node is null || nodeBytes + item.Length + overhead > QuicklistNodeBytes)
            {
                node = [];
                nodes.Add(node);
                nodeBytes = ListpackHeaderBytes + 1;
            }

            node.Add(item);
            nodeBytes += ListpackEntryBytes(item);
        }

        RdbPayload.WriteLength(output, (ulong)nodes.Count);
        foreach (List<byte[]> packed in nodes)
        {
            RdbPayload.WriteLength(output, ContainerPacked);
            RdbPayload.WriteString(output, Listpack(packed));
        }
    }

    private const int ListpackHeaderBytes = 6;

    /// <summary>A listpack of <paramref name="entries"/> (Redis's lpAppend of each: integers as integers).</summary>
    public static byte[] Listpack(IReadOnlyList<byte[]> entries)
    {
        long total = ListpackHeaderBytes + 1;
        foreach (byte[] entry in entries)
        {
            total += ListpackEntryBytes(entry);
        }

        byte[] listpack = new byte[total];
        BinaryPrimitives.WriteUInt32LittleEndian(listpack, (uint)total);
        BinaryPrimitives.WriteUInt16LittleEndian(listpack.AsSpan(4), (ushort)Math.Min(entries.Count, ushort.MaxValue));
        int position = ListpackHeaderBytes;
        Span<byte> encoding = stackalloc byte[9];
        foreach (byte[] entry in entries)
        {
            int length = EncodeListpackEntry(entry, encoding);
            int start = position;
            encoding[..length].CopyTo(listpack.AsSpan(position));
            position += length;
            if (!IsListpackInteger(entry, out _))
            {
                entry.CopyTo(listpack, position);
                position += entry.Length;
            }

            position += EncodeBacklen(position - start, listpack.AsSpan(position));
        }

        listpack[position] = 0xFF;
        return listpack;
    }

    private static long ListpackEntryBytes(byte[] entry)
    {
        Span<byte> encoding = stackalloc byte[9];
        int length = EncodeListpackEntry(entry, encoding);
        long body = length + (IsListpackInteger(entry, out _) ? 0 : entry.Length);
        return body + EncodeBacklen(body, []);
    }

    // lpStringToInt64: a canonical integer (string2ll's rules) of at most 20 characters.
    private static bool IsListpackInteger(byte[] entry, out long value)
    {
        value = 0;
        return entry.Length is > 0 and <= 20 && Protocol.RedisNumber.TryParseInt64(entry, out value)
            && entry.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)));
    }

    // The entry's encoding bytes: an integer's whole encoding, or a string's length header (its bytes follow).
    private static int EncodeListpackEntry(byte[] entry, Span<byte> encoding)
    {
        if (IsListpackInteger(entry, out long v))
        {
            if (v is >= 0 and <= 127)
            {
                encoding[0] = (byte)v;
                return 1;
            }

            if (v is >= -4096 and <= 4095)
            {
                long u = v < 0 ? (1L << 13) + v : v;
                encoding[0] = (byte)((u >> 8) | 0xC0);
                encoding[1] = (byte)u;
                return 2;
            }

            if (v is >= short.MinValue and <= short.MaxValue)
            {
                encoding[0] = 0xF1;
                BinaryPrimitives.WriteInt16LittleEndian(encoding[1..], (short)v);
                return 3;
            }

            if (v is >= -8388608 and <= 8388607)
            {
                long u = v < 0 ? (1L << 24) + v : v;
                encoding[0] = 0xF2;
                encoding[1] = (byte)u;
                encoding[2] = (byte)(u >> 8);
                encoding[3] = (byte)(u >> 16);
                return 4;
            }

            if (v is >= int.MinValue and <= int.MaxValue)
            {
                encoding[0] = 0xF3;
                BinaryPrimitives.WriteInt32LittleEndian(encoding[1..], (int)v);
                return 5;
            }

            encoding[0] = 0xF4;
            BinaryPrimitives.WriteInt64LittleEndian(encoding[1..], v);
            return 9;
        }

        int length = entry.Length;
        if (length < 64)
        {
            encoding[0] = (byte)(0x80 | length);
            return 1;
        }

        if (length < 4096)
        {
            encoding[0] = (byte)(0xE0 | (length >> 8));
            encoding[1] = (byte)length;
            return 2;
        }

        encoding[0] = 0xF0;
        BinaryPrimitives.WriteInt32LittleEndian(encoding[1..], length);
        return 5;
    }

    // lpEncodeBacklen: the entry's length, so that the listpack can be walked backwards; its size when output is empty.
    private static int EncodeBacklen(long length, Span<byte> output)
    {
        int size = length <= 127 ? 1 : length < 16383 ? 2 : length < 2097151 ? 3 : length < 268435455 ? 4 : 5;
        if (output.IsEmpty)
        {
            return size;
        }

        for (int i = 0; i < size; i++)
        {
            byte part = (byte)((length >> (7 * (size - 1 - i))) & 127);
            output[i] = i == 0 ? part : (byte)(part | 128);
        }

        return size;
    }

    // An intset of the members (all integers): the narrowest width that holds them, ascending.
    private static byte[] Intset(IReadOnlyList<byte[]> members)
    {
        long[] values = new long[members.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = long.Parse(Encoding.ASCII.GetString(members[i]), CultureInfo.InvariantCulture);
        }

        Array.Sort(values);
        int width = values.Length == 0 ? 2 : values.Max(v => v is >= short.MinValue and <= short.MaxValue ? 2 : v is >= int.MinValue and <= int.MaxValue ? 4 : 8);
        byte[] intset = new byte[8 + (width * values.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(intset, (uint)width);
        BinaryPrimitives.WriteUInt32LittleEndian(intset.AsSpan(4), (uint)values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            Span<byte> slot = intset.AsSpan(8 + (i * width));
            switch (width)
            {
                case 2:
                    BinaryPrimitives.WriteInt16LittleEndian(slot, (short)values[i]);
                    break;
                case 4:
                    BinaryPrimitives.WriteInt32LittleEndian(slot, (int)values[i]);
                    break;
                default:
                    BinaryPrimitives.WriteInt64LittleEndian(slot, values[i]);
                    break;
            }
        }

        return intset;
    }

    /// <summary>
    /// Reads a value from a payload (its type byte first): the record type and items in Durable's layouts, and whether
    /// it came as a listpack, ziplist, intset or zipmap (Redis keeps such a value in its small encoding while it fits).
    /// Null with a reason when the payload holds something else or is damaged.
    /// </summary>
    public static (RecordType Type, List<byte[]> Items)? Read(ReadOnlySpan<byte> payload, out string? unsupported)
    {
        unsupported = null;
        int position = 0;
        if (payload.IsEmpty)
        {
            return null;
        }

        byte type = payload[position++];
        List<byte[]> items = [];
        switch (type)
        {
            case TypeString:
                return RdbPayload.ReadString(payload, ref position) is { } value ? (RecordType.String, [value]) : null;
            case TypeList or TypeSet or TypeHash:
                return ReadStrings(payload, ref position, type == TypeHash ? 2 : 1, items)
                    ? (type == TypeList ? RecordType.List : type == TypeSet ? RecordType.Set : RecordType.Hash, items)
                    : null;
            case TypeZset or TypeZset2:
                return ReadScored(payload, ref position, binary: type == TypeZset2, items) ? (RecordType.SortedSet, items) : null;
            case TypeListZiplist or TypeHashZiplist or TypeZsetZiplist:
                if (RdbPayload.ReadString(payload, ref position) is not { } ziplist || !Ziplist(ziplist, items))
                {
                    return null;
                }

                return type switch
                {
                    TypeListZiplist => (RecordType.List, items),
                    _ when items.Count % 2 != 0 => null,
                    TypeHashZiplist => (RecordType.Hash, items),
                    _ => ScoresFromText(items) ? (RecordType.SortedSet, items) : null,
                };
            case TypeHashListpack or TypeZsetListpack:
                if (RdbPayload.ReadString(payload, ref position) is not { } listpack || !ReadListpack(listpack, items) || items.Count % 2 != 0)
                {
                    return null;
                }

                return type == TypeHashListpack ? (RecordType.Hash, items) : ScoresFromText(items) ? (RecordType.SortedSet, items) : null;
            case TypeSetIntset:
                return RdbPayload.ReadString(payload, ref position) is { } intset && ReadIntset(intset, items) ? (RecordType.Set, items) : null;
            case TypeHashZipmap:
                return RdbPayload.ReadString(payload, ref position) is { } zipmap && ReadZipmap(zipmap, items) ? (RecordType.Hash, items) : null;
            case TypeListQuicklist or TypeListQuicklist2:
                return ReadQuicklist(payload, ref position, type == TypeListQuicklist2, items) ? (RecordType.List, items) : null;
            default:
                unsupported = type is 6 or 7 ? "a module's value" : null;
                return null;
        }
    }

    private static bool ReadStrings(ReadOnlySpan<byte> payload, ref int position, int width, List<byte[]> items)
    {
        if (!RdbPayload.TryReadLength(payload, ref position, out ulong count, out bool encoded) || encoded || count == 0)
        {
            return false;
        }

        for (ulong i = 0; i < count * (ulong)width; i++)
        {
            if (RdbPayload.ReadString(payload, ref position) is not { } item)
            {
                return false;
            }

            items.Add(item);
        }

        return true;
    }

    // A sorted set member by member: each score a binary double (ZSET_2) or Redis's text double (ZSET).
    private static bool ReadScored(ReadOnlySpan<byte> payload, ref int position, bool binary, List<byte[]> items)
    {
        if (!RdbPayload.TryReadLength(payload, ref position, out ulong count, out bool encoded) || encoded || count == 0)
        {
            return false;
        }

        for (ulong i = 0; i < count; i++)
        {
            if (RdbPayload.ReadString(payload, ref position) is not { } member)
            {
                return false;
            }

            double score;
            if (binary)
            {
                if (position + 8 > payload.Length)
                {
                    return false;
                }

                score = BinaryPrimitives.ReadDoubleLittleEndian(payload[position..]);
                position += 8;
            }
            else
            {
                // rdbLoadDoubleValue: a length byte (253 NaN, 254 +inf, 255 -inf), then the number's text.
                if (position >= payload.Length)
                {
                    return false;
                }

                int length = payload[position++];
                if (length >= 253)
                {
                    score = length == 253 ? double.NaN : length == 254 ? double.PositiveInfinity : double.NegativeInfinity;
                }
                else if (position + length > payload.Length || ScoreText.ParsePrefix(payload.Slice(position, length), out score) == 0)
                {
                    return false;
                }
                else
                {
                    position += length;
                }
            }

            if (double.IsNaN(score))
            {
                return false;
            }

            items.Add(member);
            items.Add(ScoredMember.ScoreBytes(score));
        }

        return true;
    }

    // A sorted set's scores read as ziplists and listpacks hold them (text or integer entries) into score bytes.
    private static bool ScoresFromText(List<byte[]> items)
    {
        for (int i = 1; i < items.Count; i += 2)
        {
            if (ScoreText.ParsePrefix(items[i], out double score) != items[i].Length || double.IsNaN(score))
            {
                return false;
            }

            items[i] = ScoredMember.ScoreBytes(score);
        }

        return true;
    }

    private static bool ReadQuicklist(ReadOnlySpan<byte> payload, ref int position, bool listpacks, List<byte[]> items)
    {
        if (!RdbPayload.TryReadLength(payload, ref position, out ulong nodes, out bool encoded) || encoded || nodes == 0)
        {
            return false;
        }

        for (ulong i = 0; i < nodes; i++)
        {
            ulong container = ContainerPacked;
            if (listpacks && (!RdbPayload.TryReadLength(payload, ref position, out container, out encoded) || encoded
                || container is not (ContainerPlain or ContainerPacked)))
            {
                return false;
            }

            if (RdbPayload.ReadString(payload, ref position) is not { } node)
            {
                return false;
            }

            if (container == ContainerPlain)
            {
                items.Add(node);
            }
            else if (!(listpacks ? ReadListpack(node, items) : Ziplist(node, items)))
            {
                return false;
            }
        }

        return items.Count > 0;
    }

    /// <summary>The entries of a listpack (integers as their decimal text); false when it is damaged.</summary>
    public static bool ReadListpack(ReadOnlySpan<byte> listpack, List<byte[]> items)
    {
        if (listpack.Length < ListpackHeaderBytes + 1 || BinaryPrimitives.ReadUInt32LittleEndian(listpack) != listpack.Length)
        {
            return false;
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(listpack[4..]);
        int position = ListpackHeaderBytes;
        int read = 0;
        Span<byte> expected = stackalloc byte[5];
        while (position < listpack.Length && listpack[position] != 0xFF)
        {
            int start = position;
            byte first = listpack[position];
            byte[] item;
            if ((first & 0x80) == 0)
            {
                item = Number(first);
                position += 1;
            }
            else if ((first & 0xC0) == 0x80)
            {
                int length = first & 0x3F;
                if (position + 1 + length > listpack.Length)
                {
                    return false;
                }

                item = listpack.Slice(position + 1, length).ToArray();
                position += 1 + length;
            }
            else if ((first & 0xE0) == 0xC0)
            {
                if (position + 2 > listpack.Length)
                {
                    return false;
                }

                int u = ((first & 0x1F) << 8) | listpack[position + 1];
                item = Number(u >= 1 << 12 ? u - (1 << 13) : u);
                position += 2;
            }
            else if ((first & 0xF0) == 0xE0)
            {
                if (position + 2 > listpack.Length)
                {
                    return false;
                }

                int length = ((first & 0x0F) << 8) | listpack[position + 1];
                if (position + 2 + length > listpack.Length)
                {
                    return false;
                }

                item = listpack.Slice(position + 2, length).ToArray();
                position += 2 + length;
            }
            else
            {
                int size = first switch { 0xF0 => 4, 0xF1 => 2, 0xF2 => 3, 0xF3 => 4, 0xF4 => 8, _ => -1 };
                if (size < 0 || position + 1 + size > listpack.Length)
                {
                    return false;
                }

                ReadOnlySpan<byte> body = listpack.Slice(position + 1, size);
                if (first == 0xF0)
                {
                    long length = BinaryPrimitives.ReadUInt32LittleEndian(body);
                    if (position + 5 + length > listpack.Length)
                    {
                        return false;
                    }

                    item = listpack.Slice(position + 5, (int)length).ToArray();
                    position += 5 + (int)length;
                }
                else
                {
                    long value = first switch
                    {
                        0xF1 => BinaryPrimitives.ReadInt16LittleEndian(body),
                        0xF2 => (body[0] | (body[1] << 8) | (body[2] << 16)) << 8 >> 8,
                        0xF3 => BinaryPrimitives.ReadInt32LittleEndian(body),
                        _ => BinaryPrimitives.ReadInt64LittleEndian(body),
                    };
                    item = Number(value);
                    position += 1 + size;
                }
            }

            // The back length must say how long the entry was.
            int backlen = EncodeBacklen(position - start, expected);
            if (position + backlen > listpack.Length || !listpack.Slice(position, backlen).SequenceEqual(expected[..backlen]))
            {
                return false;
            }

            position += backlen;
            items.Add(item);
            read++;
        }

        return position == listpack.Length - 1 && read > 0 && (count == ushort.MaxValue || count == read);
    }

    /// <summary>The entries of a ziplist (Redis before 7.0; integers as their decimal text); false when it is damaged.</summary>
    public static bool Ziplist(ReadOnlySpan<byte> ziplist, List<byte[]> items)
    {
        if (ziplist.Length < 11 || BinaryPrimitives.ReadUInt32LittleEndian(ziplist) != ziplist.Length)
        {
            return false;
        }

        int position = 10;
        while (position < ziplist.Length && ziplist[position] != 0xFF)
        {
            // The previous entry's length: one byte, or 0xFE and four.
            position += ziplist[position] < 254 ? 1 : 5;
            if (position >= ziplist.Length)
            {
                return false;
            }

            byte encoding = ziplist[position];
            int stringLength = -1;
            int header = 1;
            switch (encoding >> 6)
            {
                case 0:
                    stringLength = encoding & 0x3F;
                    break;
                case 1:
                    if (position + 2 > ziplist.Length)
                    {
                        return false;
                    }

                    stringLength = ((encoding & 0x3F) << 8) | ziplist[position + 1];
                    header = 2;
                    break;
                case 2:
                    if (position + 5 > ziplist.Length)
                    {
                        return false;
                    }

                    stringLength = (int)BinaryPrimitives.ReadUInt32BigEndian(ziplist[(position + 1)..]);
                    header = 5;
                    break;
            }

            if (stringLength >= 0)
            {
                if (stringLength > ziplist.Length - position - header)
                {
                    return false;
                }

                items.Add(ziplist.Slice(position + header, stringLength).ToArray());
                position += header + stringLength;
                continue;
            }

            int size = encoding switch { 0xC0 => 2, 0xD0 => 4, 0xE0 => 8, 0xF0 => 3, 0xFE => 1, >= 0xF1 and <= 0xFD => 0, _ => -1 };
            if (size < 0 || position + 1 + size > ziplist.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> body = ziplist.Slice(position + 1, size);
            long value = encoding switch
            {
                0xC0 => BinaryPrimitives.ReadInt16LittleEndian(body),
                0xD0 => BinaryPrimitives.ReadInt32LittleEndian(body),
                0xE0 => BinaryPrimitives.ReadInt64LittleEndian(body),
                0xF0 => (body[0] | (body[1] << 8) | (body[2] << 16)) << 8 >> 8,
                0xFE => (sbyte)body[0],
                _ => (encoding & 0x0F) - 1,
            };
            items.Add(Number(value));
            position += 1 + size;
        }

        return position == ziplist.Length - 1 && items.Count > 0;
    }

    private static bool ReadIntset(ReadOnlySpan<byte> intset, List<byte[]> items)
    {
        if (intset.Length < 8)
        {
            return false;
        }

        uint width = BinaryPrimitives.ReadUInt32LittleEndian(intset);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(intset[4..]);
        if (width is not (2 or 4 or 8) || count == 0 || intset.Length != 8 + ((long)width * count))
        {
            return false;
        }

        long previous = long.MinValue;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> slot = intset.Slice(8 + (i * (int)width), (int)width);
            long value = width == 2 ? BinaryPrimitives.ReadInt16LittleEndian(slot) : width == 4 ? BinaryPrimitives.ReadInt32LittleEndian(slot) : BinaryPrimitives.ReadInt64LittleEndian(slot);
            if (i > 0 && value <= previous)
            {
                return false;
            }

            previous = value;
            items.Add(Number(value));
        }

        return true;
    }

    // A zipmap (Redis 2.x hashes): a count byte, then key and value each after its length, a value after a free count.
    private static bool ReadZipmap(ReadOnlySpan<byte> zipmap, List<byte[]> items)
    {
        int position = 1;
        while (position < zipmap.Length && zipmap[position] != 0xFF)
        {
            for (int part = 0; part < 2; part++)
            {
                if (position >= zipmap.Length)
                {
                    return false;
                }

                long length = zipmap[position] < 254 ? zipmap[position] : -1;
                position++;
                if (length < 0)
                {
                    if (position + 4 > zipmap.Length)
                    {
                        return false;
                    }

                    length = BinaryPrimitives.ReadUInt32LittleEndian(zipmap[position..]);
                    position += 4;
                }

                int free = 0;
                if (part == 1)
                {
                    if (position >= zipmap.Length)
                    {
                        return false;
                    }

                    free = zipmap[position++];
                }

                if (length + free > zipmap.Length - position)
                {
                    return false;
                }

                items.Add(zipmap.Slice(position, (int)length).ToArray());
                position += (int)length + free;
            }
        }

        return position == zipmap.Length - 1 && items.Count > 0;
    }

    private static byte[] Number(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
}
