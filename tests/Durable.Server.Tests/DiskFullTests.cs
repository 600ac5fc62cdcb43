using Durable.CrashTest;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// A real full disk: the server's data directory on a small ext4 file system of its own (loop-mounted; needs root, as
/// the power cuts do, and says why it skipped otherwise), written until it is nearly full. Before the disk-space guard
/// the first failed page write of the store's log stopped the server, and it stopped again after each restart.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task DiskFills_WritesGetMisconf_ReadsGoOn_WritesResumeOnceThereIsRoom_AndNothingAcknowledgedIsLost()
    {
        if (PowerLossDisk.Unavailable() is { } reason)
        {
            Assert.Skip(reason);
        }

        Directory.CreateDirectory(_directory);
        using PowerLossDisk disk = PowerLossDisk.Create(Path.Combine(_directory, "fs.img"), Path.Combine(_directory, "mnt"), 160L << 20, "ext4");
        // Space for the test to free later, as an operator would.
        string filler = Path.Combine(disk.MountPoint, "filler");
        await File.WriteAllBytesAsync(filler, new byte[32 << 20], TestContext.Current.CancellationToken);
        string[] arguments = ["--memory", "8mb", "--disk-reserve", "24mb", "--checkpoint-interval", "1"];
        string value = new('v', 4000);
        int acknowledged = 0;
        await using (ServerProcess server = await ServerProcess.StartAsync(disk.DataDirectory, arguments))
        {
            using RespTestClient client = server.Connect();
            string reply;
            while ((reply = client.Call("SET", "k" + acknowledged, value)) == "+OK\r\n")
            {
                acknowledged++;
                Assert.True(acknowledged < 100_000, "the disk never filled");
            }

            Assert.StartsWith("-MISCONF Errors writing to the write-ahead log: no space left for writes: ", reply, StringComparison.Ordinal);
            Assert.Contains("(disk-reserve)", reply, StringComparison.Ordinal);
            Assert.True(acknowledged > 1000, $"only {acknowledged} SETs before the refusal");
            Assert.Equal($"${value.Length}\r\n{value}\r\n", client.Call("GET", "k0"));
            Assert.Equal($"${value.Length}\r\n{value}\r\n", client.Call("GET", "k" + (acknowledged - 1)));
            Assert.Equal(1, client.InfoNumber("persistence", "durable_disk_full_refusals"));
            Assert.Equal(24L << 20, client.InfoNumber("persistence", "durable_disk_reserve_bytes"));
            Assert.Equal("*2\r\n$12\r\ndisk-reserve\r\n$8\r\n25165824\r\n", client.Call("CONFIG", "GET", "disk-reserve"));

            File.Delete(filler);
            DateTime deadline = DateTime.UtcNow.AddSeconds(20);
            while ((reply = client.Call("SET", "after", "1")) != "+OK\r\n")
            {
                Assert.True(DateTime.UtcNow < deadline, "writes did not resume once space was freed: " + reply);
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            Assert.Equal(":" + (acknowledged + 1) + "\r\n", client.Call("DBSIZE"));
            await server.KillAsync();
        }

        await using ServerProcess restarted = await ServerProcess.StartAsync(disk.DataDirectory, arguments);
        using RespTestClient reader = restarted.Connect();
        Assert.Equal(":" + (acknowledged + 1) + "\r\n", reader.Call("DBSIZE"));
        for (int i = 0; i < acknowledged; i += 97)
        {
            Assert.Equal($"${value.Length}\r\n{value}\r\n", reader.Call("GET", "k" + i));
        }

        Assert.Equal($"${value.Length}\r\n{value}\r\n", reader.Call("GET", "k" + (acknowledged - 1)));
        Assert.Equal("$1\r\n1\r\n", reader.Call("GET", "after"));
        await restarted.StopAsync();
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
