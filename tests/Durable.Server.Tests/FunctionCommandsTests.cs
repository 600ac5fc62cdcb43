using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// FUNCTION, FCALL and FCALL_RO against redis-server, byte for byte: library metadata and registration errors, what a
/// library's code may reach while it loads, calls and their errors, FUNCTION LIST/STATS/DUMP/RESTORE/KILL, and DUMP
/// payloads moving between the two servers both ways. Each test has servers of its own: the libraries are server-wide.
/// </summary>
public sealed class FunctionCommandsTests
{
    private const string Register = "redis.register_function('f1', function() return 1 end)";

    // The code after "#!lua name=t\n" of libraries that must fail to load, and load.
    private static readonly string[] s_bodies =
    [
        "local t = type(1)", "redis.call('ping')", "local x = redis.LOG_WARNING; redis.log(x, 'loading')", "local v = redis.REDIS_VERSION",
        "local s = string.format('x')", "x = 1", "redis.register_function('a b', function() end)",
        "redis.register_function('ab', function() end); redis.register_function('ab', function() end)",
        "redis.register_function{function_name='f', callback=function() end, flags={'bogus'}}",
        "redis.register_function{function_name='f', callback=function() end, flags='x'}",
        "redis.register_function{function_name='f', callback=function() end, foo=1}",
        "redis.register_function{function_name=5, callback=function() end}", "redis.register_function{callback=function() end}",
        "redis.register_function{function_name='f'}", "redis.register_function(5)", "redis.register_function(5, function() end)",
        "redis.register_function({}, function() end)", "redis.register_function('x', 1)", "redis.register_function{[1]='f'}",
        "redis.register_function{function_name='f', callback=function() end, description=5}",
        "redis.register_function{function_name='f', callback=function() end, description={}}",
        "redis.register_function{function_name='F9', callback=function() end, flags={'NO-WRITES', 'allow-stale'}}",
        "local r = redis.setresp", "local p = pcall", "return 1", "while true do end", "redis.register_function()",
        "redis.register_function('f', function() end) error('after')", "local x = ",
        "redis.register_function('f', function() end) redis.call = 1", "redis.register_function('f', function() end) redis.register_function = 1",
    ];

    // Whole libraries' code: metadata errors first.
    private static readonly string[] s_codes =
    [
        "return 1", "#!lua name=a-b\n" + Register, "#!js name=ab\n" + Register, "#!lua\n" + Register, "#!lua name=x name=y\n" + Register,
        "#!lua NAME=ab foo=bar\n" + Register, "#!lua name=\"ab\n" + Register, "#!lua name=\n" + Register, "#!", "#!lua name=ab",
        "#!LUA name=ab\n" + Register, "#!lua name=ab\nlocal x = ", "#!lua name=\"ab\"\n" + Register,
    ];

    private const string Library = """
        #!lua name=mylib
        redis.register_function('myfunc', function(keys, args) return args[1] end)
        redis.register_function('f4', function(keys, args) return redis.call('nosuch') end)
        redis.register_function('f5', function(keys, args) return KEYS end)
        redis.register_function('ret', function(keys, args) return {keys, args, #keys, #args} end)
        redis.register_function('setter', function(keys, args) return redis.call('set', keys[1], args[1]) end)
        redis.register_function('err', function(keys, args) return redis.error_reply('MINE oops') end)
        redis.register_function('raise', function(keys, args) error('boom') end)
        redis.register_function('raise2', function(keys, args) error({err='CODE custom'}) end)
        redis.register_function('pc', function(keys, args) return redis.pcall('incr', keys[1]) end)
        redis.register_function('str', function(keys, args) return string.format('%d-%s', 5, 'x') end)
        redis.register_function('resp', function(keys, args) redis.setresp(3); return redis.call('hgetall', keys[1]) end)
        redis.register_function{function_name='ro', callback=function(keys, args) return redis.call('set', 'x', 'y') end, flags={'no-writes'}}
        redis.register_function{function_name='rget', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}
        """;

    [Fact]
    public async Task Load_MetadataAndRegistration_AsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        foreach (string code in s_codes)
        {
            both.Same("FUNCTION", "LOAD", code);
        }

        foreach (string body in s_bodies)
        {
            both.Same("FUNCTION", "LOAD", "#!lua name=t\n" + body);
            both.Same("FUNCTION", "DELETE", "t");
        }

        both.Same("FUNCTION", "LOAD", "REPLACE", "#!lua name=ab\n" + Register);
        both.Same("FUNCTION", "LOAD", "replace", "REPLACE", "#!lua name=ab\n" + Register);
        both.Same("FUNCTION", "LOAD", "bogus", "#!lua name=ab\n" + Register);
        both.Same("FUNCTION", "LOAD", "#!lua name=cd\n" + Register);
        both.Same("FUNCTION", "LOAD", "REPLACE", "#!lua name=ab\nredis.register_function('F1', function() return 1 end)");
        both.Same("FUNCTION", "LOAD", "REPLACE", "#!lua name=ab\nredis.register_function('g1', function() return 1 end)");
        both.Same("FUNCTION", "LOAD", "REPLACE");
        both.Same("FUNCTION", "LOAD");
        Assert.Equal(both.Redis.InfoNumber("memory", "number_of_libraries"), both.Durable.InfoNumber("memory", "number_of_libraries"));
        Assert.Equal(both.Redis.InfoNumber("memory", "number_of_functions"), both.Durable.InfoNumber("memory", "number_of_functions"));
        Assert.True(both.Durable.InfoNumber("memory", "used_memory_vm_functions") > 0);
        both.Same("FUNCTION", "STATS");
    }

    [Fact]
    public async Task Fcall_RunsFunctionsAsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("FUNCTION", "LOAD", Library.ReplaceLineEndings("\n"));
        both.Same("HSET", "h", "a", "1");
        string[][] calls =
        [
            ["FCALL", "myfunc", "0", "hello"], ["FCALL", "MYFUNC", "0", "hello"], ["FCALL", "nope", "0"], ["FCALL", "myfunc", "x"],
            ["FCALL", "myfunc", "2", "a"], ["FCALL", "myfunc", "-1"], ["FCALL", "f4", "0"], ["FCALL", "f5", "0"],
            ["FCALL", "ret", "2", "a", "b", "c", "d"], ["FCALL", "ret", "0"], ["FCALL", "setter", "1", "fk", "v1"], ["FCALL", "rget", "1", "fk"],
            ["FCALL_RO", "rget", "1", "fk"], ["FCALL_RO", "setter", "1", "fk", "v2"], ["FCALL_RO", "nope", "0"], ["FCALL", "ro", "0"],
            ["FCALL_RO", "ro", "0"], ["FCALL", "err", "0"], ["FCALL", "raise", "0"], ["FCALL", "raise2", "0"], ["FCALL", "pc", "1", "fk"],
            ["FCALL", "str", "0"], ["FCALL", "resp", "1", "h"], ["FCALL"], ["FCALL", "myfunc"], ["GET", "fk"],
        ];
        foreach (string[] call in calls)
        {
            both.Same(call);
        }

        Hello(both, "3");
        both.Same("FCALL", "resp", "1", "h");
        Hello(both, "2");

        // A function's writes in a transaction, and a transaction's view of a function that is not there.
        both.Same("MULTI");
        both.Same("FCALL", "setter", "1", "tk", "in-exec");
        both.Same("FCALL", "nope", "0");
        both.Same("FUNCTION", "LOAD", "#!lua name=late\nredis.register_function('late', function() return 'late' end)");
        both.Same("FCALL", "late", "0");
        both.Same("EXEC");
        both.Same("GET", "tk");
    }

    [Fact]
    public async Task ListStatsDeleteFlush_AsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("FUNCTION", "LIST");
        both.Same("FUNCTION", "LOAD", "#!lua name=ab\nredis.register_function{function_name='f2', callback=function() return 2 end, description='two', flags={'no-writes','allow-oom','allow-stale','no-cluster','allow-cross-slot-keys'}}");
        both.Same("FUNCTION", "LOAD", "#!lua name=plain\nredis.register_function('p', function() return 2 end)");

        // Redis lists libraries in its hash table's order: one library at a time is listed the same.
        foreach (string protocol in new[] { "2", "3" })
        {
            Hello(both, protocol);
            both.Same("FUNCTION", "LIST", "LIBRARYNAME", "a*");
            both.Same("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "AB");
            both.Same("FUNCTION", "LIST", "libraryname", "pl?in", "withcode");
            both.Same("FUNCTION", "LIST", "LIBRARYNAME", "zz");
            both.Same("FUNCTION", "STATS");
        }

        Hello(both, "2");
        foreach (string[] command in new[]
        {
            new[] { "FUNCTION", "LIST", "LIBRARYNAME" }, ["FUNCTION", "LIST", "bogus"], ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
            ["FUNCTION", "LIST", "LIBRARYNAME", "*", "LIBRARYNAME", "x"], ["FUNCTION", "DELETE", "nope"], ["FUNCTION", "DELETE"],
            ["FUNCTION", "DELETE", "ab"], ["FUNCTION", "DELETE", "ab"], ["FUNCTION", "FLUSH", "bogus"], ["FUNCTION", "FLUSH", "ASYNC", "SYNC"],
            ["FUNCTION", "FLUSH", "sync"], ["FUNCTION", "LIST"], ["FUNCTION", "FLUSH"], ["FUNCTION", "KILL"], ["FUNCTION", "KILL", "x"],
            ["FUNCTION", "STATS", "x"], ["FUNCTION", "DUMP", "x"], ["FUNCTION", "BOGUS"], ["FUNCTION"], ["FUNCTION", "HELP"],
            ["FUNCTION", "HELP", "x"], ["FCALL", "p", "0"],
        })
        {
            both.Same(command);
        }
    }

    [Fact]
    public async Task DumpAndRestore_MoveLibrariesBetweenRedisAndDurable()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("FUNCTION", "DUMP");
        both.Same("FUNCTION", "LOAD", "#!lua name=ab\n" + Register);
        both.Same("FUNCTION", "DUMP");

        // A long library is LZF-compressed, as Redis compresses it.
        string large = Library.ReplaceLineEndings("\n");
        both.Same("FUNCTION", "FLUSH");
        both.Same("FUNCTION", "LOAD", large);
        string redisDump = Bulk(both.Same("FUNCTION", "DUMP"));

        // Restore policies, and Redis's payload read by Durable and Durable's by Redis.
        string durableDump = Bulk(both.Durable.Call("FUNCTION", "DUMP"));
        both.Same("FUNCTION", "FLUSH");
        both.Same("FUNCTION", "LOAD", "#!lua name=ab\n" + Register);
        foreach (string policy in new[] { "APPEND", "replace", "FLUSH" })
        {
            Assert.Equal(both.Redis.Call("FUNCTION", "RESTORE", durableDump, policy), both.Durable.Call("FUNCTION", "RESTORE", redisDump, policy));
            both.Same("FCALL", "myfunc", "0", policy);
            both.Same("FCALL", "f1", "0");
        }

        both.Same("FUNCTION", "RESTORE", redisDump);
        both.Same("FUNCTION", "RESTORE", redisDump, "REPLACE");
        both.Same("FUNCTION", "LOAD", "#!lua name=clash\nredis.register_function('MYFUNC', function() return 1 end)");
        both.Same("FUNCTION", "FLUSH");
        both.Same("FUNCTION", "LOAD", "#!lua name=clash\nredis.register_function('MYFUNC', function() return 1 end)");
        both.Same("FUNCTION", "RESTORE", redisDump);
        both.Same("FUNCTION", "RESTORE", redisDump, "REPLACE");

        // Damaged payloads.
        string emptyDump = "\n\0]\u009b\\@\u000f\u007f\u00a2\u00da";
        both.Same("FUNCTION", "RESTORE", emptyDump);
        both.Same("FUNCTION", "RESTORE", redisDump[..^1] + (char)(redisDump[^1] ^ 1));
        both.Same("FUNCTION", "RESTORE", redisDump[..^10] + "\u000b" + redisDump[^9..]);
        both.Same("FUNCTION", "RESTORE", "short");
        both.Same("FUNCTION", "RESTORE", "x", "bogus");
        both.Same("FUNCTION", "RESTORE", "x", "y", "z");
        both.Same("FUNCTION", "RESTORE");
        foreach (string body in new[] { "\u00f6" + redisDump[1..^10], "\u0001abc", "\u00f5\u0005ab", "\u00f5\u000cnot a library", "\u00f5\u00c0\u0005" })
        {
            both.Same("FUNCTION", "RESTORE", Sealed(body));
        }

        // Redis 7.0's release candidates' format: name, engine, an optional description and the code, each apart.
        const string Blob = "redis.register_function('pre', function() return 'ga' end)";
        both.Same("FUNCTION", "RESTORE", Sealed("\u00f6\u0002ab\u0003lua\u0001\u0004desc" + (char)Blob.Length + Blob), "FLUSH");
        both.Same("FCALL", "pre", "0");
        both.Same("FUNCTION", "RESTORE", Sealed("\u00f6\u0002cd\u0003LUA\u0000" + (char)Blob.Length + Blob.Replace("pre", "rc", StringComparison.Ordinal)));
        both.Same("FCALL", "rc", "0");
        both.Same("FUNCTION", "RESTORE", Sealed("\u00f6\u0002ef\u0003lua\u0001"));
    }

    [Fact]
    public async Task KillAndStats_WhileAFunctionRuns()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("FUNCTION", "LOAD", "#!lua name=loop\nredis.register_function('spin', function() local i = 0 while true do i = i + 1 end end)");
        using RespTestClient durableLoop = pair.Durable.Connect();
        using RespTestClient redisLoop = pair.Redis.Connect();
        durableLoop.Send("FCALL", "spin", "0");
        redisLoop.Send("FCALL", "spin", "0");
        Thread.Sleep(300);

        // FUNCTION STATS names the running function and its call (Redis's duration differs, so only Durable's is read here).
        using (RespTestClient observer = pair.Durable.Connect())
        {
            string stats = observer.Call("FUNCTION", "STATS");
            Assert.StartsWith("*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:", stats, StringComparison.Ordinal);
        }

        both.Same("SCRIPT", "KILL");
        both.Same("FUNCTION", "KILL");
        Assert.Equal(redisLoop.ReadReply(), durableLoop.ReadReply());
        both.Same("FUNCTION", "KILL");

        // FUNCTION KILL and FUNCTION STATS while a script runs.
        durableLoop.Send("EVAL", "while true do end", "0");
        redisLoop.Send("EVAL", "while true do end", "0");
        Thread.Sleep(300);
        both.Same("FUNCTION", "KILL");
        both.Same("FUNCTION", "STATS");
        both.Same("SCRIPT", "KILL");
        Assert.Equal(redisLoop.ReadReply(), durableLoop.ReadReply());
        both.Same("PING");
    }

    // Redis's scriptFlagsToCmdFlags: a function or script that declares no-writes is no write for CLIENT PAUSE WRITE,
    // one that may write is (as redis-server does it, checked by hand: the no-writes calls answer at once).
    [Fact]
    public async Task ClientPauseWrite_FollowsTheScriptsAndFunctionsFlags()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient admin = server.Connect();
        using RespTestClient client = server.Connect();
        Assert.StartsWith("$2", admin.Call("FUNCTION", "LOAD", "#!lua name=pz\nredis.register_function{function_name='pzr', callback=function() return 'r' end, flags={'no-writes'}}\nredis.register_function('pzw', function() return 'w' end)"), StringComparison.Ordinal);
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "PAUSE", "10000", "WRITE"));
        // The pause lasts 10 s: a call it held back would answer only then.
        var passed = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("$1\r\nr\r\n", client.Call("FCALL", "pzr", "0"));
        Assert.Equal("$1\r\nr\r\n", client.Call("FCALL_RO", "pzr", "0"));
        Assert.Equal(":1\r\n", client.Call("EVAL", "#!lua flags=no-writes\nreturn 1", "0"));
        Assert.True(passed.ElapsedMilliseconds < 5000, $"the no-writes calls took {passed.ElapsedMilliseconds} ms under CLIENT PAUSE WRITE");
        foreach (string[] held in new[] { new[] { "FCALL", "pzw", "0" }, ["EVAL", "#!lua\nreturn 1", "0"], ["EVAL", "return 1", "0"] })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            client.Send(held);
            Thread.Sleep(300);
            Assert.Equal("+OK\r\n", admin.Call("CLIENT", "UNPAUSE"));
            client.ReadReply();
            Assert.True(watch.ElapsedMilliseconds >= 250, $"{string.Join(' ', held)} answered after {watch.ElapsedMilliseconds} ms, before CLIENT UNPAUSE");
            Assert.Equal("+OK\r\n", admin.Call("CLIENT", "PAUSE", "10000", "WRITE"));
        }

        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "UNPAUSE"));
    }

    // The libraries are kept in one record: past the store's largest record a load is refused and changes nothing.
    [Fact]
    public async Task Load_PastTheLargestRecord_IsRefusedAndChangesNothing()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        string padding = "-- " + new string('x', 300_000) + "\n";
        int loaded = 0;
        string reply = "";
        for (int i = 0; i < 64; i++)
        {
            reply = client.Call("FUNCTION", "LOAD", $"#!lua name=lib{i}\n{padding}redis.register_function('f{i}', function() return {i} end)");
            if (reply.StartsWith('-'))
            {
                break;
            }

            loaded++;
        }

        Assert.Matches("^-ERR function libraries of [0-9]+ bytes would exceed this server's largest record \\([0-9]+ bytes\\); raise --memory\r\n$", reply);
        Assert.InRange(loaded, 1, 63);
        Assert.Equal(loaded, client.InfoNumber("memory", "number_of_libraries"));
        Assert.Equal(":0\r\n", client.Call("FCALL", "f0", "0"));
        Assert.Equal("-ERR Function not found\r\n", client.Call("FCALL", $"f{loaded}", "0"));

        // REPLACE with a library as large fails the same way and keeps the old one.
        Assert.StartsWith("-ERR function libraries of", client.Call("FUNCTION", "LOAD", "REPLACE", $"#!lua name=lib0\n{padding}{padding}redis.register_function('g0', function() return 'new' end)"), StringComparison.Ordinal);
        Assert.Equal(":0\r\n", client.Call("FCALL", "f0", "0"));
    }

    // HELLO's reply tells the client's id, which differs.
    private static void Hello(ReplyComparison both, string protocol)
    {
        both.Durable.Call("HELLO", protocol);
        both.Redis.Call("HELLO", protocol);
    }

    // A bulk reply's bytes.
    private static string Bulk(string reply) => reply[(reply.IndexOf('\n', StringComparison.Ordinal) + 1)..^2];

    // The body with a footer (RDB version 10 and the CRC-64 of what precedes it, by Durable's CRC-64, which the DUMP
    // comparisons above check against Redis's).
    private static string Sealed(string body)
    {
        byte[] bytes = System.Text.Encoding.Latin1.GetBytes(body + "\n\0");
        ulong crc = Commands.RdbPayload.Crc64(0, bytes);
        return body + "\n\0" + System.Text.Encoding.Latin1.GetString(BitConverter.GetBytes(crc));
    }
}
