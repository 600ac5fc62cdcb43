using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class SortedSetLimitTests
{
    [Fact]
    public async Task Writes_PastTheRecordLimit_ErrorAndChangeNothing()
    {
        await using TestServer server = await TestServer.StartAsync(c => c.MemoryBytes = 4L << 20);
        using RespTestClient client = server.Connect();

        // A record holds about 128 KiB here (a 32nd of memory): four of these members fit, five do not.
        string big = new('m', 30_000);
        string[] many = [.. Enumerable.Range(0, 8).Select(i => big + i.ToString(CultureInfo.InvariantCulture))];
        Assert.Equal(":1\r\n", client.Call("ZADD", "z", "0", "small"));
        foreach (string member in many[..4])
        {
            Assert.Equal(":1\r\n", client.Call("ZADD", "z", "1", member));
        }

        Assert.StartsWith("-ERR value of ", client.Call("ZADD", "z", "1", many[4]), StringComparison.Ordinal);
        Assert.StartsWith("-ERR value of ", client.Call("ZINCRBY", "z", "1", many[5]), StringComparison.Ordinal);
        Assert.Equal(":5\r\n", client.Call("ZCARD", "z"));
        Assert.Equal("$-1\r\n", client.Call("ZSCORE", "z", many[4]));

        foreach (string member in many[4..])
        {
            Assert.Equal(":1\r\n", client.Call("ZADD", "y", "2", member));
        }

        Assert.Equal(":1\r\n", client.Call("ZADD", "d", "5", "kept"));
        Assert.StartsWith("-ERR value of ", client.Call("ZUNIONSTORE", "d", "2", "z", "y"), StringComparison.Ordinal);
        Assert.Equal("*2\r\n$4\r\nkept\r\n$1\r\n5\r\n", client.Call("ZRANGE", "d", "0", "-1", "WITHSCORES"));
        Assert.Equal(":1\r\n", client.Call("ZINTERCARD", "2", "z", "z", "LIMIT", "1"));
    }
}
