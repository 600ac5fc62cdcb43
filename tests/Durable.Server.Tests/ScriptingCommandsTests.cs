using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// EVAL, EVALSHA, their read-only forms and SCRIPT against redis-server, byte for byte: the conversions between Lua
/// and RESP both ways, the library (redis.call, pcall, error_reply, status_reply, sha1hex, setresp, log, bit), the
/// read-only globals, shebang flags, and Redis's error texts with the script's name and line.
/// </summary>
public sealed class ScriptingCommandsTests(ReferenceServers servers)
{
    // Scripts whose replies depend on nothing but themselves and the server's rules.
    private static readonly string[] s_selfContained =
    [
        "return 1", "return 3.7", "return -3.9", "return 2^63", "return 0/0", "return 1e20", "return true", "return false",
        "return nil", "return 'a\\r\\nb'", "return {1,2,{3,'a'},nil,5}", "return {1, 'x', true, false, 2}", "return {[1]=1,[3]=3}",
        "return {a=1}", "return {err='My Error'}", "return {ok='fine'}", "return {ok=5}", "return {err=5}", "return {err='a\\r\\nb'}",
        "return redis.error_reply('bad')", "return redis.error_reply('MYCODE bad')", "return redis.error_reply('-X bad')",
        "return redis.error_reply('')", "return redis.error_reply()", "return redis.status_reply('yo')", "return redis.status_reply('-x')",
        "return redis.status_reply()", "return redis.status_reply(5)", "error({err='bad'})", "error({err='-bad'})", "error('boom')",
        "error(nil)", "error(5)", "return foo()", "x = 5", "return x", "return 1 +", "return 'unfinished", "redis.call = nil",
        "return rawset(_G, 'x', 1)", "return _G.x", "return error_reply", "return redis.call()", "return redis.call(1)",
        "return redis.call('nosuch')", "return redis.pcall('nosuch')", "return redis.call('get')", "return redis.call('get', {})",
        "return redis.call('get', nil)", "return redis.call('multi')", "return redis.call('multi', 'x')", "return redis.call('eval', 'return 1', 0)",
        "return redis.call('blpop', 'x', 0)", "return redis.call('client')", "return redis.call('client', 'bogus')",
        "return redis.call('ping', 'x')", "return {redis.call('ping')}", "return redis.call('time')[1] ~= nil",
        "return redis.pcall('get', 'a', 'b')", "return {redis.pcall('get')}", "return pcall(function() redis.call('nosuch') end)",
        "return {pcall(function() redis.call('nosuch') end)}", "local ok, e = pcall(function() redis.call('nosuch') end); return e",
        "local ok, e = pcall(function() error({}) end); return {ok, e}", "return redis.sha1hex('')", "return redis.sha1hex(5)",
        "return redis.sha1hex({})", "return redis.sha1hex()", "return redis.log(redis.LOG_WARNING, 'from a script')",
        "return redis.log()", "return redis.log('a', 'b')", "return redis.log(9, 'b')", "return redis.setresp(4)", "return redis.setresp()",
        "return redis.set_repl(redis.REPL_ALL)", "return redis.set_repl()", "return redis.set_repl(9)", "return redis.replicate_commands()",
        "return redis.breakpoint()", "return redis.debug('x')", "return redis.REDIS_VERSION", "return redis.REDIS_VERSION_NUM",
        "return type(unpack)", "return unpack({1, 2})", "return table.getn({1, 2, 3})", "return math.pow(2, 10)", "return loadstring",
        "return print", "return os.time()", "return type(debug)", "return type(load)", "return type(coroutine)", "return type(gcinfo)",
        "return type(utf8)", "return type(require)", "return type(getmetatable(''))", "return tostring(nil)", "return #KEYS",
        "return select('#', 1, 2)", "return tonumber('0x10')", "return string.format('%d', 5)", "return string.rep('ab', 3)",
        "return ('x'):upper()", "return bit.band(7, 3)", "return bit.bor(1, 2, 4)", "return bit.bxor(5, 3)", "return bit.bnot(0)",
        "return bit.lshift(1, 31)", "return bit.rshift(-1, 28)", "return bit.arshift(-256, 4)", "return bit.tobit(4294967297)",
        "return bit.tohex(255)", "return bit.tohex(-1, -4)", "return bit.rol(1, 33)", "return bit.ror(1, 1)", "return bit.bswap(1)",
        "#!lua\\nreturn foo", "#!lua flags=no-writes\\nreturn redis.call('set', 'x', 'y')", "#!lua flags=no-writes,allow-oom\\nreturn 1",
        "#!lua flags=bogus\\nreturn 1", "#!lua   flags=no-writes   \\nreturn 1", "#!lua x=1\\nreturn 1", "#!python\\nreturn 1", "#!lua",
        "#!lu\\nreturn 1", "#!lua flags=\\nreturn 1", "local t = {} t[1] = 'a' return t", "return redis.call('object', 'freq', 'nokey')",
        "return {1.5, 2.7}", "return math.huge", "return -math.huge",
    ];

    // lua-cjson's encoder and decoder; objects of one key only, as Lua 5.4 walks a table's keys in another order than 5.1.
    private static readonly string[] s_json =
    [
        "return cjson.encode({1,2,3})",
        "return cjson.encode({})",
        "return cjson.encode({a=1})",
        "return cjson.encode({a={b={1,2,'x'}}})",
        "return cjson.encode('a\"b\\\\c/d\\n\\t\\1\\127é')",
        "return cjson.encode(1.5)",
        "return cjson.encode(1/3)",
        "return cjson.encode(1e300)",
        "return cjson.encode(123456789012345)",
        "return cjson.encode(-0.0)",
        "return cjson.encode(0/0)",
        "return cjson.encode(1/0)",
        "return cjson.encode(true)",
        "return cjson.encode(nil)",
        "return cjson.encode()",
        "return cjson.encode(cjson.null)",
        "return cjson.encode({1,nil,3})",
        "return cjson.encode({[1]=1,[20]=2})",
        "return cjson.encode({[2]=1})",
        "return cjson.encode({[1.5]=1})",
        "return cjson.encode({[true]=1})",
        "return cjson.encode(print)",
        "return cjson.encode(function() end)",
        "return cjson.encode({f=function() end})",
        "local t = {} t[1] = t return cjson.encode(t)",
        "return cjson.decode('[1,2,3]')",
        "return cjson.decode('{\"a\":1}').a",
        "return cjson.decode('\"x\\\\u00e9\\\\ud83d\\\\ude00\"')",
        "return cjson.decode('1.5')",
        "return type(cjson.decode('null'))",
        "return cjson.decode('null') == cjson.null",
        "return cjson.decode('[1,null,3]')",
        "return #cjson.decode('[1,null,3]')",
        "return cjson.decode('x')",
        "return cjson.decode('[1,2')",
        "return cjson.decode('{\"a\" 1}')",
        "return cjson.decode('{1:2}')",
        "return cjson.decode('')",
        "return cjson.decode()",
        "return cjson.decode(5)",
        "return cjson.decode('[1] x')",
        "return cjson.decode('\"\\\\x\"')",
        "return cjson.decode('1e400')",
        "return cjson.decode('-')",
        "return cjson.decode('tru')",
        "return cjson.decode(' [ 1 , { \"b\" : [ true , false ] } ] ')[2].b[1]",
        "return cjson.decode('\"a\\tb\"')",
        "return tostring(cjson.null)",
        "return type(cjson.null)",
        "return cjson.encode_keep_buffer",
        "return cjson.encode(cjson.decode('{\"a\":[1,2,{\"b\":null}]}'))",
        "return cjson.encode({1,2,3,nil,nil,nil,nil,nil,nil,nil,nil,nil,13})",
        "return cjson.encode({[1]=1,[2]=2,[3]=3,[11]=11})",
        "return cjson.encode({[1]=1,[12]=12})",
        "return cjson.encode(0.1)",
        "return cjson.encode(100)",
        "return cjson.encode(1e15)",
        "return cjson.encode(-1e-7)",
        "return cjson.decode('0.1')",
        "return cjson.decode('\"\\\\/\"')",
        "return cjson.decode('[1,]')",
        "return cjson.decode('{\"a\":1,}')",
        "return cjson.decode('{\"a\":1,\"a\":2}').a",
        "return cjson.decode('-0')",
        "return cjson.decode('01')",
        "return cjson.decode('0x10')",
        "return cjson.decode('Infinity')",
        "return cjson.decode('NaN')",
        "return cjson.decode('\"\\\\ud800\"')",
    ];

    [Fact]
    public void Json_EncodesAndDecodesAsRedis()
    {
        using ReplyComparison both = servers.Compare();
        foreach (string script in s_json)
        {
            both.Same("EVAL", script, "0");
        }

        both.Same("EVAL", "return cjson.decode(ARGV[1])", "0", new string('[', 1001) + new string(']', 1001));
        both.Same("EVAL", "return cjson.decode(ARGV[1])", "0", new string('[', 1000) + new string(']', 1000));
        both.Same("EVAL", "local t = {} for i = 1, 999 do t = {t} end return cjson.encode(t)", "0");
    }

    [Fact]
    public void SelfContainedScripts_ReplyAsRedis()
    {
        using ReplyComparison both = servers.Compare();
        foreach (string script in s_selfContained)
        {
            both.Same("EVAL", script.Replace("\\r", "\r", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal), "0");
        }
    }

    [Fact]
    public void KeysAndArguments_ReachTheScriptAndItsCommands()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", p + "a", p + "b", "x", "y");
        both.Same("EVAL", "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])", "1", p + "k", "v");
        both.Same("EVAL", "return redis.call('incr', KEYS[1])", "1", p + "k");
        both.Same("EVAL", "return redis.pcall('incr', KEYS[1])", "1", p + "k");
        both.Same("EVAL", "return redis.call('rpush', KEYS[1], 1, 2.5, 'c')", "1", p + "l");
        both.Same("EVAL", "return redis.call('lrange', KEYS[1], 0, -1)", "1", p + "l");
        both.Same("EVAL", "return redis.call('hset', KEYS[1], 'f', 1, 'g', 2)", "1", p + "h");
        both.Same("EVAL", "return redis.call('hgetall', KEYS[1])", "1", p + "h");
        both.Same("EVAL", "return redis.call('get', KEYS[1])", "1", p + "missing");
        both.Same("EVAL", "return type(redis.call('get', KEYS[1]))", "1", p + "missing");
        both.Same("EVAL", "return redis.call('set', KEYS[1], 1)", "1", p + "s");
        both.Same("EVAL", "return redis.call('set', KEYS[1], 1)['ok']", "1", p + "s");
        both.Same("EVAL", "return redis.call('incrbyfloat', KEYS[1], '1.5')", "1", p + "f");
        both.Same("EVAL", "return redis.call('zadd', KEYS[1], 1.5, 'm')", "1", p + "z");
        both.Same("EVAL", "return redis.call('zrange', KEYS[1], 0, -1, 'withscores')", "1", p + "z");
        both.Same("EVAL", "return redis.call('lpush', KEYS[1], 'x')", "1", p + "s");
        both.Same("EVAL", "return redis.pcall('lpush', KEYS[1], 'x')", "1", p + "s");
        both.Same("EVAL", "return redis.call('set', KEYS[1], 'x', 'px')", "1", p + "s");
        both.Same("EVAL", "local r = redis.pcall('incr', KEYS[1]); error(r)", "1", p + "l");
        both.Same("EVAL", "redis.call('select', 9); redis.call('set', KEYS[1], 'nine'); return redis.call('get', KEYS[1])", "1", p + "db");
        both.Same("GET", p + "db"); // SELECT in a script does not change the caller's database
        both.Same("EVAL", "\nlocal a = 1\n\nreturn redis.call('incr', KEYS[1])", "1", p + "l"); // the line of the call
        both.Same("EVAL", "return 1", "-1");
        both.Same("EVAL", "return 1", "2", "a");
        both.Same("EVAL", "return 1", "x");
        both.Same("EVAL_RO", "return redis.call('get', KEYS[1])", "1", p + "k");
        both.Same("EVAL_RO", "return redis.call('set', KEYS[1], 'b')", "1", p + "k");
        both.Same("EVAL_RO", "#!lua\nreturn redis.call('get', KEYS[1])", "1", p + "k");
        both.Same("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", p + "k");
        both.Same("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "x");
    }

    [Fact]
    public void Resp3_RepliesConvertBothWays()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("HSET", p + "h", "a", "1");
        both.Same("SADD", p + "s", "m");
        foreach (string protocol in new[] { "2", "3" })
        {
            both.Durable.Call("HELLO", protocol); // replies differ in the client's id
            both.Redis.Call("HELLO", protocol);
            both.Same("EVAL", "return redis.call('hgetall', KEYS[1])", "1", p + "h");
            both.Same("EVAL", "redis.setresp(3); return redis.call('hgetall', KEYS[1])", "1", p + "h");
            both.Same("EVAL", "redis.setresp(3); return redis.call('smembers', KEYS[1])", "1", p + "s");
            both.Same("EVAL", "redis.setresp(3); return redis.call('get', KEYS[1])", "1", p + "missing");
            both.Same("EVAL", "redis.setresp(3); return type(redis.call('get', KEYS[1]))", "1", p + "missing");
            both.Same("EVAL", "redis.setresp(3); return redis.call('hgetall', KEYS[1]).map.a", "1", p + "h");
            both.Same("EVAL", "redis.setresp(3); return redis.call('zscore', KEYS[1], 'm')", "1", p + "missing");
            both.Same("EVAL", "return {double=1.5}", "0");
            both.Same("EVAL", "redis.setresp(3); return {double=1.5}", "0");
            both.Same("EVAL", "return {map={a=1}}", "0");
            both.Same("EVAL", "return {set={a=true}}", "0");
            both.Same("EVAL", "return {big_number='123456789012345678901234567890'}", "0");
            both.Same("EVAL", "return false", "0");
            both.Same("EVAL", "return true", "0");
            both.Same("EVAL", "redis.setresp(3); return false", "0");
            both.Same("EVAL", "redis.setresp(3); return true", "0");
            both.Same("EVAL", "return nil", "0");
        }
    }

    [Fact]
    public void TransactionsAndBlockedClients_SeeScripts()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("MULTI");
        both.Same("EVAL", "return redis.call('incr', KEYS[1])", "1", p + "n");
        both.Same("EVAL", "return redis.call('incr', KEYS[1])", "1", p + "n");
        both.Same("EXEC");

        // A push from a script serves a client blocked on the list, as a push from any command does.
        using RespTestClient blocked = servers.Durable.Connect();
        using RespTestClient pusher = servers.Durable.Connect();
        blocked.Send("BLPOP", p + "q", "10");
        Thread.Sleep(200);
        Assert.Equal(":1\r\n", pusher.Call("EVAL", "return redis.call('rpush', KEYS[1], 'job')", "1", p + "q"));
        Assert.Equal($"*2\r\n${(p + "q").Length}\r\n{p}q\r\n$3\r\njob\r\n", blocked.ReadReply());
    }

    [Fact]
    public void ClientReplySkip_DiscardsTheScriptsReply()
    {
        using ReplyComparison both = servers.Compare();
        foreach (RespTestClient client in new[] { both.Redis, both.Durable })
        {
            client.Send("CLIENT", "REPLY", "SKIP");
            client.Send("EVAL", "return 'skipped'", "0");
            Assert.Equal("$4\r\nseen\r\n", client.Call("ECHO", "seen"));
        }
    }

    [Fact]
    public void ReadModifyWrite_IsAtomicAcrossClients()
    {
        string key = servers.NewPrefix() + "counter";
        const string Script = "local v = tonumber(redis.call('get', KEYS[1]) or '0'); redis.call('set', KEYS[1], tostring(v + 1)); return v + 1";
        const int PerClient = 400;
        Parallel.For(0, 4, _ =>
        {
            using RespTestClient client = servers.Durable.Connect();
            for (int i = 0; i < PerClient; i++)
            {
                client.Call("EVAL", Script, "1", key);
            }
        });
        using RespTestClient check = servers.Durable.Connect();
        Assert.Equal($"${(4 * PerClient).ToString(System.Globalization.CultureInfo.InvariantCulture).Length}\r\n{4 * PerClient}\r\n", check.Call("GET", key));
    }

    [Fact]
    public async Task ClientPauseWrite_HoldsEvalButNotEvalRo()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient admin = server.Connect();
        using RespTestClient client = server.Connect();
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "PAUSE", "10000", "WRITE"));
        Assert.Equal(":1\r\n", client.Call("EVAL_RO", "return 1", "0"));
        var held = System.Diagnostics.Stopwatch.StartNew();
        client.Send("EVAL", "return 2", "0");
        Thread.Sleep(500);
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "UNPAUSE"));
        Assert.Equal(":2\r\n", client.ReadReply());
        Assert.True(held.ElapsedMilliseconds >= 450, $"EVAL answered after {held.ElapsedMilliseconds} ms, before CLIENT UNPAUSE");
    }

    [Fact]
    public async Task ScriptCache_LoadExistsEvalshaFlushAndKill()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        string sha = both.Same("SCRIPT", "LOAD", "return 'cached'");
        sha = sha[(sha.IndexOf('\n') + 1)..].TrimEnd();
        both.Same("SCRIPT", "LOAD", "return 1 +");
        both.Same("SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1");
        both.Same("SCRIPT", "LOAD");
        both.Same("EVALSHA", sha, "0");
        both.Same("EVALSHA", sha.ToUpperInvariant(), "0");
        both.Same("EVALSHA_RO", sha, "0");
        both.Same("EVALSHA", "abc", "x");
        both.Same("EVALSHA", new string('0', 40), "0");
        both.Same("EVALSHA", sha, "x");
        both.Same("EVAL", "return 'by eval'", "0");
        both.Same("SCRIPT", "EXISTS", sha, sha.ToUpperInvariant(), new string('f', 40), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
        both.Same("SCRIPT", "EXISTS");
        both.Same("SCRIPT", "FLUSH", "bogus");
        both.Same("SCRIPT", "FLUSH", "ASYNC", "SYNC");
        both.Same("SCRIPT", "FLUSH", "SYNC");
        both.Same("SCRIPT", "EXISTS", sha);
        both.Same("EVALSHA", sha, "0");
        both.Same("SCRIPT", "LOAD", "return 'cached'");
        Assert.Equal(1, both.Redis.InfoNumber("memory", "number_of_cached_scripts"));
        Assert.Equal(1, both.Durable.InfoNumber("memory", "number_of_cached_scripts"));
        Assert.True(both.Durable.InfoNumber("memory", "used_memory_lua") > 0);
        both.Same("SCRIPT", "FLUSH");
        Assert.Equal(0, both.Durable.InfoNumber("memory", "number_of_cached_scripts"));
        both.Same("SCRIPT", "KILL");
        both.Same("SCRIPT", "KILL", "x");
        both.Same("SCRIPT", "BOGUS");

        // SCRIPT KILL from another connection stops a script that has not written.
        using RespTestClient durableLoop = pair.Durable.Connect();
        using RespTestClient redisLoop = pair.Redis.Connect();
        durableLoop.Send("EVAL", "local i = 0 while true do i = i + 1 end", "0");
        redisLoop.Send("EVAL", "local i = 0 while true do i = i + 1 end", "0");
        Thread.Sleep(300);

        // Durable answers INFO and SCRIPT EXISTS while a script runs (Redis answers nothing, then BUSY).
        using (RespTestClient observer = pair.Durable.Connect())
        {
            Assert.Equal(1, observer.InfoNumber("memory", "number_of_cached_scripts"));
            Assert.Equal("*1\r\n:0\r\n", observer.Call("SCRIPT", "EXISTS", sha));
        }

        both.Same("SCRIPT", "KILL");
        Assert.Equal(redisLoop.ReadReply(), durableLoop.ReadReply());
        both.Same("SCRIPT", "KILL");
        both.Same("PING");
    }
}
