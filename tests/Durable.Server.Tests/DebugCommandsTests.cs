using System.Diagnostics;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>DEBUG against redis-server: refused by default as Redis 7.0 refuses it, and what Durable has of it when allowed.</summary>
public sealed class DebugCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void Debug_IsRefusedByDefault_AsRedis()
    {
        using ReplyComparison both = servers.Compare();
        string[][] commands =
        [
            ["DEBUG", "HELP"], ["DEBUG", "SLEEP", "0"], ["DEBUG"], ["debug", "populate", "10"], ["CONFIG", "GET", "enable-debug-command"],
            ["CONFIG", "SET", "enable-debug-command", "yes"], ["MULTI"], ["DEBUG", "SLEEP", "0"], ["EXEC"],
            ["EVAL", "return redis.pcall('debug', 'sleep', '0')", "0"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }
    }

    [Fact]
    public async Task Debug_WhenAllowed_AnswersAsRedis()
    {
        await using TestServer durable = await TestServer.StartAsync(config => config.EnableDebugCommand = "yes");
        await using RedisReference redis = await RedisReference.StartAsync(null, "--enable-debug-command", "yes");
        using ReplyComparison both = new(durable.Connect(), redis.Connect());
        string[][] commands =
        [
            ["DEBUG", "HELP"], ["DEBUG", "HELP", "x"], ["DEBUG", "SLEEP", "0"], ["DEBUG", "SLEEP", "0.05"], ["DEBUG", "SLEEP", "abc"], ["DEBUG", "SLEEP"],
            ["DEBUG", "ERROR", "CUSTOM something went wrong"], ["DEBUG", "ERROR", "two\r\nlines"], ["DEBUG", "LOG", "hello"], ["DEBUG", "FOO"],
            ["DEBUG", "POPULATE", "10"], ["DBSIZE"], ["GET", "key:3"], ["DEBUG", "POPULATE", "5", "p", "3"], ["GET", "p:4"], ["SET", "q:1", "mine"],
            ["DEBUG", "POPULATE", "3", "q", "12"], ["GET", "q:1"], ["GET", "q:2"], ["DEBUG", "POPULATE", "-1"], ["DEBUG", "POPULATE", "x"],
            ["DEBUG", "POPULATE", "1", "r", "-5"], ["DEBUG", "POPULATE", "1", "r", "1", "x"], ["DBSIZE"], ["DEBUG", "PROTOCOL", "bogus"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        foreach (string protocol in new[] { "2", "3" })
        {
            both.Durable.Call("HELLO", protocol);
            both.Redis.Call("HELLO", protocol);
            foreach (string type in new[] { "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "verbatim", "true", "false", "PUSH" })
            {
                both.Same("DEBUG", "PROTOCOL", type);
                if (protocol == "3" && type is "attrib" or "PUSH")
                {
                    // The attribute and the push come before a reply of their own.
                    Assert.Equal(both.Redis.ReadReply(), both.Durable.ReadReply());
                }
            }
        }

        // Redis stops the whole server for DEBUG SLEEP; Durable holds only the connection that sent it.
        using RespTestClient sleeper = durable.Connect();
        using RespTestClient other = durable.Connect();
        Stopwatch watch = Stopwatch.StartNew();
        sleeper.Send("DEBUG", "SLEEP", "1");
        Assert.Equal("+PONG\r\n", other.Call("PING"));
        Assert.True(watch.ElapsedMilliseconds < 900, $"PING took {watch.ElapsedMilliseconds} ms");
        Assert.Equal("+OK\r\n", sleeper.ReadReply());
        // The timer may fire a few milliseconds before the stopwatch reads a second (it did: 998 ms).
        Assert.True(watch.ElapsedMilliseconds >= 950, $"DEBUG SLEEP 1 replied after {watch.ElapsedMilliseconds} ms");
        Assert.Equal("-ERR DEBUG OBJECT is not supported by Durable\r\n", sleeper.Call("DEBUG", "OBJECT", "key:1"));

        // A size from the client past the largest record is refused before anything is allocated, and nothing is written.
        Assert.StartsWith("-ERR value of 100000000000 bytes exceeds this server's largest record (", sleeper.Call("DEBUG", "POPULATE", "2", "huge", "100000000000"), StringComparison.Ordinal);
        Assert.Equal(":0\r\n", sleeper.Call("EXISTS", "huge:0"));
    }

    [Fact]
    public async Task Debug_Local_AllowsLoopbackClients()
    {
        await using TestServer durable = await TestServer.StartAsync(config => config.EnableDebugCommand = "local");
        using RespTestClient client = durable.Connect();
        Assert.Equal("+OK\r\n", client.Call("DEBUG", "SLEEP", "0"));
    }
}
