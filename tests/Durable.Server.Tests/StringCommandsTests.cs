using System.Globalization;

namespace Durable.Server.Tests;

public sealed class StringCommandsTests(ReferenceServers servers)
{
    private static string FutureSeconds(int seconds) => DateTimeOffset.UtcNow.AddSeconds(seconds).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private static string FutureMilliseconds(int seconds) => DateTimeOffset.UtcNow.AddSeconds(seconds).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void GetSetDel_Basics_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("GET", k);
        both.Same("SET", k, "value");
        both.Same("GET", k);
        both.Same("SET", k, "");
        both.Same("GET", k);
        both.Same("SET", k, "bin\0\r\nary\xff");
        both.Same("GET", k);
        both.Same("EXISTS", k, k, k + "missing");
        both.Same("DEL", k, k + "missing");
        both.Same("GET", k);
        both.Same("GET");
        both.Same("GET", k, "extra");
    }

    [Fact]
    public void Set_NxXx_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, "a", "XX");
        both.Same("GET", k);
        both.Same("SET", k, "a", "NX");
        both.Same("SET", k, "b", "NX");
        both.Same("SET", k, "c", "xx");
        both.Same("GET", k);
        both.Same("SET", k, "d", "NX", "NX");
        both.Same("SET", k, "d", "NX", "XX");
        both.Same("SET", k, "d", "XX", "NX");
        both.Same("GET", k);
    }

    [Fact]
    public void Set_ExpireOptions_SetTtlLikeRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "ex", "v", "EX", "100");
        StringTests.AssertSameTtl(servers, both, p + "ex");
        both.Same("SET", p + "px", "v", "px", "100000");
        StringTests.AssertSameTtl(servers, both, p + "px");
        both.Same("SET", p + "exat", "v", "EXAT", FutureSeconds(200));
        StringTests.AssertSameTtl(servers, both, p + "exat");
        both.Same("SET", p + "pxat", "v", "PXAT", FutureMilliseconds(300));
        StringTests.AssertSameTtl(servers, both, p + "pxat");
        both.Same("SET", p + "ex", "again", "EX", "10", "EX", "500");
        StringTests.AssertSameTtl(servers, both, p + "ex");
        both.Same("SET", p + "px", "plain");
        StringTests.AssertSameTtl(servers, both, p + "px");
        both.Same("SET", p + "exat", "kept", "KEEPTTL");
        StringTests.AssertSameTtl(servers, both, p + "exat");
        both.Same("SET", p + "new", "v", "KEEPTTL", "XX");
        both.Same("SET", p + "new", "v", "KEEPTTL");
        StringTests.AssertSameTtl(servers, both, p + "new");
        both.Same("SET", p + "pxat", "v", "NX", "EX", "5");
        StringTests.AssertSameTtl(servers, both, p + "pxat");
        both.Same("SET", p + "pxat", "v", "XX", "EX", "5");
        StringTests.AssertSameTtl(servers, both, p + "pxat");
    }

    [Fact]
    public void Set_ExpireInPast_KeyIsGone()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "a", "v", "EXAT", "1");
        both.Same("GET", p + "a");
        both.Same("SET", p + "b", "v", "PXAT", "1000");
        both.Same("EXISTS", p + "b");
        both.Same("SET", p + "c", "v", "PX", "1");
        StringTests.WaitUntilGone(both, p + "c");
        both.Same("SET", p + "c", "v", "XX");
    }

    [Theory]
    [InlineData("EX", "0")]
    [InlineData("EX", "-1")]
    [InlineData("PX", "0")]
    [InlineData("PXAT", "-5")]
    [InlineData("EXAT", "0")]
    [InlineData("EX", "abc")]
    [InlineData("EX", "1.5")]
    [InlineData("EX", "")]
    [InlineData("EX", "9223372036854775807")]
    [InlineData("EX", "9223372036854775")]
    [InlineData("EX", "9223372036854776")]
    [InlineData("PX", "9223372036854775807")]
    [InlineData("EXAT", "9223372036854775")]
    [InlineData("EXAT", "9223372036854776")]
    [InlineData("PXAT", "9223372036854775807")]
    [InlineData("EX", "99999999999999999999")]
    public void Set_InvalidExpireTime_ErrorMatchesRedis(string option, string value)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, "v", option, value);
        both.Same("SET", k, "v", option, value, "GET");
        both.Same("GET", k);
        both.Same("SETEX", k, value, "v");
        both.Same("PSETEX", k, value, "v");
        both.Same("SET", k, "v");
        both.Same("GETEX", k, option, value);
    }

    [Theory]
    [InlineData("EX", "10", "PX", "10")]
    [InlineData("PX", "10", "EX", "10")]
    [InlineData("EX", "10", "EXAT", "10")]
    [InlineData("PXAT", "10", "PX", "10")]
    [InlineData("EX", "10", "KEEPTTL")]
    [InlineData("KEEPTTL", "EX", "10")]
    [InlineData("KEEPTTL", "PXAT", "10")]
    [InlineData("EX")]
    [InlineData("NX", "PX")]
    [InlineData("PERSIST")]
    [InlineData("BOGUS")]
    [InlineData("NXX")]
    [InlineData("GET", "GET", "FOO")]
    public void Set_ConflictingOrUnknownOptions_SyntaxErrorLikeRedis(params string[] options)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same(["SET", k, "v", .. options]);
        both.Same("GET", k);
    }

    [Fact]
    public void Set_OptionsAsCStrings_NulEndsTheWordLikeRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, "v", "nx\0junk");
        both.Same("SET", k, "w", "NX\0");
        both.Same("SET", k, "w", "x\0x");
        both.Same("SET", k, "w", "KEEPTTL\0", "GET\0x");
    }

    [Fact]
    public void Set_WithGet_ReturnsOldValueLikeRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "k", "one", "GET");
        both.Same("SET", p + "k", "two", "GET");
        both.Same("SET", p + "k", "three", "get", "NX");
        both.Same("GET", p + "k");
        both.Same("SET", p + "missing", "x", "GET", "XX");
        both.Same("EXISTS", p + "missing");
        both.Same("SET", p + "k", "four", "XX", "GET", "EX", "100");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("SET", p + "k", "five", "GET", "KEEPTTL");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("SET", p + "k", "six", "GET", "GET");
        StringTests.AssertSameTtl(servers, both, p + "k");
    }

    [Fact]
    public void SetFamily_OnOtherType_GetIsWrongTypeAndPlainSetOverwrites()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        foreach (string[] command in new[]
        {
            new[] { "SET", p + "l", "v", "GET" },
            new[] { "SET", p + "l", "v", "GET", "NX" },
            new[] { "SET", p + "l", "v", "EX", "0", "GET" },
            new[] { "GET", p + "l" },
            new[] { "GETSET", p + "l", "v" },
            new[] { "GETDEL", p + "l" },
            new[] { "GETEX", p + "l" },
            new[] { "GETEX", p + "l", "EX", "0" },
            new[] { "GETEX", p + "l", "BOGUS" },
            new[] { "STRLEN", p + "l" },
            new[] { "APPEND", p + "l", "x" },
            new[] { "GETRANGE", p + "l", "0", "-1" },
            new[] { "GETRANGE", p + "l", "x", "-1" },
            new[] { "SUBSTR", p + "l", "0", "-1" },
            new[] { "SETRANGE", p + "l", "0", "x" },
            new[] { "SETRANGE", p + "l", "0", "" },
            new[] { "SETRANGE", p + "l", "-1", "x" },
            new[] { "INCR", p + "l" },
            new[] { "DECR", p + "l" },
            new[] { "INCRBY", p + "l", "2" },
            new[] { "INCRBY", p + "l", "x" },
            new[] { "DECRBY", p + "l", "2" },
            new[] { "INCRBYFLOAT", p + "l", "1.5" },
            new[] { "INCRBYFLOAT", p + "l", "abc" },
            new[] { "MGET", p + "l", p + "missing" },
            new[] { "MSETNX", p + "l", "v", p + "other", "v" },
            new[] { "EXISTS", p + "other" },
            new[] { "SET", p + "l", "v", "NX" },
            new[] { "SETNX", p + "l", "v" },
            new[] { "SET", p + "l", "v", "XX", "GET" },
            new[] { "GET", p + "l" },
        })
        {
            StringTests.MakeNonString(servers, both, p + "l");
            both.Same(command);
        }

        StringTests.MakeNonString(servers, both, p + "l");
        both.Same("SET", p + "l", "now a string", "XX");
        both.Same("GET", p + "l");
        StringTests.MakeNonString(servers, both, p + "m");
        both.Same("MSET", p + "m", "s");
        both.Same("GET", p + "m");
    }

    [Fact]
    public void SetNxSetExPSetEx_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SETNX", p + "k", "a");
        both.Same("SETNX", p + "k", "b");
        both.Same("GET", p + "k");
        both.Same("SETEX", p + "k", "100", "c");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GET", p + "k");
        both.Same("PSETEX", p + "k", "200000", "d");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("SETNX", p + "k");
        both.Same("SETEX", p + "k", "10");
        both.Same("PSETEX", p + "k", "10", "v", "extra");
        both.Same("PSETEX", p + "px", "1", "v");
        StringTests.WaitUntilGone(both, p + "px");
    }

    [Fact]
    public void GetSetGetDel_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("GETSET", p + "k", "a");
        both.Same("GETSET", p + "k", "b");
        both.Same("SET", p + "k", "c", "EX", "100");
        both.Same("GETSET", p + "k", "d");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETDEL", p + "k");
        both.Same("GETDEL", p + "k");
        both.Same("EXISTS", p + "k");
        both.Same("GETDEL", p + "k", "x");
        both.Same("GETSET", p + "k");
    }

    [Fact]
    public void GetEx_AllOptions_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("GETEX", p + "k");
        both.Same("GETEX", p + "k", "EX", "-1");
        both.Same("GETEX", p + "k", "BOGUS");
        both.Same("SET", p + "k", "v");
        both.Same("GETEX", p + "k");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETEX", p + "k", "EX", "100");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETEX", p + "k", "PX", "200000");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETEX", p + "k", "EXAT", FutureSeconds(300));
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETEX", p + "k", "PXAT", FutureMilliseconds(400));
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETEX", p + "k");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETEX", p + "k", "persist");
        StringTests.AssertSameTtl(servers, both, p + "k");
        both.Same("GETEX", p + "k", "PERSIST", "PERSIST");
        both.Same("GETEX", p + "k", "PERSIST", "EX", "10");
        both.Same("GETEX", p + "k", "EX", "10", "PERSIST");
        both.Same("GETEX", p + "k", "EX", "10", "PX", "10");
        both.Same("GETEX", p + "k", "NX");
        both.Same("GETEX", p + "k", "KEEPTTL");
        both.Same("GETEX", p + "k", "GET");
        both.Same("GETEX", p + "k", "EX");
        both.Same("GETEX", p + "k", "EX", "abc");
        both.Same("GETEX", p + "k", "EX", "0");
        both.Same("GETEX", p + "k", "EXAT", "1");
        both.Same("EXISTS", p + "k");
        both.Same("SET", p + "k", "v");
        both.Same("GETEX", p + "k", "PXAT", "1");
        both.Same("GET", p + "k");
        both.Same("SET", p + "k", "v");
        both.Same("GETEX", p + "k", "PX", "1");
        StringTests.WaitUntilGone(both, p + "k");
        both.Same("GETEX");
    }

    [Fact]
    public void MGetMSetMSetNx_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("MSET", p + "a", "1", p + "b", "2");
        both.Same("MGET", p + "a", p + "b", p + "c", p + "a");
        both.Same("MSET", p + "a", "1", p + "b");
        both.Same("MSET", p + "a");
        both.Same("MSETNX", p + "a", "x", p + "c", "3");
        both.Same("MGET", p + "a", p + "c");
        both.Same("MSETNX", p + "c", "3", p + "d", "4");
        both.Same("MSETNX", p + "e", "5", p + "e", "6");
        both.Same("MGET", p + "c", p + "d", p + "e");
        both.Same("MSETNX", p + "f", "1", p + "g");
        both.Same("SET", p + "t", "v", "EX", "100");
        both.Same("MSET", p + "t", "w", p + "a", "z", p + "a", "y");
        StringTests.AssertSameTtl(servers, both, p + "t");
        both.Same("MGET", p + "t", p + "a");
        both.Same("MGET");
    }

    [Fact]
    public void AppendStrLen_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("STRLEN", p + "k");
        both.Same("APPEND", p + "k", "hello");
        both.Same("APPEND", p + "k", " world");
        both.Same("APPEND", p + "k", "");
        both.Same("GET", p + "k");
        both.Same("STRLEN", p + "k");
        both.Same("APPEND", p + "e", "");
        both.Same("EXISTS", p + "e");
        both.Same("SET", p + "t", "a", "EX", "100");
        both.Same("APPEND", p + "t", "b");
        StringTests.AssertSameTtl(servers, both, p + "t");
        both.Same("SET", p + "n", "12");
        both.Same("APPEND", p + "n", "34");
        both.Same("INCR", p + "n");
        both.Same("STRLEN", p + "n");
        both.Same("APPEND", p + "k");
        both.Same("STRLEN", p + "k", "x");
    }

    [Fact]
    public void GetRangeSubStr_AllIndexForms_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "k", "This is a string");
        both.Same("SET", p + "empty", "");
        both.Same("SET", p + "int", "12345");
        string[] indexes = ["0", "1", "3", "15", "16", "100", "-1", "-3", "-16", "-17", "-100", "9223372036854775807", "-9223372036854775808"];
        foreach (string key in new[] { p + "k", p + "empty", p + "int", p + "missing" })
        {
            foreach (string start in indexes)
            {
                foreach (string end in indexes)
                {
                    both.Same("GETRANGE", key, start, end);
                }
            }
        }

        both.Same("SUBSTR", p + "k", "2", "-3");
        both.Same("GETRANGE", p + "k", "a", "1");
        both.Same("GETRANGE", p + "k", "1", "1.5");
        both.Same("GETRANGE", p + "missing", "x", "1");
        both.Same("GETRANGE", p + "k", "9223372036854775808", "1");
        both.Same("GETRANGE", p + "k", "0");
        both.Same("SUBSTR", p + "k", "0", "1", "2");
    }

    [Fact]
    public void SetRange_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SETRANGE", p + "k", "0", "hello");
        both.Same("SETRANGE", p + "k", "3", "LO world");
        both.Same("GET", p + "k");
        both.Same("SETRANGE", p + "k", "1", "E");
        both.Same("GET", p + "k");
        both.Same("SETRANGE", p + "gap", "5", "x");
        both.Same("GET", p + "gap");
        both.Same("SETRANGE", p + "none", "10", "");
        both.Same("EXISTS", p + "none");
        both.Same("SETRANGE", p + "none", "999999999999", "");
        both.Same("SETRANGE", p + "k", "999999999999", "");
        both.Same("SETRANGE", p + "k", "-1", "x");
        both.Same("SETRANGE", p + "k", "x", "x");
        both.Same("SETRANGE", p + "k", "536870912", "x");
        both.Same("SETRANGE", p + "k", "536870911", "xy");
        both.Same("SETRANGE", p + "k", "9223372036854775807", "x");
        both.Same("SETRANGE", p + "new", "536870912", "x");
        both.Same("EXISTS", p + "new");
        both.Same("SET", p + "t", "abc", "PX", "100000");
        both.Same("SETRANGE", p + "t", "1", "X");
        StringTests.AssertSameTtl(servers, both, p + "t");
        both.Same("SET", p + "i", "100");
        both.Same("SETRANGE", p + "i", "1", "5");
        both.Same("INCR", p + "i");
        both.Same("SETRANGE", p + "k", "1");
    }

    [Fact]
    public void SetRange_BeyondLargestRecord_DurableRefusesClearly()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix() + "k";
        string reply = client.Call("SETRANGE", k, "100000000", "x");
        Assert.StartsWith("-ERR value of 100000001 bytes exceeds this server's largest record (", reply, StringComparison.Ordinal);
        Assert.EndsWith(" bytes); raise --memory\r\n", reply, StringComparison.Ordinal);
        Assert.Equal(":0\r\n", client.Call("EXISTS", k));
        Assert.Equal(":1\r\n", client.Call("APPEND", k, "x"));
        Assert.StartsWith("-ERR value of ", client.Call("SETRANGE", k, "100000000", "x"), StringComparison.Ordinal);
        Assert.Equal("$1\r\nx\r\n", client.Call("GET", k));
        string big = new('v', 9 << 20);
        Assert.StartsWith("-ERR value of ", client.Call("SET", k, big), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value of ", client.Call("GETSET", k, big), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value of ", client.Call("MSET", k + "other", "1", k, big), StringComparison.Ordinal);
        Assert.Equal(":0\r\n", client.Call("EXISTS", k + "other"));
        Assert.Equal("$1\r\nx\r\n", client.Call("GET", k));
    }

    [Fact]
    public async Task StringWrites_SurviveRestart()
    {
        string directory;
        long expiresAtMs;
        await using (Durable.Testing.TestServer first = await Durable.Testing.TestServer.StartAsync())
        {
            first.KeepDirectory = true;
            directory = first.Directory;
            using Durable.Testing.RespTestClient client = first.Connect();
            Assert.Equal("+OK\r\n", client.Call("SET", "s", "value", "EX", "1000"));
            Assert.Equal("$4\r\n10.6\r\n", client.Call("INCRBYFLOAT", "f", "10.6"));
            Assert.Equal(":5\r\n", client.Call("INCRBY", "i", "5"));
            Assert.Equal(":8\r\n", client.Call("SETRANGE", "r", "3", "abcde"));
            Assert.Equal(":10\r\n", client.Call("APPEND", "s", " more"));
            Assert.Equal("+OK\r\n", client.Call("MSET", "m1", "a", "m2", "b"));
            Assert.Equal("$1\r\nb\r\n", client.Call("GETDEL", "m2"));
            using Storage.IStoreSession session = first.State.Store.OpenSession();
            Assert.True(session.TryRead(0, "s"u8, null, out Storage.StoredRecord record));
            expiresAtMs = record.ExpiresAtMs;
        }

        await using Durable.Testing.TestServer second = await Durable.Testing.TestServer.StartAsync(directory: directory);
        using Durable.Testing.RespTestClient again = second.Connect();
        Assert.Equal("$10\r\nvalue more\r\n", again.Call("GET", "s"));
        Assert.Equal("$4\r\n10.6\r\n", again.Call("GET", "f"));
        Assert.Equal(":6\r\n", again.Call("INCR", "i"));
        Assert.Equal("$8\r\n\0\0\0abcde\r\n", again.Call("GET", "r"));
        Assert.Equal("*2\r\n$1\r\na\r\n$-1\r\n", again.Call("MGET", "m1", "m2"));
        using Storage.IStoreSession reopened = second.State.Store.OpenSession();
        Assert.True(reopened.TryRead(0, "s"u8, null, out Storage.StoredRecord after));
        Assert.Equal(expiresAtMs, after.ExpiresAtMs);
    }

    [Fact]
    public void WrongArity_EveryCommand_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k);
        both.Same("SETNX", k, "v", "x");
        both.Same("GETDEL");
        both.Same("MGET");
        both.Same("MSETNX", k);
        both.Same("APPEND", k);
        both.Same("STRLEN");
        both.Same("INCR");
        both.Same("DECR", k, "1");
        both.Same("INCRBY", k);
        both.Same("DECRBY", k, "1", "2");
        both.Same("INCRBYFLOAT", k);
        both.Same("GETRANGE", k, "0");
        both.Same("SETRANGE", k, "0");
        both.Same("LCS", k);
    }

    [Fact]
    public async Task KeyspaceHitsAndMisses_CountedLikeRedis()
    {
        await using Durable.Testing.TestServer durable = await Durable.Testing.TestServer.StartAsync();
        await using Durable.Testing.RedisReference redis = await Durable.Testing.RedisReference.StartAsync();
        using ReplyComparison both = new(durable.Connect(), redis.Connect());
        string[][] commands =
        [
            ["SET", "a", "1"], ["GET", "a"], ["GET", "missing"], ["MGET", "a", "missing", "a"], ["STRLEN", "a"], ["STRLEN", "missing"],
            ["GETRANGE", "a", "0", "1"], ["GETRANGE", "missing", "0", "1"], ["SET", "a", "2", "GET"], ["SET", "b", "2", "GET"],
            ["GETSET", "a", "3"], ["GETEX", "a", "EX", "100"], ["GETEX", "missing"], ["GETDEL", "b"], ["GETDEL", "missing"],
            ["LCS", "a", "missing"], ["INCR", "c"], ["INCRBYFLOAT", "c", "1"], ["APPEND", "c", "0"], ["SETRANGE", "c", "0", "1"],
            ["SETNX", "c", "1"], ["MSETNX", "c", "1", "d", "1"], ["SET", "c", "1", "NX"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        string info = redis.Connect().Call("INFO", "stats");
        Assert.Contains($"keyspace_hits:{durable.State.Stats.KeyspaceHits}\r\n", info, StringComparison.Ordinal);
        Assert.Contains($"keyspace_misses:{durable.State.Stats.KeyspaceMisses}\r\n", info, StringComparison.Ordinal);
    }
}
