using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>SLOWLOG entries: commands slower than slowlog-log-slower-than microseconds, newest first, at most slowlog-max-len.</summary>
public sealed class SlowLog(ServerConfig config)
{
    private readonly LinkedList<SlowLogEntry> _entries = new();
    private readonly Lock _gate = new();
    private long _nextId;

    public void Record(CommandContext context, RespArgs args, long microseconds)
    {
        long threshold = config.SlowlogSlowerThanMicroseconds;
        if (threshold < 0 || microseconds < threshold)
        {
            return;
        }

        // Redis keeps at most 32 arguments, each at most 128 bytes, noting how many more there were.
        int kept = Math.Min(args.Count, 32);
        int redactFrom = Redaction.RedactedFrom(args);
        int redactTo = redactFrom == int.MaxValue ? int.MaxValue : redactFrom + Redaction.RedactedCount(args);
        byte[][] arguments = new byte[kept][];
        for (int i = 0; i < kept; i++)
        {
            if (i == kept - 1 && args.Count > 32)
            {
                arguments[i] = System.Text.Encoding.ASCII.GetBytes($"... ({args.Count - 31} more arguments)");
                break;
            }

            if (i >= redactFrom && i < redactTo)
            {
                arguments[i] = "(redacted)"u8.ToArray();
                continue;
            }

            ReadOnlySpan<byte> a = args[i];
            arguments[i] = a.Length > 128
                ? [.. a[..128], .. System.Text.Encoding.ASCII.GetBytes($"... ({a.Length - 128} more bytes)")]
                : a.ToArray();
        }

        lock (_gate)
        {
            _entries.AddFirst(new SlowLogEntry(_nextId++, context.NowMs / 1000, microseconds, arguments, context.Client.Address, context.Client.Name ?? ""));
            while (_entries.Count > Math.Max(0, config.SlowlogMaxLength))
            {
                _entries.RemoveLast();
            }
        }
    }

    public IReadOnlyList<SlowLogEntry> Latest(int count)
    {
        lock (_gate)
        {
            return [.. _entries.Take(count)];
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }
}

/// <summary>One SLOWLOG GET entry.</summary>
public sealed record SlowLogEntry(long Id, long UnixSeconds, long Microseconds, byte[][] Arguments, string ClientAddress, string ClientName);
