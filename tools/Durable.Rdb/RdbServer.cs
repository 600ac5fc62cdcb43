using StackExchange.Redis;

namespace Durable.Rdb;

/// <summary>Where the server is, and how to log in to it.</summary>
internal sealed record RdbServer(string Host = "127.0.0.1", int Port = 6379, string? Password = null)
{
    /// <summary>A connection that may run admin commands (CONFIG, INFO, SCAN), with timeouts long enough for large values.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync(TextWriter log)
    {
        ConfigurationOptions options = new()
        {
            EndPoints = { { Host, Port } },
            Password = Password,
            AllowAdmin = true,
            AbortOnConnectFail = true,
            ConnectRetry = 2,
            ConnectTimeout = 10_000,
            SyncTimeout = 120_000,
            AsyncTimeout = 120_000,
            ClientName = "durable-rdb",
        };
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(options);
        }
        catch (RedisConnectionException exception)
        {
            await log.WriteLineAsync($"durable-rdb: cannot connect to {Host}:{Port}: {exception.Message}");
            throw;
        }
    }
}
