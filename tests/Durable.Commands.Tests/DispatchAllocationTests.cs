using System.Buffers;
using System.Text;
using Durable.Commands.Server;
using Durable.Protocol;
using Durable.Storage;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Commands.Tests;

/// <summary>Allocation guard: parsing and dispatching GET and SET on hot keys allocates nothing per command.</summary>
public sealed class DispatchAllocationTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private FasterStore _store = null!;

    public async ValueTask InitializeAsync() =>
        _store = await FasterStore.OpenAsync(new StoreOptions { DataDirectory = _directory, MemoryBytes = 16L << 20, IndexBytes = 1L << 16 }, NullLogger.Instance);

    [Theory]
    [InlineData("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")]
    [InlineData("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")]
    public void ParseAndDispatch_HotKey_AllocatesNothing(string frame)
    {
        CommandTable table = CommandTable.CreateDefault();
        // The slow log copies a command when one is slow (this machine is shared): that allocation is by design, not per command.
        ServerState server = new(_store, new ServerConfig { SlowlogSlowerThanMicroseconds = -1 }, table, TimeProvider.System);
        CommandContext context = new(server, new ClientState { Id = 1, Address = "test", LocalAddress = "test", CreatedAtMs = 0 });
        using IStoreSession session = context.Session;
        ArrayBufferWriter<byte> reply = new(1 << 20);
        context.Reply = reply;
        CommandDispatcher dispatcher = new(table);
        RespRequest request = new();
        RespLimits limits = new();
        byte[] input = Encoding.ASCII.GetBytes(frame);
        session.Write(0, "key"u8, RecordType.String, "value"u8, 0);

        void RunOnce()
        {
            reply.ResetWrittenCount();
            RespParser.TryParse(input, request, limits, out _);
            dispatcher.Execute(context, request.GetArgs(input));
        }

        for (int i = 0; i < 1000; i++)
        {
            RunOnce();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            RunOnce();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 10,000 commands; last reply {Encoding.ASCII.GetString(reply.WrittenSpan)}");
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
