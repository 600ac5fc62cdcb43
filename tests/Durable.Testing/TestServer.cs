using Durable.Commands.Server;
using Durable.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durable.Testing;

/// <summary>
/// A real durable-server, in process, on an ephemeral loopback port, with its own temporary data directory.
/// Dispose stops it gracefully (final checkpoint) and deletes the directory unless <see cref="KeepDirectory"/> is set.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly IHost _host;

    private TestServer(IHost host, string directory, ServerState state)
    {
        _host = host;
        Directory = directory;
        State = state;
    }

    public string Directory { get; }

    public int Port => State.BoundPort;

    public ServerState State { get; }

    public bool KeepDirectory { get; set; }

    /// <summary>Starts a server; <paramref name="configure"/> may change settings (memory, databases...) before it starts.</summary>
    public static async Task<TestServer> StartAsync(Action<ServerConfig>? configure = null, string? directory = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
        ServerConfig config = new()
        {
            Port = 0,
            Bind = "127.0.0.1",
            Directory = directory,
            MemoryBytes = 32L << 20,
            IndexBytes = 1L << 20,
            SegmentBytes = 16L << 20,
        };
        configure?.Invoke(config);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddDurableServer(config);
        IHost host = builder.Build();
        await host.StartAsync();
        DurableServerService service = host.Services.GetRequiredService<DurableServerService>();
        await service.Loaded;
        return new TestServer(host, directory, service.State);
    }

    public RespTestClient Connect() => RespTestClient.Connect(Port);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        if (!KeepDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A temp directory left behind is harmless; the OS cleans /tmp.
            }
        }
    }
}
