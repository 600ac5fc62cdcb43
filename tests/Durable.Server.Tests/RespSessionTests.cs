using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Durable.Commands;
using Durable.Protocol;

namespace Durable.Server.Tests;

/// <summary>The batch loop over multi-segment input: a frame split anywhere across segments runs exactly as a whole one.</summary>
public sealed class RespSessionTests(ReferenceServers servers)
{
    [Fact]
    public async Task ExecuteBatch_InputSplitAtEveryByteAcrossTwoSegments_RepliesAsWhole()
    {
        string key = servers.NewPrefix() + "split";
        string frames = $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\nPING\r\n";
        byte[] bytes = Encoding.ASCII.GetBytes(frames);
        for (int split = 1; split < bytes.Length; split++)
        {
            ReadOnlySequence<byte> buffer = TwoSegments(bytes, split);
            (string replies, OperationStatus status) = await RunAsync(buffer);
            Assert.True(replies == "+OK\r\n$5\r\nhello\r\n+PONG\r\n", $"split at {split}: {replies}");
            Assert.Equal(OperationStatus.NeedMoreData, status);
        }
    }

    [Fact]
    public async Task ExecuteBatch_IncompleteFrameAcrossSegments_ConsumesOnlyCompleteFrames()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhel");
        for (int split = 1; split < bytes.Length; split++)
        {
            (string replies, _, long left) = await RunWithRestAsync(TwoSegments(bytes, split));
            Assert.Equal("+PONG\r\n", replies);
            Assert.Equal(bytes.Length - 14, left);
        }
    }

    [Fact]
    public async Task ExecuteBatch_InvalidFrameAfterCommands_RunsThemThenReportsTheError()
    {
        // Each frame is parsed before the one ahead of it runs (to prefetch its keys): the error still comes in its turn.
        byte[] bytes = Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*x\r\n*1\r\n$4\r\nPING\r\n");
        (string replies, OperationStatus status, _) = await RunWithRestAsync(new ReadOnlySequence<byte>(bytes));
        Assert.Equal("+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n", replies);
        Assert.Equal(OperationStatus.InvalidData, status);
    }

    [Fact]
    public async Task ExecuteBatch_NamesThatDifferFromTheOneBefore_EachFindsItsOwnCommand()
    {
        // The dispatcher remembers the last name it looked up: a name of the same length, or the same name in another
        // case, must not be taken for it.
        string key = servers.NewPrefix() + "names";
        string frames = $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$2\r\nv1\r\n*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n" +
            $"*2\r\n$3\r\nGEX\r\n${key.Length}\r\n{key}\r\n*2\r\n$3\r\nget\r\n${key.Length}\r\n{key}\r\n*2\r\n$6\r\nSTRLEN\r\n${key.Length}\r\n{key}\r\n";
        (string replies, _) = await RunAsync(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(frames)));
        Assert.Equal($"+OK\r\n$2\r\nv1\r\n-ERR unknown command 'GEX', with args beginning with: '{key}' \r\n$2\r\nv1\r\n:2\r\n", replies);
    }

    private async Task<(string Replies, OperationStatus Status)> RunAsync(ReadOnlySequence<byte> buffer)
    {
        (string replies, OperationStatus status, long left) = await RunWithRestAsync(buffer);
        Assert.Equal(0, left);
        return (replies, status);
    }

    private async Task<(string Replies, OperationStatus Status, long Left)> RunWithRestAsync(ReadOnlySequence<byte> buffer)
    {
        ClientState client = new() { Id = 9999, Address = "test", LocalAddress = "test", CreatedAtMs = 0 };
        CommandContext context = new(servers.Durable.State, client);
        RespSession session = new(context, new CommandDispatcher(servers.Durable.State.Commands), new RespLimits());
        using MemoryStream sink = new();
        PipeWriter output = PipeWriter.Create(sink);
        OperationStatus status;
        do
        {
            status = session.ExecuteBatch(ref buffer, output);
            await output.FlushAsync(TestContext.Current.CancellationToken);
        }
        while (status == OperationStatus.DestinationTooSmall);

        context.OpenedSession?.Dispose();
        return (Encoding.ASCII.GetString(sink.ToArray()), status, buffer.Length);
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int split)
    {
        Segment first = new(bytes.AsMemory(0, split), 0);
        Segment second = first.Append(bytes.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            Segment next = new(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
