using Durable.Testing;

[assembly: AssemblyFixture(typeof(Durable.Server.Tests.ReferenceServers))]

namespace Durable.Server.Tests;

/// <summary>
/// One Durable server and one real redis-server shared by the comparison tests of this assembly. Tests run in
/// parallel against them, so each test works on keys under its own prefix (<see cref="NewPrefix"/>).
/// </summary>
public sealed class ReferenceServers : IAsyncLifetime
{
    private int _prefix;

    public TestServer Durable { get; private set; } = null!;

    public RedisReference Redis { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Durable = await TestServer.StartAsync();
        Redis = await RedisReference.StartAsync();
    }

    /// <summary>A key prefix no other test uses.</summary>
    public string NewPrefix() => $"t{Interlocked.Increment(ref _prefix)}:";

    /// <summary>A pair of connections, one to each server, that sends every command to both and compares the replies.</summary>
    public ReplyComparison Compare() => new(Durable.Connect(), Redis.Connect());

    public async ValueTask DisposeAsync()
    {
        await Durable.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
