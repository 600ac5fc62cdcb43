using System.Diagnostics;
using System.Globalization;
using System.Text;
using Durable.Rdb;
using Durable.Testing;
using StackExchange.Redis;

namespace Durable.Server.Tests;

/// <summary>
/// durable-rdb: a Redis snapshot (dump.rdb, as redis-server's SAVE writes it) imported into Durable reads back as it
/// does in Redis, and Durable exported to an RDB file loads into redis-server and reads back as it does in Durable;
/// a damaged or cut file imports nothing.
/// </summary>
public sealed class RdbToolTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", "rdb-" + Guid.NewGuid().ToString("N"));

    private static readonly int[] s_databases = [0, 2];

    [Fact]
    public async Task Import_RedisSnapshotOfEveryTypeAndEncoding_ReadsBackAsInRedis()
    {
        await using RedisReference redis = await RedisReference.StartAsync();
        using (RespTestClient client = redis.Connect())
        {
            Populate(client);
            // A stream Durable does not store, among the keys: refused, and the keys after it in the file still come.
            client.Call("XADD", "stream", "*", "field", "value");
            client.Call("SET", "expired", "x", "PX", "1");
            Thread.Sleep(5);
            Assert.Equal("+OK\r\n", client.Call("SAVE"));
        }

        await using TestServer durable = await TestServer.StartAsync();
        StringWriter log = new();
        RdbImportReport report = await RdbImport.RunAsync(Path.Combine(redis.Directory, "dump.rdb"), new RdbServer("127.0.0.1", durable.Port), replace: false, log);
        output.WriteLine(log.ToString());
        Assert.Equal(1, report.Failed);
        Assert.Contains(report.Refusals, refusal => refusal.Key.Contains("stream", StringComparison.Ordinal) && refusal.Value.Names.SequenceEqual(["stream"]));
        Assert.Equal(1, report.Libraries);
        using (RespTestClient client = redis.Connect())
        {
            client.Call("DEL", "stream");
        }

        string expected = await SnapshotAsync(redis.Port);
        Assert.Equal(expected, await SnapshotAsync(durable.Port));
        Assert.Contains("list-with-a-long-element", expected, StringComparison.Ordinal);

        // Again, with REPLACE: every key is there already and is written over.
        RdbImportReport again = await RdbImport.RunAsync(Path.Combine(redis.Directory, "dump.rdb"), new RdbServer("127.0.0.1", durable.Port), replace: true, log);
        Assert.Equal(report.Keys, again.Keys);
        Assert.Equal(expected, await SnapshotAsync(durable.Port));
    }

    [Fact]
    public async Task Export_ThenRedisLoadsTheFile_ReadsBackAsInDurable()
    {
        string file = Path.Combine(_directory, "export.rdb");
        Directory.CreateDirectory(_directory);
        await using TestServer durable = await TestServer.StartAsync();
        using (RespTestClient client = durable.Connect())
        {
            Populate(client);
        }

        RdbExportReport report = await RdbExport.RunAsync(file, new RdbServer("127.0.0.1", durable.Port), TextWriter.Null);
        Assert.Equal(1, report.Libraries);
        Assert.Equal(2, report.Databases);
        Assert.False(File.Exists(file + ".tmp"));
        await using RedisReference redis = await RedisReference.StartAsync(file);
        string expected = await SnapshotAsync(durable.Port);
        Assert.Equal(expected, await SnapshotAsync(redis.Port));
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
            Populate(client);
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

    /// <summary>Keys of every type in the encodings Redis picks by size (and an expiry, a second database, a function library).</summary>
    private static void Populate(RespTestClient client)
    {
        client.Call("SET", "string", "hello");
        client.Call("SET", "integer", "12345");
        client.Call("SET", "negative", "-7");
        client.Call("SET", "compressible", new string('a', 10_000));
        client.Call("SET", "expiring", "soon", "EX", "36000");
        client.Call("RPUSH", "small-list", "a", "b", "3");
        client.Call("RPUSH", "list-with-a-long-element", "short", new string('x', 9_000), "end");
        client.Call("SADD", "intset", "1", "2", "-5", "100000");
        client.Call("SADD", "small-set", "a", "b");
        client.Call("HSET", "small-hash", "a", "1", "b", "two");
        client.Call("HSET", "hash-with-a-long-value", "a", new string('v', 100));
        client.Call("ZADD", "small-zset", "1", "a", "2.5", "b", "-inf", "c");
        for (int i = 0; i < 600; i++)
        {
            string n = i.ToString("D4", CultureInfo.InvariantCulture);
            client.Call("RPUSH", "long-list", "element-" + n);
            client.Call("SADD", "large-set", "member-" + n);
            client.Call("HSET", "large-hash", "field-" + n, "value-" + n);
            client.Call("ZADD", "large-zset", (i * 0.5).ToString(CultureInfo.InvariantCulture), "member-" + n);
        }

        client.Call("ZADD", "large-zset", "inf", "top");

        // Past the reader's 64 KiB buffer: a value that does not compress, and many keys across its refills.
        Random random = new(5);
        client.Call("SET", "incompressible", new string([.. Enumerable.Range(0, 150_000).Select(_ => (char)random.Next(33, 127))]));
        for (int batch = 0; batch < 15; batch++)
        {
            client.Call([
                "MSET",
                .. Enumerable.Range(batch * 100, 100).SelectMany(i => new[] { "key-" + i.ToString("D4", CultureInfo.InvariantCulture), "value-" + i }),
            ]);
        }

        client.Call("EXPIRE", "large-hash", "72000");
        client.Call("SELECT", "2");
        client.Call("SET", "in-database-2", "value");
        client.Call("SELECT", "0");
        client.Call("FUNCTION", "LOAD", "#!lua name=library\nredis.register_function('one', function() return 1 end)");
    }

    /// <summary>Every key of databases 0 and 2 with its type, value (members sorted where the order is the server's own) and expiry in minutes, and the function libraries.</summary>
    private static async Task<string> SnapshotAsync(int port)
    {
        using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true");
        IServer server = connection.GetServer("127.0.0.1", port);
        StringBuilder text = new();
        foreach (int database in s_databases)
        {
            IDatabase db = connection.GetDatabase(database);
            List<string> keys = [];
            await foreach (RedisKey key in server.KeysAsync(database))
            {
                keys.Add((string)key!);
            }

            foreach (string key in keys.Order(StringComparer.Ordinal))
            {
                RedisType type = await db.KeyTypeAsync(key);
                string value = type switch
                {
                    RedisType.String => (string)(await db.StringGetAsync(key))!,
                    RedisType.List => string.Join(',', await db.ListRangeAsync(key)),
                    RedisType.Set => string.Join(',', (await db.SetMembersAsync(key)).Select(member => (string)member!).Order(StringComparer.Ordinal)),
                    RedisType.Hash => string.Join(',', (await db.HashGetAllAsync(key)).Select(entry => $"{entry.Name}={entry.Value}").Order(StringComparer.Ordinal)),
                    RedisType.SortedSet => string.Join(',', (await db.SortedSetRangeByRankWithScoresAsync(key)).Select(entry => $"{entry.Element}={entry.Score.ToString(CultureInfo.InvariantCulture)}")),
                    _ => "unexpected type",
                };
                TimeSpan? ttl = await db.KeyTimeToLiveAsync(key);
                text.Append(CultureInfo.InvariantCulture, $"{database} {key} {type} ttl={(ttl is { } t ? Math.Round(t.TotalMinutes) : -1)} {value}\n");
            }
        }

        RedisResult[] libraries = (RedisResult[])(await connection.GetDatabase().ExecuteAsync("FUNCTION", "LIST"))!;
        text.Append(CultureInfo.InvariantCulture, $"libraries: {libraries.Length}\n");
        return text.ToString();
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
