using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Long strings edited in place (APPEND, SETBIT, SETRANGE), which the WAL carries as their changes, come back exact after a
/// SIGKILL, their TTL kept, with a checkpoint taken in the middle of the edits.
/// </summary>
public sealed class LongStringRecoveryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task EditsOfALongString_SurviveASigkill()
    {
        string expected;
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--memory", "4mb"))
        {
            using RespTestClient client = server.Connect();
            Assert.Equal("+OK\r\n", client.Call("SET", "log", new string('x', 5000)));
            Assert.Equal(":1\r\n", client.Call("EXPIRE", "log", "100000"));
            for (int i = 0; i < 300; i++)
            {
                client.Call("APPEND", "log", $"entry {i};");
                if (i % 7 == 0)
                {
                    client.Call("SETBIT", "log", (i * 131).ToString(System.Globalization.CultureInfo.InvariantCulture), "1");
                }

                if (i % 11 == 0)
                {
                    client.Call("SETRANGE", "log", (i * 17).ToString(System.Globalization.CultureInfo.InvariantCulture), "patched");
                }

                if (i == 150)
                {
                    Assert.Equal("+OK\r\n", client.Call("SAVE"));
                }
            }

            expected = client.Call("GET", "log");
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--memory", "4mb");
        using RespTestClient reader = again.Connect();
        Assert.Equal(expected, reader.Call("GET", "log"));
        Assert.InRange(long.Parse(reader.Call("TTL", "log")[1..^2], System.Globalization.CultureInfo.InvariantCulture), 99_000, 100_000);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
