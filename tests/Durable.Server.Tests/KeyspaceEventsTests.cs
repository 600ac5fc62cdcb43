using System.Diagnostics;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Keyspace notifications against redis-server: the same commands publish the same messages, in the same order.</summary>
public sealed class KeyspaceEventsTests : IAsyncLifetime
{
    private ServerTestPair _pair = null!;
    private int _marker;

    public async ValueTask InitializeAsync() => _pair = await ServerTestPair.StartAsync();

    public async ValueTask DisposeAsync() => await _pair.DisposeAsync();

    [Fact]
    public void Config_ParsesAndFormatsAsRedis()
    {
        using ReplyComparison both = _pair.Compare();
        both.Same("CONFIG", "GET", "notify-keyspace-events");
        foreach (string classes in new[] { "KEA", "KEAmn", "AKEtmdn", "KEn", "n", "Kd", "Km", "A", "Ax", "gx$", "E", "Elshz", "" })
        {
            both.Same("CONFIG", "SET", "notify-keyspace-events", classes);
            both.Same("CONFIG", "GET", "notify-keyspace-events");
        }

        both.Same("CONFIG", "SET", "notify-keyspace-events", "KEQ");
        both.Same("CONFIG", "SET", "notify-keyspace-events", "KE ");
        both.Same("CONFIG", "GET", "notify-keyspace-events");
    }

    [Fact]
    public void StringCommands_PublishRedisEvents()
    {
        SameEvents(
            "KEA",
            ["SET", "s:a", "1"],
            ["SET", "s:a", "2", "EX", "100"],
            ["SET", "s:a", "3", "KEEPTTL"],
            ["SET", "s:a", "4", "NX"],
            ["SET", "s:b", "4", "XX"],
            ["SET", "s:a", "5", "GET", "PX", "100000"],
            ["SETNX", "s:a", "x"],
            ["SETNX", "s:c", "x"],
            ["SETEX", "s:c", "100", "y"],
            ["PSETEX", "s:c", "100000", "z"],
            ["GETSET", "s:c", "w"],
            ["GETDEL", "s:c"],
            ["GETDEL", "s:c"],
            ["GETEX", "s:a", "EX", "200"],
            ["GETEX", "s:a", "PERSIST"],
            ["GETEX", "s:a"],
            ["GETEX", "s:a", "PXAT", "1"],
            ["APPEND", "s:d", "abc"],
            ["APPEND", "s:d", "def"],
            ["SETRANGE", "s:d", "1", "XY"],
            ["SETRANGE", "s:e", "3", ""],
            ["SETRANGE", "s:d", "0", ""],
            ["INCR", "s:n"],
            ["DECR", "s:n"],
            ["INCRBY", "s:n", "10"],
            ["DECRBY", "s:n", "3"],
            ["INCRBYFLOAT", "s:n", "1.5"],
            ["INCR", "s:d"],
            ["MSET", "s:m1", "1", "s:m2", "2", "s:m1", "3"],
            ["MSETNX", "s:m3", "1", "s:m4", "2"],
            ["MSETNX", "s:m3", "1", "s:m5", "2"],
            ["SETBIT", "s:bits", "7", "1"],
            ["SETBIT", "s:bits", "7", "1"],
            ["BITOP", "OR", "s:dest", "s:bits", "s:d"],
            ["BITOP", "AND", "s:dest", "s:none1", "s:none2"],
            ["BITFIELD", "s:bf", "SET", "u8", "0", "200", "GET", "u8", "0"],
            ["BITFIELD", "s:bf", "GET", "u8", "0"],
            ["BITFIELD", "s:bf", "INCRBY", "u8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "100"],
            ["BITFIELD", "s:bf2", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5"],
            ["PFADD", "s:hll", "a", "b"],
            ["PFADD", "s:hll", "a"],
            ["PFADD", "s:hll2"],
            ["PFCOUNT", "s:hll"],
            ["PFMERGE", "s:hll3", "s:hll", "s:hll2"],
            ["DEL", "s:a", "s:b", "s:d", "s:none"]);
    }

    [Fact]
    public void GenericCommands_PublishRedisEvents()
    {
        SameEvents(
            "KEA",
            ["SET", "g:a", "1"],
            ["EXPIRE", "g:a", "100"],
            ["PEXPIRE", "g:a", "100000"],
            ["EXPIREAT", "g:a", "4000000000"],
            ["PEXPIREAT", "g:a", "4000000000000"],
            ["EXPIRE", "g:a", "100", "NX"],
            ["EXPIRE", "g:none", "100"],
            ["PERSIST", "g:a"],
            ["PERSIST", "g:a"],
            ["RENAME", "g:a", "g:b"],
            ["SET", "g:c", "x"],
            ["RENAME", "g:b", "g:c"],
            ["RENAMENX", "g:c", "g:d"],
            ["SET", "g:e", "x"],
            ["RENAMENX", "g:d", "g:e"],
            ["RENAME", "g:d", "g:d"],
            ["COPY", "g:d", "g:f"],
            ["COPY", "g:d", "g:f"],
            ["COPY", "g:d", "g:f", "REPLACE"],
            ["COPY", "g:d", "g:f", "DB", "1"],
            ["MOVE", "g:f", "2"],
            ["RPUSH", "g:list", "3", "1", "2"],
            ["SORT", "g:list", "STORE", "g:sorted"],
            ["SORT", "g:none", "STORE", "g:sorted"],
            ["EXPIRE", "g:d", "-1"],
            ["SET", "g:p", "1"],
            ["PEXPIREAT", "g:p", "1"],
            ["UNLINK", "g:e", "g:none", "g:list"],
            ["TOUCH", "g:f"],
            ["DEL", "g:f"]);
    }

    [Fact]
    public void ListCommands_PublishRedisEvents()
    {
        SameEvents(
            "KEA",
            ["LPUSH", "l:a", "1", "2"],
            ["RPUSH", "l:a", "3"],
            ["LPUSHX", "l:none", "1"],
            ["RPUSHX", "l:a", "4"],
            ["LPUSHX", "l:a", "0"],
            ["LINSERT", "l:a", "BEFORE", "3", "x"],
            ["LINSERT", "l:a", "BEFORE", "nope", "x"],
            ["LSET", "l:a", "0", "y"],
            ["LREM", "l:a", "0", "x"],
            ["LREM", "l:a", "0", "nope"],
            ["LTRIM", "l:a", "0", "-1"],
            ["LTRIM", "l:a", "1", "-1"],
            ["LPOP", "l:a"],
            ["RPOP", "l:a", "2"],
            ["LPOP", "l:none"],
            ["RPUSH", "l:b", "1", "2", "3"],
            ["LMOVE", "l:b", "l:c", "LEFT", "RIGHT"],
            ["RPOPLPUSH", "l:b", "l:c"],
            ["LMOVE", "l:b", "l:b", "LEFT", "LEFT"],
            ["LMOVE", "l:b", "l:c", "RIGHT", "LEFT"],
            ["LMPOP", "2", "l:none", "l:c", "RIGHT", "COUNT", "5"],
            ["RPUSH", "l:d", "a", "b"],
            ["BLPOP", "l:none", "l:d", "1"],
            ["BRPOP", "l:d", "1"],
            ["RPUSH", "l:e", "a", "b"],
            ["BLMOVE", "l:e", "l:f", "RIGHT", "LEFT", "1"],
            ["BRPOPLPUSH", "l:e", "l:f", "1"],
            ["BLMPOP", "1", "1", "l:f", "LEFT", "COUNT", "1"],
            ["LTRIM", "l:f", "5", "6"],
            ["RPUSH", "l:g", "a", "a"],
            ["LREM", "l:g", "0", "a"]);
    }

    [Fact]
    public void HashAndSetCommands_PublishRedisEvents()
    {
        SameEvents(
            "KEA",
            ["HSET", "h:a", "f", "1", "g", "2"],
            ["HSET", "h:a", "f", "1"],
            ["HMSET", "h:a", "h", "3"],
            ["HSETNX", "h:a", "f", "x"],
            ["HSETNX", "h:a", "i", "x"],
            ["HINCRBY", "h:a", "f", "5"],
            ["HINCRBYFLOAT", "h:a", "f", "0.5"],
            ["HINCRBY", "h:a", "i", "1"],
            ["HDEL", "h:a", "nope"],
            ["HDEL", "h:a", "f", "g"],
            ["HDEL", "h:a", "h", "i"],
            ["SADD", "z:s", "a", "b", "c"],
            ["SADD", "z:s", "a"],
            ["SREM", "z:s", "nope"],
            ["SREM", "z:s", "a"],
            ["SMOVE", "z:s", "z:t", "b"],
            ["SMOVE", "z:s", "z:t", "nope"],
            ["SMOVE", "z:s", "z:t", "c"],
            ["SADD", "z:u", "1", "2", "3"],
            ["SPOP", "z:u", "0"],
            ["SINTERSTORE", "z:i", "z:t", "z:u"],
            ["SUNIONSTORE", "z:i", "z:t", "z:u"],
            ["SDIFFSTORE", "z:d", "z:u", "z:t"],
            ["SDIFFSTORE", "z:d", "z:none", "z:t"],
            ["SDIFFSTORE", "z:d", "z:none", "z:t"],
            ["SINTERSTORE", "z:i", "z:none", "z:t"],
            ["SREM", "z:t", "b", "c"],
            ["SADD", "z:v", "x"],
            ["SPOP", "z:v"],
            // A set of integers: an intset, whose members Redis replies in order.
            ["SADD", "z:w", "2", "1"],
            ["SPOP", "z:w", "5"]);
    }

    [Fact]
    public void SortedSetAndGeoCommands_PublishRedisEvents()
    {
        SameEvents(
            "KEA",
            ["ZADD", "z:a", "1", "a", "2", "b", "3", "c", "4", "d"],
            ["ZADD", "z:a", "1", "a"],
            ["ZADD", "z:a", "NX", "5", "a"],
            ["ZADD", "z:a", "INCR", "5", "a"],
            ["ZADD", "z:a", "NX", "INCR", "5", "a"],
            ["ZINCRBY", "z:a", "1", "b"],
            ["ZREM", "z:a", "nope"],
            ["ZREM", "z:a", "b"],
            ["ZREMRANGEBYSCORE", "z:a", "100", "200"],
            ["ZREMRANGEBYSCORE", "z:a", "3", "3"],
            ["ZADD", "z:a", "0", "m", "0", "n", "0", "o"],
            ["ZREMRANGEBYLEX", "z:a", "[m", "[m"],
            ["ZREMRANGEBYRANK", "z:a", "0", "0"],
            ["ZPOPMIN", "z:a"],
            ["ZPOPMAX", "z:a", "0"],
            ["ZPOPMAX", "z:a", "1"],
            ["ZADD", "z:b", "1", "x", "2", "y"],
            ["ZUNIONSTORE", "z:u", "2", "z:a", "z:b"],
            ["ZINTERSTORE", "z:i", "2", "z:a", "z:b"],
            ["ZDIFFSTORE", "z:d", "2", "z:b", "z:a"],
            ["ZRANGESTORE", "z:r", "z:b", "0", "0"],
            ["ZRANGESTORE", "z:r", "z:b", "5", "6"],
            ["ZINTERSTORE", "z:u", "2", "z:none", "z:b"],
            ["ZMPOP", "2", "z:none", "z:b", "MIN", "COUNT", "1"],
            ["BZPOPMIN", "z:b", "1"],
            ["ZADD", "z:c", "1", "x"],
            ["BZPOPMAX", "z:none", "z:c", "1"],
            ["ZADD", "z:e", "1", "x", "2", "y"],
            ["BZMPOP", "1", "1", "z:e", "MAX", "COUNT", "5"],
            ["ZREMRANGEBYRANK", "z:a", "0", "-1"],
            ["GEOADD", "z:geo", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
            ["GEOADD", "z:geo", "NX", "13.361389", "38.115556", "Palermo"],
            ["GEOSEARCHSTORE", "z:gs", "z:geo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"],
            ["GEOSEARCHSTORE", "z:gs", "z:geo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "STOREDIST"],
            ["GEORADIUS", "z:geo", "15", "37", "200", "km", "STORE", "z:gr"],
            ["GEORADIUS", "z:geo", "15", "37", "200", "km", "STOREDIST", "z:gr"],
            ["GEORADIUSBYMEMBER", "z:geo", "Palermo", "1", "km", "STORE", "z:gr"],
            ["GEOSEARCHSTORE", "z:gs", "z:geo", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"]);
    }

    [Fact]
    public void StreamCommands_PublishRedisEvents()
    {
        SameEvents(
            "KEA",
            ["XADD", "x:a", "1-1", "f", "v"],
            ["XADD", "x:a", "NOMKSTREAM", "2-1", "f", "v"],
            ["XADD", "x:none", "NOMKSTREAM", "2-1", "f", "v"],
            ["XADD", "x:a", "MAXLEN", "1", "3-1", "f", "v"],
            ["XADD", "x:a", "MAXLEN", "5", "4-1", "f", "v"],
            ["XADD", "x:a", "1-1", "f", "v"],
            ["XDEL", "x:a", "3-1", "9-9"],
            ["XDEL", "x:a", "9-9"],
            ["XTRIM", "x:a", "MAXLEN", "0"],
            ["XTRIM", "x:a", "MAXLEN", "0"],
            ["XSETID", "x:a", "10-0"],
            ["XGROUP", "CREATE", "x:b", "g", "$", "MKSTREAM"],
            ["XGROUP", "CREATE", "x:b", "g", "$"],
            ["XGROUP", "SETID", "x:b", "g", "0"],
            ["XGROUP", "CREATECONSUMER", "x:b", "g", "c1"],
            ["XGROUP", "CREATECONSUMER", "x:b", "g", "c1"],
            ["XADD", "x:b", "1-1", "f", "v"],
            ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "x:b", ">"],
            ["XACK", "x:b", "g", "1-1"],
            ["XCLAIM", "x:b", "g", "c3", "0", "1-1", "FORCE", "JUSTID"],
            ["XAUTOCLAIM", "x:b", "g", "c4", "0", "0", "JUSTID"],
            ["XGROUP", "DELCONSUMER", "x:b", "g", "c1"],
            ["XGROUP", "DELCONSUMER", "x:b", "g", "nobody"],
            ["XGROUP", "DESTROY", "x:b", "g"],
            ["XGROUP", "DESTROY", "x:b", "g"],
            ["DEL", "x:a", "x:b"]);
    }

    [Fact]
    public void Classes_SelectWhichEventsArePublished()
    {
        string[][] commands =
        [
            ["SET", "c:a", "1"], ["EXPIRE", "c:a", "100"], ["LPUSH", "c:l", "x"], ["SADD", "c:s", "x"], ["HSET", "c:h", "f", "v"],
            ["ZADD", "c:z", "1", "x"], ["DEL", "c:a", "c:l", "c:s", "c:h", "c:z"],
        ];
        foreach (string classes in new[] { "K$", "El", "Ks", "Eh", "KEz", "Kg", "KEA", "g$lshz", "" })
        {
            SameEvents(classes, commands);
        }
    }

    [Fact]
    public void NewKeys_PublishNewEvents()
    {
        string[][] commands =
        [
            ["SET", "n:a", "1"], ["SET", "n:b", "2"], ["SET", "n:a", "3"], ["RENAME", "n:a", "n:b"], ["RENAME", "n:b", "n:c"],
            ["SET", "n:d", "1"], ["COPY", "n:c", "n:d", "REPLACE"], ["COPY", "n:c", "n:e"], ["COPY", "n:c", "n:e", "DB", "1", "REPLACE"],
            ["COPY", "n:c", "n:e", "DB", "1", "REPLACE"], ["MOVE", "n:e", "2"], ["SET", "n:x", "1", "PX", "100000"], ["SET", "n:y", "1"],
            ["SET", "n:x", "2"], ["LPUSH", "n:l", "x"], ["LPUSH", "n:l", "y"], ["RPUSH", "n:l", "z"], ["APPEND", "n:s", "x"],
            ["INCR", "n:n"], ["INCRBYFLOAT", "n:f", "1.5"], ["HSET", "n:h", "f", "v"], ["HINCRBY", "n:h2", "f", "1"],
            ["SET", "n:k", "v", "GET"], ["SETNX", "n:z", "1"], ["SETNX", "n:z", "1"], ["MSET", "n:m1", "1", "n:m2", "2"],
            ["MSETNX", "n:m3", "1"], ["PFADD", "n:p", "a"], ["PFMERGE", "n:p2", "n:p"], ["GEOADD", "n:g", "1", "1", "x"],
            ["ZADD", "n:z2", "1", "a"], ["ZINCRBY", "n:z3", "1", "a"], ["SADD", "n:s2", "a"], ["SINTERSTORE", "n:s3", "n:s2", "n:s2"],
            ["SINTERSTORE", "n:s3", "n:s2", "n:s2"], ["ZUNIONSTORE", "n:z4", "1", "n:z2"], ["RPUSH", "n:nums", "3", "1"],
            ["SORT", "n:nums", "STORE", "n:sorted"], ["SETBIT", "n:bits", "3", "1"], ["SETRANGE", "n:r", "2", "ab"],
            ["BITOP", "NOT", "n:not", "n:bits"], ["BITFIELD", "n:bf", "SET", "u8", "0", "1"], ["LMOVE", "n:l", "n:l2", "LEFT", "LEFT"],
            ["SMOVE", "n:s2", "n:s4", "a"], ["GEOSEARCHSTORE", "n:gs", "n:g", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km"],
            ["ZRANGESTORE", "n:zr", "n:z2", "0", "-1"], ["SET", "n:ex", "1", "EX", "100"], ["GETSET", "n:gs2", "x"],
        ];
        SameEvents("KEAn", commands);
        SameEvents("En", commands);
    }

    [Fact]
    public void BlockedClients_ServedByAPush_PublishTheirPops()
    {
        using ReplyComparison admin = _pair.Compare();
        admin.Same("CONFIG", "SET", "notify-keyspace-events", "KEA");
        using ReplyComparison subscriber = Subscribe();
        using ReplyComparison blocked = _pair.Compare();
        using ReplyComparison writer = _pair.Compare();
        blocked.Durable.Send("BLPOP", "b:list", "10");
        blocked.Redis.Send("BLPOP", "b:list", "10");
        blocked.Durable.Send("BZPOPMIN", "b:zset", "10");
        blocked.Redis.Send("BZPOPMIN", "b:zset", "10");
        WaitForBlockedClients(writer, 1);
        writer.Same("RPUSH", "b:list", "a", "b");
        Assert.Equal(blocked.Redis.ReadReply(), blocked.Durable.ReadReply());
        WaitForBlockedClients(writer, 1);
        writer.Same("ZADD", "b:zset", "1", "m");
        Assert.Equal(blocked.Redis.ReadReply(), blocked.Durable.ReadReply());
        string marker = PublishMarker(writer);
        List<string> redis = ReadUntil(subscriber.Redis, marker);
        List<string> durable = ReadUntil(subscriber.Durable, marker);
        Assert.True(redis.SequenceEqual(durable), $"redis:\n  {string.Join("\n  ", redis)}\ndurable:\n  {string.Join("\n  ", durable)}");
    }

    // Waits until both servers count the blocked client (INFO blocked_clients), so that the write comes after the block.
    private static void WaitForBlockedClients(ReplyComparison writer, long count)
    {
        foreach (RespTestClient client in new[] { writer.Durable, writer.Redis })
        {
            Stopwatch waited = Stopwatch.StartNew();
            while (client.InfoNumber("clients", "blocked_clients") != count)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the client never blocked");
                Thread.Sleep(5);
            }
        }
    }

    [Fact]
    public void TransactionsAndOtherDatabases_PublishRedisEvents()
    {
        SameEvents(
            "KEA",
            ["SELECT", "3"],
            ["SET", "t:a", "1"],
            ["MULTI"],
            ["INCR", "t:a"],
            ["LPUSH", "t:l", "x"],
            ["DEL", "t:l"],
            ["EXEC"],
            ["MOVE", "t:a", "4"],
            ["SWAPDB", "3", "4"],
            ["DEL", "t:a"],
            ["SELECT", "0"]);
    }

    [Fact]
    public void ExpiredKeys_PublishExpiredEvents()
    {
        using ReplyComparison admin = _pair.Compare();
        admin.Same("CONFIG", "SET", "notify-keyspace-events", "KEnx");
        using ReplyComparison subscriber = Subscribe();
        using ReplyComparison writer = _pair.Compare();

        // Removed by the expiry cycle.
        writer.Same("SET", "x:a", "1", "PX", "50");
        // Found expired by a read, by a write over it, by a command that replaces it.
        writer.Same("SET", "x:b", "1", "PX", "1");
        writer.Same("SET", "x:c", "1", "PX", "1");
        Thread.Sleep(20);
        writer.Same("GET", "x:b");
        writer.Same("SET", "x:c", "2");

        // Each server's expiry cycle gets to x:a in its own time (a loaded machine slows either): read until both told it.
        List<string> redis = [];
        List<string> durable = [];
        for (Stopwatch waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(20);)
        {
            Thread.Sleep(200);
            string marker = PublishMarker(writer);
            redis.AddRange(ReadUntil(subscriber.Redis, marker));
            durable.AddRange(ReadUntil(subscriber.Durable, marker));
            if (redis.Contains("__keyevent@0__:expired x:a") && durable.Contains("__keyevent@0__:expired x:a"))
            {
                break;
            }
        }

        Assert.Equal(Sorted(redis), Sorted(durable));
        // Each of the three keys on its keyspace channel and on the expired keyevent channel; x:c is new again when set
        // after it expired.
        Assert.Equal(6, durable.Count(m => m.Contains("expired", StringComparison.Ordinal)));
        Assert.Equal(4, durable.Count(m => m.EndsWith("new x:c", StringComparison.Ordinal) || m == "__keyspace@0__:x:c new"));
    }

    private static List<string> Sorted(List<string> messages) => [.. messages.OrderBy(m => m, StringComparer.Ordinal)];

    // Sets the classes on both servers, runs the commands on one connection to each (replies compared), and compares the
    // messages a subscriber to every channel received, in order.
    private void SameEvents(string classes, params string[][] commands)
    {
        using ReplyComparison admin = _pair.Compare();
        admin.Same("CONFIG", "SET", "notify-keyspace-events", classes);
        admin.Same("FLUSHALL");
        using ReplyComparison subscriber = Subscribe();
        using ReplyComparison writer = _pair.Compare();
        foreach (string[] command in commands)
        {
            writer.Same(command);
        }

        string marker = PublishMarker(writer);
        List<string> redis = ReadUntil(subscriber.Redis, marker);
        List<string> durable = ReadUntil(subscriber.Durable, marker);
        Assert.True(
            redis.SequenceEqual(durable),
            $"classes '{classes}'\nredis:\n  {string.Join("\n  ", redis)}\ndurable:\n  {string.Join("\n  ", durable)}");
    }

    private ReplyComparison Subscribe()
    {
        ReplyComparison subscriber = _pair.Compare();
        subscriber.Same("PSUBSCRIBE", "*");
        return subscriber;
    }

    private string PublishMarker(ReplyComparison writer)
    {
        string marker = $"marker:{Interlocked.Increment(ref _marker)}";
        writer.Durable.Call("PUBLISH", marker, "end");
        writer.Redis.Call("PUBLISH", marker, "end");
        return marker;
    }

    // The messages up to the marker's, each as "channel message".
    private static List<string> ReadUntil(RespTestClient client, string marker)
    {
        List<string> messages = [];
        while (true)
        {
            string[] parts = client.ReadReply().Split("\r\n");
            // *4 $8 pmessage $1 * $n channel $n message
            string channel = parts[6];
            if (channel == marker)
            {
                return messages;
            }

            messages.Add($"{channel} {parts[8]}");
        }
    }
}
