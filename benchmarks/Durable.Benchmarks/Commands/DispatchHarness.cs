using System.Buffers;
using Durable.Commands;
using Durable.Commands.Server;

namespace Durable.Benchmarks.Commands;

/// <summary>
/// One client of a real FASTER store in a temp directory, commands run through <see cref="CommandDispatcher.Execute"/>
/// with the reply going to an <see cref="ArrayBufferWriter{T}"/>: everything but the sockets.
/// </summary>
internal sealed class DispatchHarness : IAsyncDisposable
{
    private readonly TempStore _store;
    private readonly CommandDispatcher _dispatcher;

    private DispatchHarness(TempStore store)
    {
        _store = store;
        CommandTable table = CommandTable.CreateDefault();
        ServerState server = new(store.Store, new ServerConfig(), table, TimeProvider.System);
        ClientState client = new() { Id = 1, Address = "127.0.0.1:50000", LocalAddress = "127.0.0.1:6379", CreatedAtMs = server.StartedAtMs };
        Context = new CommandContext(server, client) { Reply = Reply };
        _dispatcher = new CommandDispatcher(table);
    }

    public ArrayBufferWriter<byte> Reply { get; } = new(64 * 1024);

    public CommandContext Context { get; }

    public CommandDispatcher Dispatcher => _dispatcher;

    /// <param name="memoryBytes">Log bytes kept in memory.</param>
    public static async Task<DispatchHarness> OpenAsync(long memoryBytes) => new(await TempStore.OpenAsync(memoryBytes));

    /// <summary>Runs one command; returns the reply length.</summary>
    public int Execute(ParsedCommand command)
    {
        Reply.ResetWrittenCount();
        _dispatcher.Execute(Context, command.Args);
        return Reply.WrittenCount;
    }

    public async ValueTask DisposeAsync()
    {
        Context.Session.Dispose();
        await _store.DisposeAsync();
    }
}
