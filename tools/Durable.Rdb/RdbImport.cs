using System.Text;
using Durable.Commands;
using StackExchange.Redis;

namespace Durable.Rdb;

/// <summary>What an import did.</summary>
internal sealed class RdbImportReport
{
    public int Version { get; init; }

    public long Keys { get; set; }

    public long Expired { get; set; }

    public int Libraries { get; set; }

    public long Failed { get; private set; }

    /// <summary>Each refusal's message, with how many keys or libraries got it and the first few of them.</summary>
    public SortedDictionary<string, (long Count, List<string> Names)> Refusals { get; } = new(StringComparer.Ordinal);

    public bool Succeeded => Failed == 0;

    public void Refused(string name, string message)
    {
        Failed++;
        (long count, List<string> names) = Refusals.GetValueOrDefault(message, (0, []));
        if (names.Count < 5)
        {
            names.Add(name);
        }

        Refusals[message] = (count + 1, names);
    }

    public override string ToString() =>
        $"imported {Keys} keys and {Libraries} function libraries; {Expired} keys already expired, left out; {Failed} refused";
}

/// <summary>
/// Loads an RDB file into a running server through RESTORE (each value as its DUMP payload, with the key's absolute
/// expiry and its idle time or frequency) and FUNCTION LOAD, as a client: the server logs and persists every key as
/// any write. The file is read whole once before anything is sent, so a damaged, cut or unknown file imports nothing.
/// Keys that expired before the import are left out, as Redis leaves them out when it loads the file.
/// </summary>
internal static class RdbImport
{
    /// <summary>RESTOREs sent and not yet answered: the oldest is awaited before another goes, so the link never idles.</summary>
    private const int InFlight = 1024;

    public static async Task<RdbImportReport> RunAsync(string file, RdbServer server, bool replace, TextWriter log)
    {
        (int version, long keys, int moduleAux) = RdbFileReader.Check(file);
        await log.WriteLineAsync($"{file}: RDB version {version}, {keys} keys, read whole and its checksum holds" +
            (moduleAux > 0 ? $"; {moduleAux} modules' own data left out" : string.Empty));

        using ConnectionMultiplexer connection = await server.ConnectAsync(log);
        RdbImportReport report = new() { Version = version };
        Queue<(byte[] Key, Task<RedisResult> Reply)> pending = new(InFlight);
        using RdbFileReader reader = RdbFileReader.Open(file);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (reader.Read() is { } item)
        {
            switch (item)
            {
                case RdbAux { Name: "redis-ver" } aux:
                    await log.WriteLineAsync($"written by Redis {aux.Value}");
                    break;
                case RdbFunctionLibrary library:
                    await DrainAsync(pending, report, 0);
                    object[] load = replace ? ["LOAD", "REPLACE", library.Code] : ["LOAD", library.Code];
                    try
                    {
                        await connection.GetDatabase().ExecuteAsync("FUNCTION", load);
                        report.Libraries++;
                    }
                    catch (RedisServerException exception)
                    {
                        report.Refused("function library " + FirstLine(library.Code), exception.Message);
                    }

                    break;
                case RdbKey key when key.ExpiresAtMs != 0 && key.ExpiresAtMs <= now:
                    report.Expired++;
                    break;
                case RdbKey key:
                    pending.Enqueue((key.Key, connection.GetDatabase(key.Database).ExecuteAsync("RESTORE", RestoreArguments(key, version, replace))));
                    await DrainAsync(pending, report, InFlight - 1);
                    if (report.Keys > 0 && report.Keys % 100_000 == 0)
                    {
                        await log.WriteLineAsync($"  {report.Keys} of {keys} keys");
                    }

                    break;
            }
        }

        await DrainAsync(pending, report, 0);
        return report;
    }

    /// <summary>RESTORE key absolute-expiry payload ABSTTL [REPLACE] [IDLETIME s | FREQ f].</summary>
    private static object[] RestoreArguments(RdbKey key, int fileVersion, bool replace) =>
        [key.Key, key.ExpiresAtMs, key.Payload(fileVersion), .. key.RestoreOptions(replace)];

    /// <summary>Awaits the oldest replies until no more than <paramref name="left"/> are outstanding, counting each key's outcome.</summary>
    private static async Task DrainAsync(Queue<(byte[] Key, Task<RedisResult> Reply)> pending, RdbImportReport report, int left)
    {
        while (pending.Count > left)
        {
            (byte[] key, Task<RedisResult> reply) = pending.Dequeue();
            try
            {
                await reply;
                report.Keys++;
            }
            catch (RedisServerException exception)
            {
                report.Refused(Encoding.UTF8.GetString(key), exception.Message);
            }
        }
    }

    private static string FirstLine(byte[] code)
    {
        string text = Encoding.UTF8.GetString(code);
        int end = text.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }
}
