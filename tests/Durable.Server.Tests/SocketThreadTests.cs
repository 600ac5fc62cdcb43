using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// The real server runs a batch on the socket thread its input arrived on while every record is in memory, and moves
/// batches to the thread pool once records are on disk (a cold read must not hold the other connections of a socket
/// thread); an operator who sets DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0 keeps every batch on the pool.
/// </summary>
public sealed class SocketThreadTests : IDisposable
{
    private const int Keys = 3000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private static string Key(int i) => "key:" + i.ToString(CultureInfo.InvariantCulture);

    private static string Value(int i) => i.ToString(CultureInfo.InvariantCulture) + ":" + new string('v', 1000);

    private static string Bulk(string value) => $"${value.Length}\r\n{value}\r\n";

    [Fact]
    public async Task BatchesInMemory_RunOnSocketThreads_MovedToThePoolOnceRecordsAreOnDisk()
    {
        await using ServerProcess server = await ServerProcess.StartAsync(_directory, "--memory", "1mb", "--appendfsync", "no");
        using RespTestClient client = server.Connect();
        // A batch whose input was already buffered when the connection asked for more runs on the thread that asked, so
        // not every batch starts on a socket thread; of 20 round trips some do.
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("+OK\r\n", client.Call("SET", Key(i), Value(i)));
        }

        Assert.Equal(0, client.InfoNumber("memory", "durable_log_head_address") - client.InfoNumber("memory", "durable_log_begin_address"));
        Assert.True(client.InfoNumber("stats", "durable_batches_on_socket_threads") > 0, "batches in memory ran on a socket thread");
        Assert.Equal(0, client.InfoNumber("stats", "durable_batches_moved_to_pool"));

        for (int i = 20; i < Keys; i++)
        {
            Assert.Equal("+OK\r\n", client.Call("SET", Key(i), Value(i)));
        }

        Assert.True(client.InfoNumber("memory", "durable_log_head_address") > client.InfoNumber("memory", "durable_log_begin_address"), "records are on disk");
        long onSocketThreads = client.InfoNumber("stats", "durable_batches_on_socket_threads");
        long moved = client.InfoNumber("stats", "durable_batches_moved_to_pool");
        for (int i = 0; i < Keys; i += 100)
        {
            Assert.Equal(Bulk(Value(i)), client.Call("GET", Key(i)));
        }

        Assert.True(client.InfoNumber("stats", "durable_batches_moved_to_pool") > moved, "batches moved to the pool");
        // Not one batch ran on a socket thread while records were on disk (the INFO calls included).
        Assert.Equal(onSocketThreads, client.InfoNumber("stats", "durable_batches_on_socket_threads"));
    }

    [Fact]
    public async Task InProcessServer_RunsBatchesOnSocketThreads()
    {
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("+OK\r\n", client.Call("SET", Key(i), Value(i)));
        }

        Assert.True(client.InfoNumber("stats", "durable_batches_on_socket_threads") > 0, "the other tests' servers run commands as durable-server does");
    }

    [Fact]
    public async Task InlineCompletionsOff_EveryBatchOnThePool()
    {
        await using ServerProcess server = await ServerProcess.StartWithEnvironmentAsync(
            _directory, new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "0" }, "--appendfsync", "no");
        using RespTestClient client = server.Connect();
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("+OK\r\n", client.Call("SET", Key(i), Value(i)));
        }

        Assert.Equal(0, client.InfoNumber("stats", "durable_batches_on_socket_threads"));
        Assert.Equal(0, client.InfoNumber("stats", "durable_batches_moved_to_pool"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }
}
