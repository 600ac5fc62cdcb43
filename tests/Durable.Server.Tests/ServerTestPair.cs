using Durable.Commands.Server;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// A Durable server and a redis-server of a test's own, for tests that change server-wide state (CONFIG SET, CLIENT
/// PAUSE, MONITOR, SWAPDB, SHUTDOWN) and so cannot share <see cref="ReferenceServers"/> with tests running in parallel.
/// </summary>
public sealed class ServerTestPair : IAsyncDisposable
{
    private ServerTestPair(TestServer durable, RedisReference redis)
    {
        Durable = durable;
        Redis = redis;
    }

    public TestServer Durable { get; }

    public RedisReference Redis { get; }

    public static async Task<ServerTestPair> StartAsync(Action<ServerConfig>? configure = null) =>
        new(await TestServer.StartAsync(configure), await RedisReference.StartAsync());

    public ReplyComparison Compare() => new(Durable.Connect(), Redis.Connect());

    public async ValueTask DisposeAsync()
    {
        await Durable.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
