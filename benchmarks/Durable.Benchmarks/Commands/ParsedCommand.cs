using Durable.Protocol;

namespace Durable.Benchmarks.Commands;

/// <summary>A frame and its parse result, kept together so the arguments can be viewed again on every call.</summary>
internal sealed class ParsedCommand
{
    public ParsedCommand(byte[] frame)
    {
        Frame = frame;
        RespParser.TryParse(frame, Request, new RespLimits(), out _);
    }

    public byte[] Frame { get; }

    public RespRequest Request { get; } = new();

    public RespArgs Args => Request.GetArgs(Frame);
}
