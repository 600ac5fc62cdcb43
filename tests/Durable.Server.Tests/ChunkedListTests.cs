using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>
/// Lists large enough to be stored in chunks (thousands of elements; one of small elements, 64 per chunk, one of
/// 700-byte elements, 5 per chunk), driven by random commands against redis-server, and moved, copied, sorted and
/// deleted by the generic key commands.
/// </summary>
public sealed class ChunkedListTests(ReferenceServers servers)
{
    private const int Elements = 3000;
    private static readonly string s_padding = new('p', 700);

    [Fact]
    public void LargeLists_RandomCommands_SameAsRedis()
    {
        using ReplyComparison both = servers.Compare();
        string prefix = servers.NewPrefix();
        string small = prefix + "small";
        string wide = prefix + "wide";
        string other = prefix + "other";
        for (int start = 0; start < Elements; start += 500)
        {
            both.Same(["RPUSH", small, .. Enumerable.Range(start, 500).Select(Small)]);
        }

        for (int start = 0; start < 300; start += 100)
        {
            both.Same(["RPUSH", wide, .. Enumerable.Range(start, 100).Select(Wide)]);
        }
        both.Same("RPUSH", other, "o1", "o2");
        both.Same("OBJECT", "ENCODING", small);

        Random random = new(20261128);
        string[] keys = [small, wide, other];
        for (int i = 0; i < 2500; i++)
        {
            string key = i % 3 == 0 ? wide : small;
            if (both.Redis.Call("LLEN", key) is ":0\r\n" or [':', _, '\r', '\n'])
            {
                both.Same(["RPUSH", key, .. Enumerable.Range(i, 100).Select(key == wide ? Wide : (Func<int, string>)Small)]);
            }

            string to = keys[random.Next(keys.Length)];
            string n = i.ToString(CultureInfo.InvariantCulture);
            string element = key == wide ? Wide(random.Next(400)) : Small(random.Next(Elements + 200));
            string index = Index(random);
            switch (random.Next(20))
            {
                case 0: both.Same("LPUSH", key, key == wide ? Wide(1000 + i) : "l" + n); break;
                case 1: both.Same("RPUSH", key, key == wide ? Wide(2000 + i) : "r" + n, "rr" + n); break;
                case 2: both.Same("LPOP", key); break;
                case 3: both.Same("RPOP", key, random.Next(0, 30).ToString(CultureInfo.InvariantCulture)); break;
                case 4: both.Same("LINDEX", key, index); break;
                case 5: both.Same("LSET", key, index, "set" + n); break;
                case 6: both.Same("LRANGE", key, index, Index(random)); break;
                case 7:
                    string from = Index(random);
                    both.Same("LRANGE", key, from, (long.Parse(from, CultureInfo.InvariantCulture) + random.Next(12)).ToString(CultureInfo.InvariantCulture));
                    break;
                case 8: both.Same("LINSERT", key, random.Next(2) == 0 ? "BEFORE" : "AFTER", element, "ins" + n); break;
                case 9: both.Same("LREM", key, random.Next(-2, 3).ToString(CultureInfo.InvariantCulture), element); break;
                case 10 when random.Next(6) == 0:
                    both.Same("LTRIM", key, random.Next(0, 40).ToString(CultureInfo.InvariantCulture), (-1 - random.Next(40)).ToString(CultureInfo.InvariantCulture));
                    break;
                case 11: both.Same("LPOS", key, element, "RANK", random.Next(2) == 0 ? "1" : "-2", "COUNT", random.Next(3).ToString(CultureInfo.InvariantCulture)); break;
                case 12: both.Same("LMOVE", key, to, random.Next(2) == 0 ? "LEFT" : "RIGHT", random.Next(2) == 0 ? "LEFT" : "RIGHT"); break;
                case 13: both.Same("RPOPLPUSH", key, to); break;
                case 14: both.Same("LMPOP", "2", prefix + "none", key, random.Next(2) == 0 ? "LEFT" : "RIGHT", "COUNT", random.Next(1, 30).ToString(CultureInfo.InvariantCulture)); break;
                case 15: both.Same("BLPOP", prefix + "none", key, "0"); break;
                case 16: both.Same("BLMOVE", key, to, "RIGHT", "LEFT", "0"); break;
                case 17: both.Same("LLEN", key); break;
                default: both.Same("LRANGE", key, "-" + random.Next(1, 30).ToString(CultureInfo.InvariantCulture), "-1"); break;
            }
        }

        foreach (string key in keys)
        {
            both.Same("LLEN", key);
            both.Same("LRANGE", key, "0", "-1");
        }

        // Emptying a chunked list deletes its key, as Redis does.
        both.Same("LTRIM", small, "5", "2");
        both.Same("EXISTS", small);
        both.Same("LPOP", wide, "100000");
        both.Same("EXISTS", wide);
    }

    [Fact]
    public void LargeList_TrimAndRemoveAcrossChunks_SameAsRedis()
    {
        using ReplyComparison both = servers.Compare();
        string key = servers.NewPrefix() + "list";
        both.Same(["RPUSH", key, .. Enumerable.Range(0, 400).Select(i => Wide(i % 7))]);
        both.Same("LREM", key, "0", Wide(3));
        both.Same("LREM", key, "-20", Wide(5));
        both.Same("LREM", key, "30", Wide(6));
        both.Same("LTRIM", key, "13", "-17");
        both.Same("LINSERT", key, "BEFORE", Wide(4), "first-four");
        both.Same("LINSERT", key, "AFTER", Wide(2), "after-two");
        both.Same(["LPUSH", key, .. Enumerable.Range(0, 150).Select(i => "h" + i.ToString(CultureInfo.InvariantCulture))]);
        both.Same("LTRIM", key, "2", "3");
        both.Same("LRANGE", key, "0", "-1");
        both.Same(["RPUSH", key, .. Enumerable.Range(0, 300).Select(i => "t" + i.ToString(CultureInfo.InvariantCulture))]);
        both.Same("LRANGE", key, "0", "-1");
        both.Same("LTRIM", key, "-1", "-1");
        both.Same("LRANGE", key, "0", "-1");
        both.Same("RPOPLPUSH", key, key);
        both.Same("LMOVE", key, key, "LEFT", "RIGHT");
        both.Same("LPOP", key);
        both.Same("EXISTS", key);
    }

    // 6,000 elements of 5 per chunk: a scan of the whole list reads more chunks than a command keeps cached.
    [Fact]
    public void LargeList_ScansPastTheChunkCache_SameAsRedis()
    {
        using ReplyComparison both = servers.Compare();
        string key = servers.NewPrefix() + "list";
        for (int start = 0; start < 6000; start += 100)
        {
            both.Same(["RPUSH", key, .. Enumerable.Range(start, 100).Select(i => i is 5 or 5990 ? "twice" : Unique(i))]);
        }

        both.Same("LPOS", key, Unique(5999), "RANK", "1");
        both.Same("LPOS", key, "twice", "RANK", "-1", "COUNT", "0");
        both.Same("LINSERT", key, "AFTER", Unique(5998), "inserted");
        both.Same("LREM", key, "0", "twice");
        both.Same("LSET", key, "3000", "middle");
        both.Same("LRANGE", key, "2995", "3005");
        both.Same("LRANGE", key, "-20", "-1");
        both.Same("LRANGE", key, "0", "10");
        both.Same("LLEN", key);
        both.Same("DEL", key);
    }

    [Fact]
    public void LargeList_RenameCopySortExpireAndBlockingPops()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        using Durable.Testing.RespTestClient blocked = servers.Durable.Connect();
        string prefix = servers.NewPrefix();
        string list = prefix + "list";
        client.Call(["RPUSH", list, .. Enumerable.Range(0, Elements).Select(i => i.ToString(CultureInfo.InvariantCulture))]);
        Assert.Equal("$9\r\nquicklist\r\n", client.Call("OBJECT", "ENCODING", list));

        Assert.Equal("+OK\r\n", client.Call("RENAME", list, prefix + "renamed"));
        Assert.Equal("$4\r\n2999\r\n", client.Call("LINDEX", prefix + "renamed", "-1"));
        Assert.Equal(":1\r\n", client.Call("COPY", prefix + "renamed", prefix + "copy"));
        Assert.Equal("+OK\r\n", client.Call("LSET", prefix + "copy", "1500", "changed"));
        Assert.Equal(":1\r\n", client.Call("DEL", prefix + "renamed"));
        Assert.Equal("$7\r\nchanged\r\n", client.Call("LINDEX", prefix + "copy", "1500"));
        Assert.Equal("$4\r\n1499\r\n", client.Call("LINDEX", prefix + "copy", "1499"));
        Assert.Equal($":{Elements}\r\n", client.Call("LLEN", prefix + "copy"));

        // SORT reads a chunked list whole; SORT STORE of a large result stores a chunked list.
        Assert.Equal("*3\r\n$1\r\n0\r\n$1\r\n1\r\n$2\r\n10\r\n", client.Call("SORT", prefix + "copy", "ALPHA", "LIMIT", "0", "3"));
        Assert.Equal($":{Elements}\r\n", client.Call("SORT", prefix + "copy", "ALPHA", "DESC", "STORE", prefix + "sorted"));
        Assert.Equal("$7\r\nchanged\r\n", client.Call("LINDEX", prefix + "sorted", "0"));
        Assert.Equal("$1\r\n0\r\n", client.Call("LINDEX", prefix + "sorted", "-1"));

        // Blocked pops are served from a chunked list, and moved between chunked and compact lists.
        BlockingTranscripts.Block(blocked, client, "BLMOVE", prefix + "empty", prefix + "sorted", "LEFT", "RIGHT", "0");
        Assert.Equal(":1\r\n", client.Call("LPUSH", prefix + "empty", "woken"));
        Assert.Equal("$5\r\nwoken\r\n", blocked.ReadReply());
        Assert.Equal("$5\r\nwoken\r\n", client.Call("LINDEX", prefix + "sorted", "-1"));
        Assert.Equal("*2\r\n" + Bulk(prefix + "sorted") + "$7\r\nchanged\r\n", client.Call("BLPOP", prefix + "sorted", "0"));
        Assert.Equal("$5\r\nwoken\r\n", client.Call("RPOPLPUSH", prefix + "sorted", prefix + "small"));
        Assert.Equal("$5\r\nwoken\r\n", client.Call("LMOVE", prefix + "small", prefix + "sorted", "LEFT", "LEFT"));
        Assert.Equal("$5\r\nwoken\r\n", client.Call("LINDEX", prefix + "sorted", "0"));
        Assert.Equal(":0\r\n", client.Call("EXISTS", prefix + "small"));

        Assert.Equal(":1\r\n", client.Call("PEXPIRE", prefix + "copy", "1"));
        BlockingTranscripts.WaitUntil(() => client.Call("EXISTS", prefix + "copy") == ":0\r\n");
        Assert.Equal("$-1\r\n", client.Call("LINDEX", prefix + "copy", "0"));
        Assert.Equal(":1\r\n", client.Call("DEL", prefix + "sorted"));
    }

    private static string Small(int i) => "e" + (i % 50).ToString(CultureInfo.InvariantCulture);

    private static string Wide(int i) => (i % 60).ToString(CultureInfo.InvariantCulture) + s_padding;

    private static string Unique(int i) => "u" + i.ToString(CultureInfo.InvariantCulture) + s_padding;

    private static string Index(Random random) => random.Next(4) switch
    {
        0 => random.Next(0, 100).ToString(CultureInfo.InvariantCulture),
        1 => (-1 - random.Next(0, 100)).ToString(CultureInfo.InvariantCulture),
        2 => random.Next(-3500, 3500).ToString(CultureInfo.InvariantCulture),
        _ => random.Next(0, 3200).ToString(CultureInfo.InvariantCulture),
    };

    private static string Bulk(string value) => $"${value.Length}\r\n{value}\r\n";
}

