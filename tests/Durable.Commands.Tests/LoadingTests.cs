using System.Buffers;
using System.Text;
using Durable.Commands.Server;
using Durable.Protocol;

namespace Durable.Commands.Tests;

/// <summary>While the data set loads, only commands flagged Loading run; the rest get Redis's -LOADING error.</summary>
public sealed class LoadingTests : TempStore
{
    [Fact]
    public void Dispatch_WhileLoading_OnlyLoadingCommandsRun()
    {
        (ServerState server, CommandContext context, CommandDispatcher dispatcher) = Loading();
        ArrayBufferWriter<byte> reply = new();
        context.Reply = reply;

        Assert.Equal("-LOADING Durable is loading the dataset in memory\r\n", Run(dispatcher, context, reply, "GET", "k"));
        Assert.Equal("-LOADING Durable is loading the dataset in memory\r\n", Run(dispatcher, context, reply, "SET", "k", "v"));
        Assert.Equal("+PONG\r\n", Run(dispatcher, context, reply, "PING"));
        Assert.Contains("\r\nloading:1\r\n", Run(dispatcher, context, reply, "INFO", "persistence"), StringComparison.Ordinal);
        Assert.Null(context.OpenedSession);

        server.CompleteLoading(Store);
        Assert.Equal("+OK\r\n", Run(dispatcher, context, reply, "SET", "k", "v"));
        Assert.Contains("\r\nloading:0\r\n", Run(dispatcher, context, reply, "INFO", "persistence"), StringComparison.Ordinal);
        context.OpenedSession?.Dispose();
    }

    [Fact]
    public void PrefetchKeys_WhileLoading_OpensNoSession()
    {
        // The session loop prefetches the next command's keys before the dispatcher answers -LOADING: the stand-in store
        // a loading server has throws when asked for a session, which would end the connection.
        (_, CommandContext context, CommandDispatcher dispatcher) = Loading();
        (RespRequest request, byte[] frame) = Parse("GET", "k");

        dispatcher.PrefetchKeys(context, request.GetArgs(frame));

        Assert.Null(context.OpenedSession);
    }

    /// <summary>A server loading its data set, a client of it and a dispatcher.</summary>
    private (ServerState Server, CommandContext Context, CommandDispatcher Dispatcher) Loading()
    {
        CommandTable table = CommandTable.CreateDefault();
        ServerState server = new(Store, new ServerConfig(), table, TimeProvider.System);
        server.BeginLoading();
        CommandContext context = new(server, new ClientState { Id = 1, Address = "test", LocalAddress = "test", CreatedAtMs = 0 });
        return (server, context, new CommandDispatcher(table));
    }

    /// <summary>The command as a RESP frame, parsed.</summary>
    private static (RespRequest Request, byte[] Frame) Parse(params string[] args)
    {
        ArrayBufferWriter<byte> frame = new();
        RespWriter.WriteArrayHeader(frame, args.Length);
        foreach (string arg in args)
        {
            RespWriter.WriteBulkString(frame, Encoding.ASCII.GetBytes(arg));
        }

        RespRequest request = new();
        RespParser.TryParse(frame.WrittenSpan, request, new RespLimits(), out _);
        return (request, frame.WrittenSpan.ToArray());
    }

    private static string Run(CommandDispatcher dispatcher, CommandContext context, ArrayBufferWriter<byte> reply, params string[] args)
    {
        reply.ResetWrittenCount();
        (RespRequest request, byte[] frame) = Parse(args);
        dispatcher.Execute(context, request.GetArgs(frame));
        string text = Encoding.ASCII.GetString(reply.WrittenSpan);
        return text.StartsWith('$') ? text[(text.IndexOf('\n', StringComparison.Ordinal) + 1)..] : text;
    }
}
