using System.Text;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// DUMP and RESTORE against redis-server: DUMP's payloads byte for byte wherever Redis's are deterministic (strings,
/// lists, intsets, listpacks, skiplists), Redis's payloads of every type restored by Durable and Durable's by Redis,
/// payloads of older Redis versions (ziplists, zipmaps, plain lists), RESTORE's options and errors.
/// </summary>
public sealed class DumpRestoreTests(ReferenceServers servers)
{
    [Fact]
    public void Dump_IsRedissByteForByte_AndRestoresOnBoth()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string[][] setup =
        [
            ["SET", p + "s1", "hello"], ["SET", p + "s2", "12345"], ["SET", p + "s3", string.Concat(Enumerable.Repeat("abc", 30))],
            ["SET", p + "s4", "12345678901"], ["SET", p + "s5", ""], ["SET", p + "s6", "-70000"], ["SET", p + "s7", "007"],
            ["RPUSH", p + "l1", "a", "b", "1", "-5", "300", "70000", "x", "9223372036854775807", "-9223372036854775808", new string('y', 100), new string('z', 5000)],
            ["SADD", p + "i1", "1", "5", "-3"], ["SADD", p + "i2", "1", "100000"], ["SADD", p + "i3", "1", "10000000000"],
            ["HSET", p + "h1", "f1", "v1", "f2", "2", "f3", new string('v', 64)],
            ["ZADD", p + "z1", "1", "a", "2.5", "b", "-3", "c", "1e20", "d", "0.1", "e", "inf", "f", "-inf", "g"],
            ["SET", p + "ttl", "v", "PX", "100000"],
        ];
        foreach (string[] command in setup)
        {
            both.Same(command);
        }

        for (int i = 0; i < 300; i++)
        {
            both.Same("RPUSH", p + "big-list", $"element-{i}-{new string('x', i % 120)}");
            both.Same("ZADD", p + "big-zset", (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture), "m" + i);
        }

        foreach (string key in new[] { "s1", "s2", "s3", "s4", "s5", "s6", "s7", "l1", "i1", "i2", "i3", "h1", "z1", "big-list", "big-zset", "ttl", "missing" })
        {
            string dump = both.Same("DUMP", p + key);
            if (key == "missing")
            {
                continue;
            }

            // Each server restores the other's payload (the same bytes) into the same value and encoding.
            string payload = Bulk(dump);
            both.Same("RESTORE", p + key + ":copy", "0", payload);
            both.Same("DUMP", p + key + ":copy");
            both.Same("OBJECT", "ENCODING", p + key + ":copy");
            both.Same("TYPE", p + key + ":copy");
        }
    }

    [Fact]
    public void HashtableValues_MoveBothWays()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        for (int i = 0; i < 600; i++)
        {
            both.Same("SADD", p + "set", "member-" + i);
            both.Same("HSET", p + "hash", "field-" + i, "value-" + i);
        }

        both.Same("SADD", p + "small-set", "a", "b");
        both.Same("HSET", p + "long-hash", "f", new string('v', 65));

        // Redis writes a hashtable in its own order: what must match is what the other server reads back.
        foreach (string key in new[] { "set", "hash", "small-set", "long-hash" })
        {
            string fromRedis = Bulk(both.Redis.Call("DUMP", p + key));
            string fromDurable = Bulk(both.Durable.Call("DUMP", p + key));
            Assert.Equal("+OK\r\n", both.Durable.Call("RESTORE", p + key + ":r", "0", fromRedis));
            Assert.Equal("+OK\r\n", both.Redis.Call("RESTORE", p + key + ":r", "0", fromDurable));
            both.Same("OBJECT", "ENCODING", p + key + ":r");
            Assert.Equal(Sorted(both.Redis, key.Contains("hash", StringComparison.Ordinal) ? "HGETALL" : "SMEMBERS", p + key), Sorted(both.Durable, key.Contains("hash", StringComparison.Ordinal) ? "HGETALL" : "SMEMBERS", p + key + ":r"));
            Assert.Equal(Sorted(both.Durable, key.Contains("hash", StringComparison.Ordinal) ? "HGETALL" : "SMEMBERS", p + key), Sorted(both.Redis, key.Contains("hash", StringComparison.Ordinal) ? "HGETALL" : "SMEMBERS", p + key + ":r"));
        }
    }

    [Fact]
    public void Restore_OptionsAndErrors_AsRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("SET", p + "src", "value");
        string payload = Bulk(both.Same("DUMP", p + "src"));
        string future = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[][] commands =
        [
            ["RESTORE", p + "src", "0", payload], ["RESTORE", p + "src", "0", payload, "REPLACE"], ["RESTORE", p + "a", "-1", payload],
            ["RESTORE", p + "a", "x", payload], ["RESTORE", p + "a", "0", "garbage"], ["RESTORE", p + "a", "0", payload[..^1] + "x"],
            ["RESTORE", p + "a", "0", payload, "BOGUS"], ["RESTORE", p + "a", "0", payload, "IDLETIME"], ["RESTORE", p + "a", "0", payload, "IDLETIME", "-1"],
            ["RESTORE", p + "a", "0", payload, "IDLETIME", "x"], ["RESTORE", p + "a", "0", payload, "FREQ", "256"], ["RESTORE", p + "a", "0", payload, "FREQ", "-1"],
            ["RESTORE", p + "a", "0", payload, "IDLETIME", "5", "FREQ", "5"], ["RESTORE", p + "a", "0", payload, "FREQ", "5", "IDLETIME", "5"],
            ["RESTORE", p + "a", "0", payload, "IDLETIME", "5", "replace"], ["GET", p + "a"], ["RESTORE", p + "b", "0", payload, "FREQ", "255", "absttl"],
            ["RESTORE", p + "c", "1", payload, "ABSTTL"], ["EXISTS", p + "c"], ["RESTORE", p + "a", "1", payload, "ABSTTL", "REPLACE"], ["EXISTS", p + "a"],
            ["RESTORE", p + "d", future, payload, "ABSTTL"], ["RESTORE", p + "a", "0"], ["RESTORE", p + "a"],
            ["RESTORE", p + "e", "0", Sealed("\u00ee\u0001a")], ["RESTORE", p + "e", "0", Sealed("\u0000\u0005ab")],
            ["RESTORE", p + "e", "0", Sealed("\u0002\u0002\u0001a\u0001a")], ["RESTORE", p + "e", "0", Sealed("\u0004\u0002\u0001f\u0001v\u0001f\u0001w")],
            ["RESTORE", p + "e", "0", Sealed("\u0002\u0000")], ["RESTORE", p + "e", "0", Sealed("")],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        Assert.InRange(long.Parse(both.Durable.Call("PTTL", p + "d")[1..].TrimEnd(), System.Globalization.CultureInfo.InvariantCulture), 90_000, 100_000);
        both.Same("RESTORE", p + "f", "50000", payload);
        Assert.InRange(long.Parse(both.Durable.Call("PTTL", p + "f")[1..].TrimEnd(), System.Globalization.CultureInfo.InvariantCulture), 40_000, 50_000);
    }

    [Fact]
    public void OlderFormats_RestoreAsRedisRestoresThem()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        byte[] ziplist = Ziplist("a", "1", "-200", "b", "70000", "c");
        string[] bodies =
        [
            "\u0001" + Strings(3, "x", "y", "12"), // RDB_TYPE_LIST
            "\u0003\u0002\u0001a\u00032.5\u0001b\u00fe", // RDB_TYPE_ZSET: text scores, 254 = +inf
            "\u0004" + Strings(1, "f", "v"), // RDB_TYPE_HASH: the count is of pairs
            "\u0005\u0001\u0001m" + Encoding.Latin1.GetString(BitConverter.GetBytes(1.25)), // RDB_TYPE_ZSET_2
            "\u000a" + Blob(ziplist), // RDB_TYPE_LIST_ZIPLIST
            "\u000d" + Blob(Ziplist("f1", "v1", "f2", "2")), // RDB_TYPE_HASH_ZIPLIST
            "\u000c" + Blob(Ziplist("m", "1.5", "n", "2")), // RDB_TYPE_ZSET_ZIPLIST
            "\u000e\u0002" + Blob(Ziplist("a", "b")) + Blob(Ziplist("3")), // RDB_TYPE_LIST_QUICKLIST
            "\u0009" + Blob([2, 1, (byte)'k', 2, 0, (byte)'v', (byte)'w', 1, (byte)'x', 1, 1, (byte)'y', (byte)'!', 0xFF]), // RDB_TYPE_HASH_ZIPMAP
            "\u0012\u0002\u0001" + Blob(Encoding.ASCII.GetBytes("plain element")) + "\u0002" + Blob(ListpackOf("q")), // a plain node
        ];
        for (int i = 0; i < bodies.Length; i++)
        {
            string key = p + i;
            both.Same("RESTORE", key, "0", Sealed(bodies[i]));
            both.Same("TYPE", key);
            both.Same("OBJECT", "ENCODING", key);

            // Redis keeps a restored list's quicklist nodes as they came; Durable packs them anew.
            if (both.Durable.Call("TYPE", key) == "+list\r\n")
            {
                both.Same("LRANGE", key, "0", "-1");
            }
            else
            {
                both.Same("DUMP", key);
            }
        }
    }

    // Damaged encodings, which Redis (without sanitize-dump-payload) may crash on: Durable checks every payload whole.
    [Fact]
    public void DamagedEncodings_AreRefused()
    {
        byte[] ziplist = Ziplist("a", "1");
        byte[] listpack = ListpackOf("a", "b");
        using RespTestClient client = servers.Durable.Connect();
        string p = servers.NewPrefix();
        string[] bodies =
        [
            "\u000a" + Blob(ziplist[..^1]), "\u000c" + Blob(Ziplist("m")), "\u0011" + Blob([7, 0, 0, 0, 0, 0, 0xFF]),
            "\u0010" + Blob([.. listpack[..^2], 0x7F, 0xFF]), "\u0010" + Blob([.. listpack[..4], 9, 0, .. listpack[6..]]),
            "\u000b" + Blob([2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]), "\u000b" + Blob([3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0]),
            "\u0012\u0001\u0003" + Blob(listpack), "\u000f\u0000", "\u0007\u0000",
        ];
        for (int i = 0; i < bodies.Length; i++)
        {
            using RespTestClient one = servers.Durable.Connect();
            string reply;
            try
            {
                reply = one.Call("RESTORE", p + "k", "0", Sealed(bodies[i]));
            }
            catch (IOException)
            {
                reply = "closed on body " + i;
            }

            Assert.StartsWith("-ERR Bad data format", reply, StringComparison.Ordinal);
        }

        Assert.Equal(":0\r\n", client.Call("EXISTS", p + "k"));

        // Valid payloads of every encoding with bytes changed or cut off: each is restored or refused, never more.
        string[] valid =
        [
            "\u000a" + Blob(ziplist), "\u0010" + Blob(listpack), "\u000b" + Blob([2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 5, 0]),
            "\u0012\u0001\u0002" + Blob(listpack), "\u0005\u0001\u0001m" + Encoding.Latin1.GetString(BitConverter.GetBytes(1.25)),
            "\u0009" + Blob([2, 1, (byte)'k', 2, 0, (byte)'v', (byte)'w', 0xFF]), "\u0000\u00c3\u0005\u000a\u0001abcabcabc",
        ];
        Random random = new(7);
        for (int round = 0; round < 400; round++)
        {
            char[] body = valid[round % valid.Length].ToCharArray();
            int changes = 1 + random.Next(3);
            for (int c = 0; c < changes; c++)
            {
                body[random.Next(body.Length)] = (char)random.Next(256);
            }

            string mutated = new string(body)[..(round % 5 == 0 ? random.Next(1, body.Length) : body.Length)];
            string reply = client.Call("RESTORE", p + "fuzz", "0", Sealed(mutated), "REPLACE");
            Assert.True(reply is "+OK\r\n" || reply.StartsWith("-ERR Bad data format", StringComparison.Ordinal), $"round {round}: {reply}");
        }

        Assert.Equal("+PONG\r\n", client.Call("PING"));
    }

    // A count, then short plain strings (each a length byte and its bytes), as RDB writes a collection member by member.
    private static string Strings(int count, params string[] items) => (char)count + string.Concat(items.Select(i => (char)i.Length + i));

    private static string Blob(byte[] bytes) => (char)bytes.Length + Encoding.Latin1.GetString(bytes);

    // A ziplist (Redis before 7.0) of short strings, and of integers where the entry is one (int8, int16, int24).
    private static byte[] Ziplist(params string[] entries)
    {
        List<byte> body = [];
        int previous = 0;
        int tail = 10;
        foreach (string entry in entries)
        {
            tail = 10 + body.Count;
            List<byte> item = [(byte)previous];
            if (long.TryParse(entry, out long value) && value.ToString(System.Globalization.CultureInfo.InvariantCulture) == entry)
            {
                if (value is >= -128 and <= 127)
                {
                    item.AddRange([0xFE, (byte)(sbyte)value]);
                }
                else if (value is >= short.MinValue and <= short.MaxValue)
                {
                    item.Add(0xC0);
                    item.AddRange(BitConverter.GetBytes((short)value));
                }
                else
                {
                    item.Add(0xF0);
                    item.AddRange(BitConverter.GetBytes((int)value).Take(3));
                }
            }
            else
            {
                item.Add((byte)entry.Length);
                item.AddRange(Encoding.ASCII.GetBytes(entry));
            }

            previous = item.Count;
            body.AddRange(item);
        }

        List<byte> ziplist = [];
        ziplist.AddRange(BitConverter.GetBytes(10 + body.Count + 1));
        ziplist.AddRange(BitConverter.GetBytes(tail));
        ziplist.AddRange(BitConverter.GetBytes((short)entries.Length));
        ziplist.AddRange(body);
        ziplist.Add(0xFF);
        return [.. ziplist];
    }

    // A listpack of short strings.
    private static byte[] ListpackOf(params string[] entries)
    {
        List<byte> body = [];
        foreach (string entry in entries)
        {
            body.Add((byte)(0x80 | entry.Length));
            body.AddRange(Encoding.ASCII.GetBytes(entry));
            body.Add((byte)(entry.Length + 1));
        }

        List<byte> listpack = [.. BitConverter.GetBytes(6 + body.Count + 1), .. BitConverter.GetBytes((short)entries.Length)];
        listpack.AddRange(body);
        listpack.Add(0xFF);
        return [.. listpack];
    }

    private static string Bulk(string reply) => reply[(reply.IndexOf('\n', StringComparison.Ordinal) + 1)..^2];

    // The body with a footer (RDB version 10 and the CRC-64 of what precedes it), by Durable's CRC-64, which the DUMP
    // comparisons check against Redis's.
    private static string Sealed(string body)
    {
        string withVersion = body + "\n\0";
        ulong crc = Commands.RdbPayload.Crc64(0, Encoding.Latin1.GetBytes(withVersion));
        return withVersion + Encoding.Latin1.GetString(BitConverter.GetBytes(crc));
    }

    // A set's members or a hash's "field=value" pairs, sorted: what a reply in hashtable order holds.
    private static List<string> Sorted(RespTestClient client, string command, string key)
    {
        string reply = client.Call(command, key);
        List<string> items = [.. reply.Split("\r\n").Skip(1).Where((_, i) => i % 2 == 1)];
        if (command == "HGETALL")
        {
            items = [.. items.Chunk(2).Select(pair => pair[0] + "=" + pair[1])];
        }

        items.Sort(StringComparer.Ordinal);
        return items;
    }
}
