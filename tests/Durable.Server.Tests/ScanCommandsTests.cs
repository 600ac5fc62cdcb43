using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>KEYS, SCAN and RANDOMKEY see a whole database, so most tests here start a Durable and a redis-server of their own.</summary>
public sealed class ScanCommandsTests(ReferenceServers servers)
{
    private static readonly string[] s_names =
        ["hello", "hallo", "hxllo", "hllo", "heeello", "h*llo", "h?llo", "h[llo", "h\\llo", "foo", "foo:1", "foo:2", "foo:bar", "Foo", ""];

    [Fact]
    public async Task KeysAndScan_SameData_ReturnSameKeySetsAsRedis()
    {
        await using TestServer durableServer = await TestServer.StartAsync();
        await using RedisReference redisServer = await RedisReference.StartAsync();
        using ReplyComparison both = new(durableServer.Connect(), redisServer.Connect());
        both.Same("KEYS", "*");
        both.Same("SCAN", "0");
        both.Same("SCAN", "0", "MATCH", "*", "COUNT", "100", "TYPE", "string");
        foreach (string name in s_names)
        {
            both.Same("SET", name, "v");
        }

        for (int i = 0; i < 300; i++)
        {
            both.Same("SET", "n:" + i.ToString(CultureInfo.InvariantCulture), "v");
        }

        string[] patterns = ["*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-f]llo", "h[f-a]llo", "h\\*llo", "h\\?llo", "h[\\[]llo", "foo:*", "FOO*", "n:1?", "n:2[0-4]*", "nomatch*", "", "h[llo"];
        foreach (string pattern in patterns)
        {
            Assert.Equal(Sorted(ReadArray(both.Redis.Call("KEYS", pattern))), Sorted(ReadArray(both.Durable.Call("KEYS", pattern))));
            Assert.Equal(Sorted(ScanAll(both.Redis, "MATCH", pattern)), Sorted(ScanAll(both.Durable, "MATCH", pattern)));
        }

        Assert.Equal(315, ScanAll(both.Durable, "COUNT", "7").Distinct().Count());
        Assert.Equal(315, ScanAll(both.Durable, "TYPE", "STRING", "COUNT", "1000").Count);
        Assert.Equal(Sorted(ScanAll(both.Redis, "TYPE", "hash")), Sorted(ScanAll(both.Durable, "TYPE", "hash")));
        Assert.Equal(Sorted(ScanAll(both.Redis, "MATCH", "foo:*", "TYPE", "string", "MATCH", "h*")), Sorted(ScanAll(both.Durable, "MATCH", "foo:*", "TYPE", "string", "MATCH", "h*")));
        both.Same("DBSIZE");
    }

    [Fact]
    public async Task Scan_CursorSpellingsOfZero_MatchRedis()
    {
        await using TestServer durableServer = await TestServer.StartAsync();
        await using RedisReference redisServer = await RedisReference.StartAsync();
        using ReplyComparison both = new(durableServer.Connect(), redisServer.Connect());
        both.Same("SET", "only", "v");
        foreach (string cursor in new[] { "0", "+0", "-0", "00", "", "0\0junk" })
        {
            both.Same("SCAN", cursor);
        }

        Assert.Equal(["only"], ScanAll(both.Durable, "count", "1", "match", "o*", "type", "string"));
        Assert.StartsWith("*2\r\n", both.Durable.Call("SCAN", "-1"), StringComparison.Ordinal);
        Assert.StartsWith("*2\r\n", both.Durable.Call("SCAN", "18446744073709551615"), StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        foreach (string cursor in new[] { "abc", "1x", " 1", "\t1", "+", "-", "18446744073709551616", "-18446744073709551616", "0x10", "1.0" })
        {
            both.Same("SCAN", cursor);
        }

        both.Same("SCAN", "abc", "COUNT", "0");
        both.Same("SCAN", "0", "COUNT");
        both.Same("SCAN", "0", "COUNT", "0");
        both.Same("SCAN", "0", "COUNT", "-1");
        both.Same("SCAN", "0", "COUNT", "abc");
        both.Same("SCAN", "0", "COUNT", "01");
        both.Same("SCAN", "0", "COUNT", "9223372036854775808");
        both.Same("SCAN", "0", "COUNT", "0", "MATCH");
        both.Same("SCAN", "0", "MATCH");
        both.Same("SCAN", "0", "TYPE");
        both.Same("SCAN", "0", "bogus", "x");
        both.Same("SCAN", "0", "COUNT", "10", "bogus");
        both.Same("SCAN", "0", "MATCH", "x", "COUNT", "abc");
        both.Same("SCAN");
        both.Same("KEYS");
        both.Same("KEYS", "a", "b");
    }

    [Fact]
    public async Task RandomKey_EmptyOneAndExpired_MatchRedis()
    {
        await using TestServer durableServer = await TestServer.StartAsync();
        await using RedisReference redisServer = await RedisReference.StartAsync();
        using ReplyComparison both = new(durableServer.Connect(), redisServer.Connect());
        both.Same("RANDOMKEY");
        both.Same("SET", "one", "v");
        both.Same("RANDOMKEY");
        both.Same("SELECT", "5");
        both.Same("RANDOMKEY");
        both.Same("SET", "gone", "v");
        both.Same("PEXPIRE", "gone", "1");
        await Task.Delay(20, TestContext.Current.CancellationToken);
        both.Same("RANDOMKEY");
        both.Same("SELECT", "0");
        for (int i = 0; i < 50; i++)
        {
            both.Same("SET", "k" + i.ToString(CultureInfo.InvariantCulture), "v");
        }

        // Uniform over 51 keys, 200 calls miss "one" about one run in fifty; keep calling until both goals are met
        // (5,000 calls miss it with probability e^-98).
        HashSet<string> seen = [];
        for (int i = 0; i < 5000 && (!seen.Contains("one") || seen.Count <= 10); i++)
        {
            string reply = both.Durable.Call("RANDOMKEY");
            Assert.StartsWith("$", reply, StringComparison.Ordinal);
            int position = 0;
            seen.Add(ReadBulk(reply, ref position));
        }

        Assert.Contains("one", seen);
        Assert.True(seen.Count > 10, $"RANDOMKEY returned only {seen.Count} distinct keys in 5,000 calls");
        Assert.All(seen, key => Assert.True(key == "one" || key.StartsWith('k'), key));
    }

    [Fact]
    public async Task ScanAndKeys_WhileKeysAreRewritten_ReturnEveryKeyThatExistedThroughout()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient scanner = server.Connect();
        using RespTestClient writer = server.Connect();
        for (int i = 0; i < 500; i++)
        {
            scanner.Call("SET", "stable:" + i.ToString(CultureInfo.InvariantCulture), "v");
            scanner.Call("SET", "churn:" + i.ToString(CultureInfo.InvariantCulture), "v");
        }

        using CancellationTokenSource stop = new();
        Task churn = Task.Run(
            () =>
            {
                for (int round = 0; !stop.IsCancellationRequested; round++)
                {
                    string suffix = (round % 500).ToString(CultureInfo.InvariantCulture);
                    // A longer value cannot be updated in place, so the stable key's record moves to the log's tail.
                    writer.Call("SET", "stable:" + suffix, new string('x', 1 + (round % 300)));
                    writer.Call("DEL", "churn:" + suffix);
                    writer.Call("SET", "new:" + round.ToString(CultureInfo.InvariantCulture), "v");
                    writer.Call("SET", "churn:" + suffix, "back");
                }
            },
            TestContext.Current.CancellationToken);

        HashSet<string> scanned = [.. ScanAll(scanner, "COUNT", "5")];
        List<string> listed = ReadArray(scanner.Call("KEYS", "stable:*"));
        await stop.CancelAsync();
        await churn;

        for (int i = 0; i < 500; i++)
        {
            Assert.Contains("stable:" + i.ToString(CultureInfo.InvariantCulture), scanned);
        }

        Assert.Equal(500, listed.Count);
        Assert.Equal(500, listed.Distinct().Count());
    }

    [Fact]
    public async Task ScanAndKeys_WhileAWriterAppendsFasterThanTheyRead_EndWithEveryKeyThatExistedThroughout()
    {
        await using TestServer server = await TestServer.StartAsync(c => c.AppendFsync = "no");
        using RespTestClient scanner = server.Connect();
        using RespTestClient writer = server.Connect();
        string value = new('v', 1024);
        for (int i = 0; i < 1000; i++)
        {
            scanner.Call("SET", "stable:" + i.ToString(CultureInfo.InvariantCulture), value);
        }

        using CancellationTokenSource stop = new();
        Task append = Task.Run(
            () =>
            {
                // Pipelines of 10 MSETs of 200 new keys, against the record a SCAN COUNT 1 reads per call; 200,000 keys at
                // most (about 10 MB, within the test server's memory), four times what the scan may read.
                for (int round = 0; round < 100 && !stop.IsCancellationRequested; round++)
                {
                    for (int command = 0; command < 10; command++)
                    {
                        List<string> mset = ["MSET"];
                        for (int i = 0; i < 200; i++)
                        {
                            mset.Add($"new:{round}:{command}:{i}");
                            mset.Add("v");
                        }

                        writer.Send([.. mset]);
                    }

                    for (int command = 0; command < 10; command++)
                    {
                        Assert.Equal("+OK\r\n", writer.ReadReply());
                    }
                }
            },
            TestContext.Current.CancellationToken);

        // The pass begins once the writer is under way.
        for (int wait = 0; long.Parse(scanner.Call("DBSIZE")[1..^2], CultureInfo.InvariantCulture) < 6000 && wait < 500; wait++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        HashSet<string> scanned = [];
        string cursor = "0";
        int calls = 0;
        do
        {
            string reply = scanner.Call("SCAN", cursor, "COUNT", "1");
            int position = 0;
            Assert.Equal("2", ReadLine(reply, ref position, '*'));
            cursor = ReadBulk(reply, ref position);
            scanned.UnionWith(ReadArray(reply, ref position));
            calls++;
        }
        while (cursor != "0" && calls < 50_000);

        List<string> listed = ReadArray(scanner.Call("KEYS", "stable:*"));
        await stop.CancelAsync();
        await append;

        Assert.True(cursor == "0", $"the pass had not ended after {calls} calls");
        for (int i = 0; i < 1000; i++)
        {
            Assert.Contains("stable:" + i.ToString(CultureInfo.InvariantCulture), scanned);
        }

        Assert.Equal(1000, listed.Distinct().Count());
    }

    /// <summary>Runs a SCAN to completion with the given options and returns every key it produced, repeats included.</summary>
    internal static List<string> ScanAll(RespTestClient client, params string[] options)
    {
        List<string> keys = [];
        string cursor = "0";
        do
        {
            string reply = client.Call(["SCAN", cursor, .. options]);
            int position = 0;
            Assert.Equal("2", ReadLine(reply, ref position, '*'));
            cursor = ReadBulk(reply, ref position);
            keys.AddRange(ReadArray(reply, ref position));
        }
        while (cursor != "0");

        return keys;
    }

    internal static List<string> ReadArray(string reply)
    {
        int position = 0;
        return ReadArray(reply, ref position);
    }

    private static List<string> ReadArray(string reply, ref int position)
    {
        int count = int.Parse(ReadLine(reply, ref position, '*'), CultureInfo.InvariantCulture);
        List<string> items = new(count);
        for (int i = 0; i < count; i++)
        {
            items.Add(ReadBulk(reply, ref position));
        }

        return items;
    }

    private static string ReadBulk(string reply, ref int position)
    {
        int length = int.Parse(ReadLine(reply, ref position, '$'), CultureInfo.InvariantCulture);
        string value = reply.Substring(position, length);
        position += length + 2;
        return value;
    }

    private static string ReadLine(string reply, ref int position, char type)
    {
        Assert.True(reply[position] == type, $"expected '{type}' at {position} in {reply}");
        int end = reply.IndexOf("\r\n", position, StringComparison.Ordinal);
        string line = reply[(position + 1)..end];
        position = end + 2;
        return line;
    }

    private static List<string> Sorted(List<string> keys) => [.. keys.Distinct().Order(StringComparer.Ordinal)];
}
