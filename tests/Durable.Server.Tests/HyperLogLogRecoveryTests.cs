using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>HyperLogLog writes (PFADD, PFMERGE, PFCOUNT's cached count, PFDEBUG TODENSE) survive a SIGKILL, byte for byte.</summary>
public sealed class HyperLogLogRecoveryTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task EveryKindOfWrite_SurvivesASigkill()
    {
        string[] keys = ["sparse", "dense", "merged", "counted", "todense"];
        var before = new Dictionary<string, string>();
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--memory", "4mb"))
        {
            using RespTestClient client = server.Connect();
            Assert.Equal(":1\r\n", client.Call("PFADD", "sparse", "a", "b", "c"));
            for (int i = 0; i < 5000; i += 100)
            {
                client.Call(["PFADD", "dense", .. Enumerable.Range(i, 100).Select(e => "m" + e)]);
            }

            Assert.Equal("+dense\r\n", client.Call("PFDEBUG", "ENCODING", "dense"));
            Assert.Equal("+OK\r\n", client.Call("PFMERGE", "merged", "sparse", "dense"));
            Assert.Equal(":1\r\n", client.Call("PFADD", "counted", "x", "y"));
            Assert.Equal(":2\r\n", client.Call("PFCOUNT", "counted"));
            Assert.Equal(":1\r\n", client.Call("PFADD", "todense", "t"));
            Assert.Equal(":1\r\n", client.Call("PFDEBUG", "TODENSE", "todense"));
            foreach (string key in keys)
            {
                before[key] = client.Call("GET", key);
            }

            // The cached count is in the value (bytes 8-15, little-endian), its top bit clear: valid.
            string counted = before["counted"][(before["counted"].IndexOf('\n') + 1)..];
            Assert.Equal("\u0002\0\0\0\0\0\0\0", counted[8..16]);
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--appendfsync", "always", "--memory", "4mb");
        using RespTestClient reader = again.Connect();
        foreach (string key in keys)
        {
            Assert.Equal(before[key], reader.Call("GET", key));
        }

        Assert.Equal("+dense\r\n", reader.Call("PFDEBUG", "ENCODING", "todense"));
        Assert.Equal(reader.Call("PFCOUNT", "dense", "sparse"), reader.Call("PFCOUNT", "merged"));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
