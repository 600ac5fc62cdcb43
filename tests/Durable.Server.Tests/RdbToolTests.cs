using System.Diagnostics;
using Durable.Rdb;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// durable-rdb: a Redis snapshot (dump.rdb, as redis-server's SAVE writes it) imported into Durable reads back as it
/// does in Redis, and Durable exported to an RDB file loads into redis-server and reads back as it does in Durable;
/// a damaged or cut file imports nothing.
/// </summary>
public sealed class RdbToolTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", "rdb-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Import_RedisSnapshotOfEveryTypeAndEncoding_ReadsBackAsInRedis()
    {
        await using RedisReference redis = await RedisReference.StartAsync();
        using (RespTestClient client = redis.Connect())
        {
            DataSets.PopulateEveryType(client);
            client.Call("SET", "expired", "x", "PX", "1");
            Thread.Sleep(5);
            Assert.Equal("+OK\r\n", client.Call("SAVE"));
        }

        // A key Durable holds already is refused without --replace, and the keys after it in the file still come.
        await using TestServer durable = await TestServer.StartAsync();
        using (RespTestClient client = durable.Connect())
        {
            client.Call("SET", "string", "hello");
        }

        StringWriter log = new();
        RdbImportReport report = await RdbImport.RunAsync(Path.Combine(redis.Directory, "dump.rdb"), new RdbServer("127.0.0.1", durable.Port), replace: false, log);
        output.WriteLine(log.ToString());
        Assert.Equal(1, report.Failed);
        Assert.Contains(report.Refusals, refusal => refusal.Key.Contains("BUSYKEY", StringComparison.Ordinal) && refusal.Value.Names.SequenceEqual(["string"]));
        Assert.Equal(1, report.Libraries);
        string expected = await DataSets.SnapshotAsync(redis.Port);
        Assert.Equal(expected, await DataSets.SnapshotAsync(durable.Port));
        Assert.Contains("list-with-a-long-element", expected, StringComparison.Ordinal);

        // Again, with REPLACE: every key is there already and is written over.
        RdbImportReport again = await RdbImport.RunAsync(Path.Combine(redis.Directory, "dump.rdb"), new RdbServer("127.0.0.1", durable.Port), replace: true, log);
        Assert.Equal(report.Keys + 1, again.Keys);
        Assert.Equal(expected, await DataSets.SnapshotAsync(durable.Port));
    }

    [Fact]
    public async Task Export_ThenRedisLoadsTheFile_ReadsBackAsInDurable()
    {
        string file = Path.Combine(_directory, "export.rdb");
        Directory.CreateDirectory(_directory);
        await using TestServer durable = await TestServer.StartAsync();
        using (RespTestClient client = durable.Connect())
        {
            DataSets.PopulateEveryType(client);
        }

        RdbExportReport report = await RdbExport.RunAsync(file, new RdbServer("127.0.0.1", durable.Port), TextWriter.Null);
        Assert.Equal(1, report.Libraries);
        Assert.Equal(2, report.Databases);
        Assert.False(File.Exists(file + ".tmp"));
        await using RedisReference redis = await RedisReference.StartAsync(file);
        string expected = await DataSets.SnapshotAsync(durable.Port);
        Assert.Equal(expected, await DataSets.SnapshotAsync(redis.Port));
        using RespTestClient loaded = redis.Connect();
        Assert.Equal($":{report.Keys - 1}\r\n", loaded.Call("DBSIZE"));
        Assert.Equal(":1\r\n", loaded.Call("FCALL", "one", "0"));
    }

    /// <summary>A file with a byte changed, or cut short, is refused before anything is sent.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Import_DamagedOrCutFile_ImportsNothing(bool cut)
    {
        await using RedisReference redis = await RedisReference.StartAsync();
        using (RespTestClient client = redis.Connect())
        {
            DataSets.PopulateEveryType(client);
            client.Call("SAVE");
        }

        byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(redis.Directory, "dump.rdb"), TestContext.Current.CancellationToken);
        string file = Path.Combine(redis.Directory, "damaged.rdb");
        if (cut)
        {
            bytes = bytes[..(bytes.Length / 2)];
        }
        else
        {
            // A byte of a key's name: the file still parses, only the checksum tells.
            int inside = bytes.AsSpan().IndexOf("small-hash"u8);
            Assert.True(inside > 0);
            bytes[inside + 3] ^= 0x20;
        }

        await File.WriteAllBytesAsync(file, bytes, TestContext.Current.CancellationToken);
        await using TestServer durable = await TestServer.StartAsync();
        InvalidDataException error = await Assert.ThrowsAsync<InvalidDataException>(
            () => RdbImport.RunAsync(file, new RdbServer("127.0.0.1", durable.Port), replace: false, TextWriter.Null));
        Assert.Contains(cut ? "cut short" : "checksum does not match", error.Message, StringComparison.Ordinal);
        using RespTestClient check = durable.Connect();
        Assert.Equal(":0\r\n", check.Call("DBSIZE"));
    }

    [Fact]
    public async Task Tool_SaysWhatIsWrongAndExitsWithItsCode()
    {
        (int usage, string usageText) = await RunToolAsync("import");
        Assert.Equal(2, usage);
        Assert.Contains("usage: durable-rdb import FILE", usageText, StringComparison.Ordinal);
        (int option, string optionText) = await RunToolAsync("export", "x.rdb", "--replace");
        Assert.Equal(2, option);
        Assert.Contains("'--replace' is not an option of export", optionText, StringComparison.Ordinal);
        string notRdb = Path.Combine(_directory, "not.rdb");
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(notRdb, "hello", TestContext.Current.CancellationToken);
        (int failed, string failedText) = await RunToolAsync("import", notRdb, "--port", "1");
        Assert.Equal(1, failed);
        Assert.Contains("FAILED: '" + notRdb + "' is not an RDB file", failedText, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunToolAsync(params string[] arguments)
    {
        ProcessStartInfo start = new("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "durable-rdb.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process tool = Process.Start(start)!;
        Task<string> errors = tool.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string printed = await tool.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await tool.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (tool.ExitCode, printed + await errors);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was written.
        }
    }
}
