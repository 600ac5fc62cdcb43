using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Every set write path survives SIGKILL: the server is killed without a checkpoint and restarted on its data.</summary>
public sealed class SetRecoveryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task SetWrites_SurviveSigkill()
    {
        string[] keys = ["ints", "mixed", "big", "moved-to", "inter", "union", "diff", "popped", "popped-few", "binary"];
        string[] reads = new string[keys.Length * 3];
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always"))
        {
            using RespTestClient client = server.Connect();
            Assert.Equal(":4\r\n", client.Call("SADD", "ints", "30", "-1", "7", "100"));
            Assert.Equal(":1\r\n", client.Call("SREM", "ints", "100"));
            Assert.Equal(":4\r\n", client.Call("SADD", "mixed", "b", "1", "a", "2"));
            Assert.Equal(":600\r\n", client.Call(["SADD", "big", .. SetReplies.Numbers(1, 600)]));
            Assert.Equal(":590\r\n", client.Call(["SREM", "big", .. SetReplies.Numbers(11, 600)]));
            Assert.Equal(":1\r\n", client.Call("SMOVE", "mixed", "moved-to", "a"));
            Assert.Equal(":1\r\n", client.Call("SMOVE", "ints", "gone", "7"));
            Assert.Equal(":1\r\n", client.Call("SMOVE", "gone", "moved-to", "7"));
            Assert.Equal(":2\r\n", client.Call("SINTERSTORE", "inter", "big", "mixed"));
            Assert.Equal(":13\r\n", client.Call("SUNIONSTORE", "union", "big", "ints", "mixed"));
            Assert.Equal(":8\r\n", client.Call("SDIFFSTORE", "diff", "big", "mixed"));
            Assert.Equal(":1\r\n", client.Call("EXPIRE", "union", "100000"));
            Assert.Equal(":20\r\n", client.Call(["SADD", "popped", .. SetReplies.Numbers(1, 20)]));
            Assert.StartsWith("*3\r\n", client.Call("SPOP", "popped", "3"), StringComparison.Ordinal);
            Assert.StartsWith("$", client.Call("SPOP", "popped"), StringComparison.Ordinal);
            Assert.Equal(":21\r\n", client.Call(["SADD", "popped-few", .. SetReplies.Numbers(1, 20), "x"]));
            Assert.StartsWith("*19\r\n", client.Call("SPOP", "popped-few", "19"), StringComparison.Ordinal);
            Assert.Equal(":3\r\n", client.Call("SADD", "binary", "a\0b", "\r\n", ""));
            Assert.Equal(":1\r\n", client.Call("SADD", "emptied", "x"));
            Assert.Equal(":1\r\n", client.Call("SREM", "emptied", "x"));
            Read(client, keys, reads);
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always");
        using RespTestClient reader = again.Connect();
        string[] after = new string[reads.Length];
        Read(reader, keys, after);
        Assert.Equal(reads, after);
        Assert.Equal(":0\r\n", reader.Call("EXISTS", "emptied", "gone"));
        Assert.Equal("$9\r\nhashtable\r\n", reader.Call("OBJECT", "ENCODING", "big"));
        Assert.Equal("$6\r\nintset\r\n", reader.Call("OBJECT", "ENCODING", "inter"));
        Assert.InRange(long.Parse(reader.Call("TTL", "union")[1..^2], CultureInfo.InvariantCulture), 99_000, 100_000);
        Assert.Equal(":1\r\n", reader.Call("SADD", "big", "601"));
        Assert.Equal(":11\r\n", reader.Call("SCARD", "big"));
    }

    private static void Read(RespTestClient client, string[] keys, string[] reads)
    {
        for (int i = 0; i < keys.Length; i++)
        {
            reads[3 * i] = client.Call("SMEMBERS", keys[i]);
            reads[(3 * i) + 1] = client.Call("OBJECT", "ENCODING", keys[i]);
            reads[(3 * i) + 2] = client.Call("SCARD", keys[i]);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
