using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// The MONITOR clients. After each command runs, the dispatcher hands it to <see cref="Feed"/>, which formats one line
/// as Redis does (<c>+1700000000.123456 [0 127.0.0.1:1234] "SET" "k" "v"</c>) and queues it for every monitor;
/// each monitor's connection drains its queue. Thread-safe.
/// </summary>
public sealed class MonitorHub
{
    private readonly ConcurrentDictionary<long, Channel<byte[]>> _feeds = new();
    private int _count;

    /// <summary>One volatile read: the dispatcher formats nothing while nobody monitors.</summary>
    public bool HasMonitors => Volatile.Read(ref _count) > 0;

    /// <summary>Registers <paramref name="client"/> as a monitor; returns the queue its connection must drain.</summary>
    public ChannelReader<byte[]> Add(ClientState client)
    {
        Channel<byte[]> channel = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        if (_feeds.TryAdd(client.Id, channel))
        {
            Interlocked.Increment(ref _count);
        }

        return _feeds[client.Id].Reader;
    }

    public void Remove(ClientState client)
    {
        if (_feeds.TryRemove(client.Id, out Channel<byte[]>? channel))
        {
            Interlocked.Decrement(ref _count);
            channel.Writer.TryComplete();
        }
    }

    /// <summary>Queues one command, as it was sent by <paramref name="source"/>, to every monitor. Allocates the line once.</summary>
    public void Feed(ClientState source, RespArgs args, DateTimeOffset now)
    {
        ArrayBufferWriter<byte> line = new(64);
        long microseconds = (now - DateTimeOffset.UnixEpoch).Ticks / 10;
        line.Write(System.Text.Encoding.ASCII.GetBytes(string.Create(
            CultureInfo.InvariantCulture, $"+{microseconds / 1_000_000}.{microseconds % 1_000_000:D6} [{source.Db} {(source.RunningScript ? "lua" : source.Address)}] ")));
        int redactFrom = Redaction.RedactedFrom(args);
        for (int i = 0; i < args.Count; i++)
        {
            if (i >= redactFrom && i < redactFrom + Redaction.RedactedCount(args))
            {
                line.Write("\"(redacted)\""u8);
            }
            else
            {
                AppendRepr(line, args[i]);
            }

            if (i != args.Count - 1)
            {
                line.Write(" "u8);
            }
        }

        line.Write(RespConstants.CrLf);
        byte[] bytes = line.WrittenSpan.ToArray();
        foreach (Channel<byte[]> channel in _feeds.Values)
        {
            channel.Writer.TryWrite(bytes);
        }
    }

    // Redis sdscatrepr: quoted, with \\ \" \n \r \t \a \b escaped and other non-printable bytes as \xHH.
    private static void AppendRepr(ArrayBufferWriter<byte> line, ReadOnlySpan<byte> value)
    {
        Span<byte> span = line.GetSpan((value.Length * 4) + 2);
        int n = 0;
        span[n++] = (byte)'"';
        foreach (byte b in value)
        {
            switch (b)
            {
                case (byte)'\\' or (byte)'"':
                    span[n++] = (byte)'\\';
                    span[n++] = b;
                    break;
                case (byte)'\n':
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'n';
                    break;
                case (byte)'\r':
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'r';
                    break;
                case (byte)'\t':
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'t';
                    break;
                case 7:
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'a';
                    break;
                case 8:
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'b';
                    break;
                case >= 32 and <= 126:
                    span[n++] = b;
                    break;
                default:
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'x';
                    span[n++] = (byte)"0123456789abcdef"[b >> 4];
                    span[n++] = (byte)"0123456789abcdef"[b & 15];
                    break;
            }
        }

        span[n++] = (byte)'"';
        line.Advance(n);
    }
}
