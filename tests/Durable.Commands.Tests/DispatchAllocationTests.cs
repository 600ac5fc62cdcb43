using System.Buffers;
using System.Text;
using Durable.Commands.Server;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Tests;

/// <summary>Allocation guard: parsing and dispatching GET and SET on hot keys allocates nothing per command.</summary>
public sealed class DispatchAllocationTests : TempStore
{
    [Theory]
    [InlineData("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")]
    [InlineData("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")]
    public void ParseAndDispatch_HotKey_AllocatesNothing(string frame)
    {
        CommandTable table = CommandTable.CreateDefault();
        // The slow log copies a command when one is slow (this machine is shared): that allocation is by design, not per command.
        ServerState server = new(Store, new ServerConfig { SlowlogSlowerThanMicroseconds = -1 }, table, TimeProvider.System);
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

        // A one-off allocation on this thread (an epoch drain action of the store, a runtime cache) can land in any
        // window; an allocation per command lands in every one. So the guard is: some window of 10,000 commands
        // allocates nothing at all.
        List<long> windows = [];
        for (int window = 0; window < 5; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                RunOnce();
            }

            windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            if (windows[^1] == 0)
            {
                return;
            }
        }

        Assert.Fail($"every window of 10,000 commands allocated ({string.Join(", ", windows)} bytes); last reply {Encoding.ASCII.GetString(reply.WrittenSpan)}");
    }
}
