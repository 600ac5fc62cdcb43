using System.Buffers;
using System.Text;
using Durable.Storage;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class StringBitCommandsTests(ReferenceServers servers)
{
    // Durable has no list commands or EXPIRE yet: tests that need a non-string key or a TTL set them up through the
    // store directly on Durable's side and with the equivalent command on redis-server.
    private const RecordType NonString = (RecordType)2;

    [Fact]
    public void SetBitGetBit_Basics_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("GETBIT", k, "0");
        both.Same("GETBIT", k, "100");
        both.Same("SETBIT", k, "7", "1");
        both.Same("GET", k);
        both.Same("SETBIT", k, "7", "1");
        both.Same("SETBIT", k, "7", "0");
        both.Same("SETBIT", k, "0", "1");
        both.Same("SETBIT", k, "100", "1");
        both.Same("GET", k);
        both.Same("GETBIT", k, "0");
        both.Same("GETBIT", k, "1");
        both.Same("GETBIT", k, "100");
        both.Same("GETBIT", k, "101");
        both.Same("GETBIT", k, "1000000");
        both.Same("SETBIT", k, "30", "0");
        both.Same("GET", k);
        both.Same("GET", k);
    }

    [Fact]
    public void SetBit_OnExistingString_ChangesBytesInPlace()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, "foobar");
        both.Same("SETBIT", k, "1", "0");
        both.Same("SETBIT", k, "2", "0");
        both.Same("SETBIT", k, "47", "1");
        both.Same("GET", k);
        both.Same("GETBIT", k, "47");
        both.Same("SETBIT", k, "49", "1");
        both.Same("GET", k);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("4294967296")]
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775808")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData(" 1")]
    [InlineData("+1")]
    [InlineData("01")]
    [InlineData("1.5")]
    public void SetBitGetBit_BadOffset_MatchRedis(string offset)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SETBIT", k, offset, "1");
        both.Same("GETBIT", k, offset);
        both.Same("EXISTS", k);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("-1")]
    [InlineData("x")]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("01")]
    public void SetBit_BadBitValue_MatchRedis(string value)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SETBIT", k, "1", value);
        both.Same("SETBIT", k, "x", value);
        both.Same("EXISTS", k);
    }

    [Fact]
    public void SetBit_LargestOffset_IsAcceptedByTheParser()
    {
        // 4294967295 is the last bit of a 512 MB string; a real write of that size is not run against either server.
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("GETBIT", k, "4294967295");
        both.Same("SETBIT", k, "4294967296", "1");
        both.Same("GETBIT", k, "4294967296");
    }

    [Fact]
    public void BitWrites_BeyondLargestRecord_DurableRefusesClearlyAndKeepsTheValue()
    {
        // Redis grows the string to 512 MB; Durable's records stop at a log page, and SETBIT or BITFIELD past it used
        // to fail inside the store, closing the connection without a reply.
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix() + "k";
        Assert.Equal(":0\r\n", client.Call("SETBIT", k, "7", "1"));
        foreach (string[] command in new[]
        {
            new[] { "SETBIT", k, "4294967295", "1" },
            ["SETBIT", k, "200000000", "0"],
            ["BITFIELD", k, "SET", "u8", "4294967200", "1"],
            ["BITFIELD", k, "INCRBY", "i16", "#99999999", "1"],
        })
        {
            string reply = client.Call(command);
            Assert.StartsWith("-ERR value of ", reply, StringComparison.Ordinal);
            Assert.EndsWith(" bytes); raise --memory\r\n", reply, StringComparison.Ordinal);
        }

        Assert.Equal("$1\r\n\u0001\r\n", client.Call("GET", k));
        Assert.StartsWith("-ERR value of ", client.Call("SETBIT", servers.NewPrefix() + "new", "4294967295", "1"), StringComparison.Ordinal);
        Assert.Equal("+PONG\r\n", client.Call("PING"));
    }

    [Fact]
    public void BitOp_ResultTooLargeForALongerDestinationKey_DurableRefusesClearly()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string source = servers.NewPrefix() + "s";
        string destination = source + new string('d', 100);
        string refusal = client.Call("SETRANGE", source, "100000000", "x");
        int open = refusal.LastIndexOf('(');
        long largest = long.Parse(refusal[(open + 1)..refusal.IndexOf(' ', open)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($":{largest}\r\n", client.Call("SETRANGE", source, (largest - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "x"));
        Assert.Equal($"-ERR value of {largest} bytes exceeds this server's largest record ({largest - 100} bytes); raise --memory\r\n", client.Call("BITOP", "NOT", destination, source));
        Assert.Equal(":0\r\n", client.Call("EXISTS", destination));
        Assert.Equal($":{largest}\r\n", client.Call("BITOP", "NOT", source, source));
    }

    [Fact]
    public void SetBit_KeepsTimeToLive()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        long expiresAtMs = PutWithExpiry(both, k, "a");
        both.Same("SETBIT", k, "100", "1");
        both.Same("SETBIT", k, "1", "0");
        both.Same("SETBIT", k, "1", "0");
        both.Same("GET", k);
        Assert.Equal(expiresAtMs, DurableExpiry(k));
        Assert.NotEqual(":-1\r\n", both.Redis.Call("PTTL", k));
    }

    [Fact]
    public async Task SetBitBitField_ConcurrentClients_LoseNoUpdates()
    {
        string k = servers.NewPrefix() + "k";
        Task[] writers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            using RespTestClient client = servers.Durable.Connect();
            for (int i = 0; i < 200; i++)
            {
                Assert.Equal(":0\r\n", client.Call("SETBIT", k, ((i * 4) + w + 64).ToString(System.Globalization.CultureInfo.InvariantCulture), "1"));
                Assert.StartsWith("*1\r\n:", client.Call("BITFIELD", k, "INCRBY", "u32", "0", "1"), StringComparison.Ordinal);
            }
        }))];
        await Task.WhenAll(writers);
        using RespTestClient reader = servers.Durable.Connect();
        Assert.Equal("*1\r\n:800\r\n", reader.Call("BITFIELD_RO", k, "GET", "u32", "0"));
        Assert.Equal(":800\r\n", reader.Call("BITCOUNT", k, "8", "-1"));
    }

    [Fact]
    public void BitCount_AllRanges_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("BITCOUNT", k);
        both.Same("BITCOUNT", k, "0", "-1");
        both.Same("BITCOUNT", k, "0", "-1", "BIT");
        both.Same("SET", k, "foobar");
        both.Same("BITCOUNT", k);
        string[] indexes = ["0", "1", "2", "5", "6", "7", "8", "9", "47", "48", "100", "-1", "-2", "-5", "-6", "-7", "-8", "-47", "-48", "-100"];
        foreach (string start in indexes)
        {
            foreach (string end in indexes)
            {
                both.Same("BITCOUNT", k, start, end);
                both.Same("BITCOUNT", k, start, end, "BIT");
                both.Same("BITCOUNT", k, start, end, "byte");
            }
        }
    }

    [Fact]
    public void BitCount_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        string missing = k + "missing";
        both.Same("SET", k, "foobar");
        both.Same("BITCOUNT", k, "1");
        both.Same("BITCOUNT", k, "a", "1");
        both.Same("BITCOUNT", k, "1", "a");
        both.Same("BITCOUNT", k, "1", "2", "bits");
        both.Same("BITCOUNT", k, "a", "2", "bits");
        both.Same("BITCOUNT", k, "1", "2", "bit", "extra");
        both.Same("BITCOUNT", k, "9223372036854775808", "2");
        both.Same("BITCOUNT", k, "-9223372036854775808", "9223372036854775807");
        both.Same("BITCOUNT", k, "-9223372036854775808", "9223372036854775807", "BIT");

        // Both ends negative and reversed answer 0 before the unit is looked at; other ranges reject a bad unit.
        both.Same("BITCOUNT", k, "-1", "-10", "bits");
        both.Same("BITCOUNT", k, "-10", "-1", "bits");
        both.Same("BITCOUNT", k, "5", "1", "bits");

        // Redis 7.0 answers 0 for a missing key before it looks at the range.
        both.Same("BITCOUNT", missing, "1");
        both.Same("BITCOUNT", missing, "a", "b");
        both.Same("BITCOUNT", missing, "1", "2", "bits");
        both.Same("BITCOUNT");
    }

    [Fact]
    public void BitCount_EmptyString_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, "");
        both.Same("BITCOUNT", k);
        both.Same("BITCOUNT", k, "0", "-1");
        both.Same("BITCOUNT", k, "0", "-1", "BIT");
        both.Same("BITPOS", k, "0");
        both.Same("BITPOS", k, "1");
        both.Same("BITPOS", k, "0", "0");
        both.Same("BITPOS", k, "0", "0", "-1", "BIT");
        both.Same("GETBIT", k, "0");
    }

    [Fact]
    public void BitPos_AllRanges_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        string[] indexes = ["0", "1", "2", "3", "7", "8", "9", "15", "16", "23", "24", "31", "100", "-1", "-2", "-3", "-8", "-9", "-17", "-24", "-100"];
        foreach (string value in new[] { "\xff\xf0\x00", "\x00\x0f\xff", "\x00\x00\x00", "\xff\xff\xff", "\x5a\x81\x18" })
        {
            both.Same("SET", k, value);
            foreach (string bit in new[] { "0", "1" })
            {
                both.Same("BITPOS", k, bit);
                foreach (string start in indexes)
                {
                    both.Same("BITPOS", k, bit, start);
                    foreach (string end in indexes)
                    {
                        both.Same("BITPOS", k, bit, start, end);
                        both.Same("BITPOS", k, bit, start, end, "BIT");
                        both.Same("BITPOS", k, bit, start, end, "BYTE");
                    }
                }
            }
        }
    }

    [Fact]
    public void BitPos_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        string missing = k + "missing";
        both.Same("BITPOS", missing, "0");
        both.Same("BITPOS", missing, "1");
        both.Same("BITPOS", missing, "1", "x");
        both.Same("BITPOS", missing, "2");
        both.Same("BITPOS", missing, "x");
        both.Same("SET", k, "\x00\xff");
        both.Same("BITPOS", k, "2");
        both.Same("BITPOS", k, "-1");
        both.Same("BITPOS", k, "01");
        both.Same("BITPOS", k, "1", "x");
        both.Same("BITPOS", k, "1", "0", "x");
        both.Same("BITPOS", k, "1", "0", "1", "bits");
        both.Same("BITPOS", k, "1", "x", "1", "bits");
        both.Same("BITPOS", k, "1", "0", "x", "bits");
        both.Same("BITPOS", k, "1", "0", "1", "bit", "extra");
        both.Same("BITPOS", k, "1", "-9223372036854775808", "9223372036854775807", "BIT");
        both.Same("BITPOS", k, "0", "-9223372036854775808", "9223372036854775807", "BIT");
        both.Same("BITPOS", k);
    }

    [Fact]
    public void BitCountBitPos_LongValues_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        Random random = new(7);
        char[] noise = new char[203];
        for (int i = 0; i < noise.Length; i++)
        {
            noise[i] = (char)random.Next(256);
        }

        string[] values =
        [
            new string(noise),
            new string('\0', 67) + "\x01" + new string('\0', 40),
            new string('\xff', 50) + "\xfe" + new string('\xff', 21),
            new string('\0', 99),
            new string('\xff', 77),
        ];
        foreach (string value in values)
        {
            both.Same("SET", k, value);
            both.Same("BITCOUNT", k);
            both.Same("BITPOS", k, "0");
            both.Same("BITPOS", k, "1");
            int bits = value.Length * 8;
            for (int i = 0; i < 150; i++)
            {
                string byteStart = random.Next(-value.Length - 5, value.Length + 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
                string byteEnd = random.Next(-value.Length - 5, value.Length + 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
                string bitStart = random.Next(-bits - 20, bits + 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
                string bitEnd = random.Next(-bits - 20, bits + 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
                both.Same("BITCOUNT", k, byteStart, byteEnd);
                both.Same("BITCOUNT", k, bitStart, bitEnd, "BIT");
                foreach (string bit in new[] { "0", "1" })
                {
                    both.Same("BITPOS", k, bit, byteStart);
                    both.Same("BITPOS", k, bit, byteStart, byteEnd);
                    both.Same("BITPOS", k, bit, bitStart, bitEnd, "BIT");
                }
            }
        }
    }

    [Fact]
    public void BitOp_AllOperators_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "a", "foobar");
        both.Same("SET", p + "b", "abcdef-longer");
        both.Same("SET", p + "c", "\xff\x0f");
        foreach (string op in new[] { "AND", "or", "Xor" })
        {
            both.Same("BITOP", op, p + "d", p + "a", p + "b");
            both.Same("GET", p + "d");
            both.Same("BITOP", op, p + "d", p + "b", p + "a", p + "c");
            both.Same("GET", p + "d");
            both.Same("BITOP", op, p + "d", p + "a", p + "missing", p + "c");
            both.Same("GET", p + "d");
            both.Same("BITOP", op, p + "d", p + "a");
            both.Same("GET", p + "d");
            both.Same("BITOP", op, p + "a", p + "a", p + "c");
            both.Same("GET", p + "a");
        }

        both.Same("BITOP", "NOT", p + "d", p + "b");
        both.Same("GET", p + "d");
        both.Same("BITOP", "not", p + "b", p + "b");
        both.Same("GET", p + "b");
        both.Same("BITOP", "NOT", p + "d", p + "missing");
        both.Same("EXISTS", p + "d");
    }

    [Fact]
    public void BitOp_LongValues_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        Random random = new(42);
        for (int i = 0; i < 3; i++)
        {
            char[] chars = new char[100 + (i * 37)];
            for (int j = 0; j < chars.Length; j++)
            {
                chars[j] = (char)random.Next(256);
            }

            both.Same("SET", p + i, new string(chars));
        }

        foreach (string op in new[] { "AND", "OR", "XOR" })
        {
            both.Same("BITOP", op, p + "d", p + "0", p + "1", p + "2");
            both.Same("GET", p + "d");
        }

        both.Same("BITOP", "NOT", p + "d", p + "2");
        both.Same("GET", p + "d");
    }

    [Fact]
    public void BitOp_Destination_IsReplacedOrDeleted()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "d", "old");
        both.Same("BITOP", "AND", p + "d", p + "m1", p + "m2");
        both.Same("EXISTS", p + "d");
        both.Same("SET", p + "d", "old");
        both.Same("SET", p + "e", "");
        both.Same("BITOP", "OR", p + "d", p + "e");
        both.Same("EXISTS", p + "d");
        PutNonString(both, p + "list");
        both.Same("BITOP", "OR", p + "list", p + "m1");
        both.Same("GET", p + "list");
        both.Same("EXISTS", p + "list");

        // A non-empty result replaces a destination of any type.
        PutNonString(both, p + "list2");
        both.Same("SET", p + "s", "xyz");
        both.Same("BITOP", "XOR", p + "list2", p + "s", p + "m1");
        both.Same("GET", p + "list2");
    }

    [Fact]
    public void BitOp_DestinationLosesTimeToLive()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        PutWithExpiry(both, p + "d", "old");
        both.Same("SET", p + "s", "new");
        both.Same("BITOP", "OR", p + "d", p + "s");
        both.Same("GET", p + "d");
        Assert.Equal(0, DurableExpiry(p + "d"));
        Assert.Equal(":-1\r\n", both.Redis.Call("PTTL", p + "d"));
    }

    [Fact]
    public void BitOp_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "a", "x");
        PutNonString(both, p + "list");
        both.Same("BITOP", "NAND", p + "d", p + "a");
        both.Same("BITOP", "", p + "d", p + "a");
        both.Same("BITOP", "NOT", p + "d", p + "a", p + "a");
        both.Same("BITOP", "NOT", p + "d", p + "list", p + "a");
        both.Same("BITOP", "NOT", p + "d", p + "list");
        both.Same("BITOP", "AND", p + "d", p + "a", p + "list");
        both.Same("BITOP", "AND", p + "d", p + "list", p + "missing");
        both.Same("EXISTS", p + "d");
        both.Same("BITOP", "AND", p + "d");
        both.Same("BITOP", "AND");
    }

    [Fact]
    public void BitField_GetSetIncrBy_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("BITFIELD", k);
        both.Same("BITFIELD", k, "GET", "u8", "0");
        both.Same("EXISTS", k);
        both.Same("BITFIELD", k, "SET", "u8", "0", "255", "GET", "u8", "0", "GET", "i8", "0", "GET", "u4", "4", "GET", "i3", "6");
        both.Same("BITFIELD", k, "set", "i5", "#3", "-7", "get", "i5", "#3", "get", "u5", "#3", "incrby", "i5", "#3", "3");
        both.Same("GET", k);
        both.Same("BITFIELD", k, "SET", "i64", "100", "-9223372036854775808", "GET", "i64", "100", "GET", "u63", "100", "GET", "u63", "101");
        both.Same("BITFIELD", k, "INCRBY", "i64", "100", "-1", "INCRBY", "i64", "100", "1", "INCRBY", "i64", "100", "9223372036854775807");
        both.Same("BITFIELD", k, "SET", "u63", "7", "9223372036854775807", "INCRBY", "u63", "7", "1", "GET", "u63", "7");
        both.Same("GET", k);
        both.Same("BITFIELD", k, "GET", "u1", "1000", "GET", "i64", "1000", "GET", "u8", "#1000");
        both.Same("BITFIELD", k, "INCRBY", "u2", "#40", "1", "INCRBY", "u2", "#40", "1", "INCRBY", "u2", "#40", "1");
        both.Same("GET", k);
        both.Same("BITFIELD_RO", k, "GET", "u8", "0", "get", "i16", "#1", "GET", "u63", "3");
        both.Same("BITFIELD_RO", k);
        both.Same("BITFIELD_RO", k + "missing", "GET", "i8", "0");
    }

    [Theory]
    [InlineData("WRAP")]
    [InlineData("sat")]
    [InlineData("Fail")]
    public void BitField_OverflowModes_MatchRedis(string mode)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        foreach (string type in new[] { "u1", "u2", "u7", "u8", "u31", "u32", "u62", "u63", "i1", "i2", "i7", "i8", "i31", "i32", "i63", "i64" })
        {
            foreach (string value in new[] { "0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "4294967295", "-4294967296", "9223372036854775807", "-9223372036854775808" })
            {
                both.Same("BITFIELD", k, "OVERFLOW", mode, "SET", type, "3", value, "GET", type, "3");
                foreach (string increment in new[] { "1", "-1", "100", "-100", "9223372036854775807", "-9223372036854775808" })
                {
                    both.Same("BITFIELD", k, "OVERFLOW", mode, "INCRBY", type, "3", increment, "GET", type, "3");
                }
            }
        }

        both.Same("GET", k);
    }

    [Fact]
    public void BitField_OverflowChangesMidCommand_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("BITFIELD", k, "SET", "u8", "0", "250", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "10", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "1");
        both.Same("BITFIELD", k, "OVERFLOW", "SAT", "OVERFLOW", "FAIL");
        both.Same("GET", k);
    }

    [Fact]
    public void BitField_AllWritesFail_StillCreatesPaddedKey()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("BITFIELD", k, "OVERFLOW", "FAIL", "SET", "u2", "#10", "8", "INCRBY", "i4", "0", "100");
        both.Same("EXISTS", k);
        both.Same("GET", k);
        both.Same("GET", k);
    }

    [Fact]
    public void BitField_KeepsTimeToLive()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        long expiresAtMs = PutWithExpiry(both, k, "ab");
        both.Same("BITFIELD", k, "SET", "u8", "#5", "65");
        both.Same("GET", k);
        Assert.Equal(expiresAtMs, DurableExpiry(k));
        both.Same("BITFIELD", k, "INCRBY", "u8", "0", "0");
        Assert.Equal(expiresAtMs, DurableExpiry(k));
    }

    [Fact]
    public void BitField_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, "x");
        foreach (string type in new[] { "u64", "i65", "u0", "i0", "x8", "U8", "I8", "u", "i", "", "u-1", "u08", "i 8", "u8 " })
        {
            both.Same("BITFIELD", k, "GET", type, "0");
            both.Same("BITFIELD_RO", k, "GET", type, "0");
        }

        foreach (string offset in new[] { "-1", "#-1", "#", "x", "", "4294967296", "#536870912", "#4294967296", "#9223372036854775807", "##1", "1.0" })
        {
            both.Same("BITFIELD", k, "GET", "u8", offset);
            both.Same("BITFIELD", k, "SET", "i64", offset, "1");
        }

        both.Same("BITFIELD", k, "GET", "u8");
        both.Same("BITFIELD", k, "GET", "u8", "0", "SET", "u8", "0");
        both.Same("BITFIELD", k, "SET", "u8", "0", "x");
        both.Same("BITFIELD", k, "INCRBY", "u8", "0", "1.5");
        both.Same("BITFIELD", k, "INCRBY", "u8", "0", "9223372036854775808");
        both.Same("BITFIELD", k, "OVERFLOW");
        both.Same("BITFIELD", k, "OVERFLOW", "saturate", "GET", "u8", "0");
        both.Same("BITFIELD", k, "FOO", "u8", "0");
        both.Same("BITFIELD", k, "GET", "u8", "0", "FOO");
        both.Same("BITFIELD", k, "SET", "u8", "0", "1", "GET", "u99", "0");
        both.Same("GET", k);
        both.Same("BITFIELD_RO", k, "SET", "u8", "0", "1");
        both.Same("BITFIELD_RO", k, "GET", "u8", "0", "INCRBY", "u8", "0", "1");
        both.Same("BITFIELD_RO", k, "OVERFLOW", "FAIL", "GET", "u8", "0");
        both.Same("BITFIELD_RO", k, "GET", "u8", "0", "OVERFLOW", "bad");
        both.Same("BITFIELD");
        both.Same("BITFIELD_RO");
        both.Same("GET", k);
    }

    [Fact]
    public void AllCommands_WrongType_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "list";
        PutNonString(both, k);
        both.Same("SETBIT", k, "1", "1");
        both.Same("SETBIT", k, "x", "1");
        both.Same("SETBIT", k, "1", "x");
        both.Same("GETBIT", k, "1");
        both.Same("GETBIT", k, "x");
        both.Same("BITCOUNT", k);
        both.Same("BITCOUNT", k, "x", "y");
        both.Same("BITCOUNT", k, "1", "2", "bits");
        both.Same("BITPOS", k, "1");
        both.Same("BITPOS", k, "2");
        both.Same("BITPOS", k, "1", "x");
        both.Same("BITFIELD", k, "GET", "u8", "0");
        both.Same("BITFIELD", k, "SET", "u8", "0", "1");
        both.Same("BITFIELD", k, "GET", "u64", "0");
        both.Same("BITFIELD", k);
        both.Same("BITFIELD_RO", k, "GET", "u8", "0");
        both.Same("BITFIELD_RO", k, "SET", "u8", "0", "1");
        both.Same("BITOP", "OR", k + "d", k);
        both.Same("BITOP", "NOT", k, k + "missing");
        both.Same("GET", k);
    }

    [Fact]
    public void AllCommands_WrongArity_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SETBIT", k, "1");
        both.Same("SETBIT", k, "1", "1", "1");
        both.Same("GETBIT", k);
        both.Same("GETBIT", k, "1", "1");
        both.Same("BITCOUNT");
        both.Same("BITPOS", k);
        both.Same("BITOP", "AND", k);
        both.Same("BITFIELD");
        both.Same("BITFIELD_RO");
    }

    /// <summary>A key of a type other than string: a list on redis-server, a record of another type tag on Durable.</summary>
    private void PutNonString(ReplyComparison both, string key)
    {
        Assert.Equal(":1\r\n", both.Redis.Call("LPUSH", key, "x"));
        WithDurableKey(key, (session, k) => session.Write(0, k, NonString, "x"u8, 0));
    }

    /// <summary>SET with a TTL of 1000 s on both servers; returns Durable's absolute expiry.</summary>
    private long PutWithExpiry(ReplyComparison both, string key, string value)
    {
        Assert.Equal("+OK\r\n", both.Redis.Call("SET", key, value, "EX", "1000"));
        long expiresAtMs = servers.Durable.State.Time.GetUtcNow().ToUnixTimeMilliseconds() + 1_000_000;
        WithDurableKey(key, (session, k) => session.Write(0, k, RecordType.String, Encoding.Latin1.GetBytes(value), expiresAtMs));
        return expiresAtMs;
    }

    private long DurableExpiry(string key)
    {
        long expiresAtMs = -1;
        WithDurableKey(key, (session, k) =>
        {
            Assert.True(session.TryRead(0, k, new ArrayBufferWriter<byte>(), out StoredRecord record));
            expiresAtMs = record.ExpiresAtMs;
        });
        return expiresAtMs;
    }

    private void WithDurableKey(string key, Action<IStoreSession, byte[]> action)
    {
        IStore store = servers.Durable.State.Store;
        byte[] bytes = Encoding.Latin1.GetBytes(key);
        int stripe = KeyLocks.StripeOf(bytes);
        using IStoreSession session = store.OpenSession();
        store.Locks.EnterExclusive(stripe);
        try
        {
            action(session, bytes);
        }
        finally
        {
            store.Locks.ExitExclusive(stripe);
        }
    }
}
