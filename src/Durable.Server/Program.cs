using Durable.Commands.Server;
using Durable.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Socket completions run on the runtime's socket threads (one per core) instead of each being queued to the thread pool:
// a request whose records are in memory is served without a thread hop (ClientConnection moves a batch to the pool while
// records are on disk). The runtime reads this once, at the first socket operation; an operator's own setting (0) wins.
const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
}

ServerConfig config;
try
{
    config = ServerConfig.FromCommandLine(args);

    // The users of the config file or the ACL file, checked before anything starts (Redis exits on a bad one too).
    _ = new Durable.Commands.Acl.AclUsers(Durable.Commands.CommandTable.CreateDefault(), config);
}
catch (ConfigException exception)
{
    await Console.Error.WriteLineAsync($"durable-server: {exception.Message}");
    return 1;
}

// The host's defaults watch the content root (the working directory, which holds the default ./data) recursively for
// appsettings.json changes: every write to the WAL or the store's log woke two watcher threads. The server reads no
// appsettings.json (its configuration is durable.conf and the command line), so nothing is watched.
ConfigurationManager hostConfiguration = new();
hostConfiguration.AddInMemoryCollection([new("hostBuilder:reloadConfigOnChange", "false")]);
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], Configuration = hostConfiguration });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(options =>
{
    options.SingleLine = true;
    options.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
});
builder.Logging.SetMinimumLevel(config.LogLevel switch
{
    "debug" => LogLevel.Debug,
    "verbose" => LogLevel.Debug,
    "warning" => LogLevel.Warning,
    "nothing" => LogLevel.None,
    _ => LogLevel.Information,
});
builder.Services.AddDurableServer(config);

try
{
    using IHost host = builder.Build();
    await host.RunAsync();
    // Set to 1 when the data set could not be loaded (the reason is in the log).
    return Environment.ExitCode;
}
catch (Exception exception) when (exception is InvalidDataException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
{
    await Console.Error.WriteLineAsync($"durable-server: cannot start: {exception.Message}");
    return 1;
}
