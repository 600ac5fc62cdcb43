using System.Globalization;
using Durable.Rdb;
using StackExchange.Redis;

// durable-rdb import FILE [--host H] [--port P] [--password PW] [--replace]
// durable-rdb export FILE [--host H] [--port P] [--password PW]
const string Usage = "usage: durable-rdb import FILE [--host H] [--port P] [--password PW] [--replace]\n" +
    "       durable-rdb export FILE [--host H] [--port P] [--password PW]";
if (args.Length < 2 || args[0] is not ("import" or "export"))
{
    await Console.Error.WriteLineAsync(Usage);
    return 2;
}

RdbServer server = new();
bool replace = false;
for (int i = 2; i < args.Length; i++)
{
    string? value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--replace" when args[0] == "import":
            replace = true;
            continue;
        case "--host" when value is not null:
            server = server with { Host = value };
            break;
        case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536:
            server = server with { Port = port };
            break;
        case "--password" when value is not null:
            server = server with { Password = value };
            break;
        default:
            await Console.Error.WriteLineAsync($"durable-rdb: '{args[i]}' is not an option of {args[0]}, or its value is missing or wrong\n{Usage}");
            return 2;
    }

    i++;
}

try
{
    if (args[0] == "import")
    {
        RdbImportReport report = await RdbImport.RunAsync(args[1], server, replace, Console.Out);
        foreach ((string message, (long count, List<string> names)) in report.Refusals)
        {
            await Console.Out.WriteLineAsync($"  {count} refused with \"{message}\": {string.Join(", ", names)}{(count > names.Count ? ", ..." : string.Empty)}");
        }

        await Console.Out.WriteLineAsync((report.Succeeded ? "done: " : "FAILED: ") + report);
        return report.Succeeded ? 0 : 1;
    }

    RdbExportReport exported = await RdbExport.RunAsync(args[1], server, Console.Out);
    await Console.Out.WriteLineAsync($"done: {exported} into {args[1]}");
    return 0;
}
catch (Exception exception) when (exception is InvalidDataException or IOException or UnauthorizedAccessException or RedisException)
{
    await Console.Out.WriteLineAsync("FAILED: " + exception.Message);
    return 1;
}
