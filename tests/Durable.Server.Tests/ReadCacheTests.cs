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
            SetAll(client, Enumerable.Range(0, Keys).Select(i => (Key(i), Value(i))));

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

    /// <summary>
    /// Two connections read hot keys in pipelines (so through the batch prefetch, and copying what went to disk) while a
    /// third overwrites them round after round and pushes them to disk: no reader ever sees a key's version go back, and
    /// every key ends with the last value written.
    /// </summary>
    [Fact]
    public async Task PipelinedReadersAndWriter_NoVersionGoesBack_FinalValuesAreTheLastWritten()
    {
        const int Rounds = 30;
        const int Pipeline = 32;
        await using TestServer server = await TestServer.StartAsync(c => c.MemoryBytes = 1L << 20);
        using (RespTestClient loader = server.Connect())
        {
            SetAll(loader, Enumerable.Range(0, Hot).Select(i => (Key(i), Versioned(0, i))));
        }

        using CancellationTokenSource done = new();
        Task writer = Task.Run(
            () =>
            {
                using RespTestClient client = server.Connect();
                for (int round = 1; round <= Rounds; round++)
                {
                    SetAll(client, Enumerable.Range(0, Hot).Select(i => (Key(i), Versioned(round, i))));
                    SetAll(client, Enumerable.Range(0, 300).Select(i => ("filler:" + i.ToString(CultureInfo.InvariantCulture), Value(i))));
                }

                done.Cancel();
            },
            TestContext.Current.CancellationToken);
        Task[] readers =
        [
            .. Enumerable.Range(0, 2).Select(seed => Task.Run(
                () =>
                {
                    using RespTestClient client = server.Connect();
                    Random random = new(seed);
                    int[] newest = new int[Hot];
                    while (!done.IsCancellationRequested)
                    {
                        int[] keys = [.. Enumerable.Range(0, Pipeline / 2).Select(_ => random.Next(Hot)).SelectMany(i => new[] { i, i })];
                        foreach (int i in keys)
                        {
                            client.Send("GET", Key(i));
                        }

                        foreach (int i in keys)
                        {
                            string reply = client.ReadReply();
                            int version = int.Parse(reply.AsSpan(reply.IndexOf('\n') + 1, reply.IndexOf(':') - reply.IndexOf('\n') - 1), CultureInfo.InvariantCulture);
                            Assert.True(version >= newest[i], $"key {i} went back from version {newest[i]} to {version}");
                            newest[i] = version;
                        }
                    }
                },
                TestContext.Current.CancellationToken)),
        ];
        await writer;
        await Task.WhenAll(readers);

        using RespTestClient check = server.Connect();
        Assert.True(check.InfoNumber("memory", "durable_read_copies") > 0, "the readers copied records while the writer ran");
        for (int i = 0; i < Hot; i++)
        {
            Assert.Equal(Bulk(Versioned(Rounds, i)), check.Call("GET", Key(i)));
        }

        Assert.Equal($":{Hot + 300}\r\n", check.Call("DBSIZE"));
    }

    private static string Versioned(int version, int i) => version.ToString(CultureInfo.InvariantCulture) + ":" + Value(i);

    private static void SetAll(RespTestClient client, IEnumerable<(string Key, string Value)> pairs)
    {
        int sent = 0;
        foreach ((string key, string value) in pairs)
        {
            client.Send("SET", key, value);
            sent++;
        }

        for (int i = 0; i < sent; i++)
        {
            Assert.Equal("+OK\r\n", client.ReadReply());
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
