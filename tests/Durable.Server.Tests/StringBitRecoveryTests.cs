using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class StringBitRecoveryTests
{
    [Fact]
    public async Task BitWrites_SurviveRestart()
    {
        string[] keys = ["setbit", "bitfield", "bitop"];
        string[] before = new string[keys.Length];
        TestServer server = await TestServer.StartAsync();
        string directory = server.Directory;
        try
        {
            using (RespTestClient client = server.Connect())
            {
                Assert.Equal(":0\r\n", client.Call("SETBIT", "setbit", "9", "1"));
                Assert.Equal(":0\r\n", client.Call("SETBIT", "setbit", "100", "1"));
                Assert.Equal("*2\r\n:0\r\n:-3\r\n", client.Call("BITFIELD", "bitfield", "SET", "u8", "#2", "200", "INCRBY", "i5", "3", "-3"));
                Assert.Equal(":13\r\n", client.Call("BITOP", "OR", "bitop", "setbit", "bitfield"));
                for (int i = 0; i < keys.Length; i++)
                {
                    before[i] = client.Call("GET", keys[i]);
                }
            }

            server.KeepDirectory = true;
            await server.DisposeAsync();
            server = await TestServer.StartAsync(directory: directory);
            using RespTestClient reopened = server.Connect();
            for (int i = 0; i < keys.Length; i++)
            {
                Assert.Equal(before[i], reopened.Call("GET", keys[i]));
            }

            Assert.Equal(":2\r\n", reopened.Call("BITCOUNT", "setbit"));
        }
        finally
        {
            server.KeepDirectory = false;
            await server.DisposeAsync();
        }
    }
}
