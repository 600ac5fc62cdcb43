using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// The read cache through a real server under a 1 MiB budget: a hot set that went to disk is read from memory once each
/// key was read twice (INFO's disk-read counter stops growing), DBSIZE does not change, and after SIGKILL and a restart
/// every key reads back as written.
/// </summary>
public sealed class ReadCacheTests : IDisposable
{
    private const int Keys = 4000;
    private const int Hot = 100;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private static string Key(int i) => "key:" + i.ToString(CultureInfo.InvariantCulture);

    private static string Value(int i) => i.ToString(CultureInfo.InvariantCulture) + ":" + new string('v', 1000);

    private static string Bulk(string value) => $"${value.Length}\r\n{value}\r\n";

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public async Task HotSetOnDisk_ReadFromMemoryAfterTwoReads_SurvivesSigkill(string readCache)
    {
        await using (ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb", "--read-cache", readCache))
        {
            using RespTestClient client = server.Connect();
            for (int i = 0; i < Keys; i++)
            {
                client.Send("SET", Key(i), Value(i));
            }

            for (int i = 0; i < Keys; i++)
            {
                Assert.Equal("+OK\r\n", client.ReadReply());
            }

            ReadHot(client);
            long pending = client.InfoNumber("memory", "durable_pending_reads");
            for (int round = 0; round < 3; round++)
            {
                ReadHot(client);
            }

            long diskReads = client.InfoNumber("memory", "durable_pending_reads") - pending;
            long copies = client.InfoNumber("memory", "durable_read_copies");
            if (readCache == "yes")
            {
                Assert.Equal(0, diskReads);
                Assert.Equal(Hot, copies);
            }
            else
            {
                Assert.Equal(3 * 2 * Hot, diskReads);
                Assert.Equal(0, copies);
            }

            Assert.Equal($":{Keys}\r\n", client.Call("DBSIZE"));
            Assert.Equal($"*2\r\n$10\r\nread-cache\r\n${readCache.Length}\r\n{readCache}\r\n", client.Call("CONFIG", "GET", "read-cache"));
            await server.KillAsync();
        }

        await using ServerProcess again = await ServerProcess.StartAsync(_directory, "--memory", "1mb", "--read-cache", readCache);
        using RespTestClient reader = again.Connect();
        Assert.Equal($":{Keys}\r\n", reader.Call("DBSIZE"));
        for (int i = 0; i < Keys; i++)
        {
            Assert.Equal(Bulk(Value(i)), reader.Call("GET", Key(i)));
        }
    }

    /// <summary>Each hot key twice in a row: on disk, the second GET is the key's second cold read within the window.</summary>
    private static void ReadHot(RespTestClient client)
    {
        for (int i = 0; i < Hot; i++)
        {
            Assert.Equal(Bulk(Value(i)), client.Call("GET", Key(i)));
            Assert.Equal(Bulk(Value(i)), client.Call("GET", Key(i)));
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
