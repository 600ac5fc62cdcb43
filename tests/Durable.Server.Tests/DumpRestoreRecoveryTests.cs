using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>What RESTORE wrote is logged as any write: after a SIGKILL a restored large collection and a restored string with its TTL are there.</summary>
public sealed class DumpRestoreRecoveryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task RestoredValues_SurviveASigkill()
    {
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always"))
        {
            using RespTestClient client = server.Connect();
            for (int i = 0; i < 600; i++)
            {
                client.Call("HSET", "source", "field-" + i, "value-" + i);
            }

            client.Call("SET", "text", "restored", "EX", "1000");
            string hash = Bulk(client.Call("DUMP", "source"));
            string text = Bulk(client.Call("DUMP", "text"));
            Assert.Equal("+OK\r\n", client.Call("RESTORE", "hash", "0", hash));
            Assert.Equal("+OK\r\n", client.Call("RESTORE", "string", "500000", text));
            Assert.Equal("+OK\r\n", client.Call("RESTORE", "source", "0", text, "REPLACE"));
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always");
        using RespTestClient reader = again.Connect();
        Assert.Equal(":600\r\n", reader.Call("HLEN", "hash"));
        Assert.Equal("$9\r\nvalue-599\r\n", reader.Call("HGET", "hash", "field-599"));
        Assert.Equal("$8\r\nrestored\r\n", reader.Call("GET", "string"));
        Assert.InRange(long.Parse(reader.Call("TTL", "string")[1..].TrimEnd(), CultureInfo.InvariantCulture), 400, 500);
        Assert.Equal("+string\r\n", reader.Call("TYPE", "source"));
    }

    private static string Bulk(string reply) => reply[(reply.IndexOf('\n', StringComparison.Ordinal) + 1)..^2];

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
