using System.Collections.Concurrent;
using System.Text;

namespace Durable.Commands.Server;

/// <summary>Server-wide counters for INFO stats; updated with Interlocked by every connection.</summary>
public sealed class ServerStats
{
    public long TotalConnectionsReceived;
    public long TotalCommandsProcessed;
    public long RejectedConnections;
    public long KeyspaceHits;
    public long KeyspaceMisses;
    public long NetInputBytes;
    public long NetOutputBytes;
    public long TotalErrorReplies;

    /// <summary>Commands that found a key's lock stripe taken past a short spin and waited for it without a thread.</summary>
    public long LockWaits;

    /// <summary>Command batches run on the runtime's socket threads, where their input arrived (no command of theirs could wait for the disk).</summary>
    public long BatchesOnSocketThreads;

    /// <summary>Command batches whose input arrived on a socket thread and that were moved to the thread pool, because records were on disk and a command of theirs might wait for one.</summary>
    public long BatchesMovedToPool;

    /// <summary>Disk reads that a command waited for on a socket thread: a record the log moved to disk after the batch's prefetch found it in memory.</summary>
    public long DiskWaitsOnSocketThreads;

    /// <summary>The largest used_memory INFO has reported (Redis updates its peak on every sample; we sample at INFO).</summary>
    public long UsedMemoryPeak;
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);

    /// <summary>Error replies by prefix (the first word: ERR, WRONGTYPE...), for INFO errorstats.</summary>
    public IEnumerable<KeyValuePair<string, long>> ErrorCounts => _errors.OrderBy(e => e.Key, StringComparer.Ordinal);

    /// <summary>Counts one error reply under its prefix; allocates only the first time a prefix is seen.</summary>
    public void RecordError(ReadOnlySpan<byte> text)
    {
        Interlocked.Increment(ref TotalErrorReplies);
        int space = text.IndexOf((byte)' ');
        ReadOnlySpan<byte> prefix = space < 0 ? text : text[..space];
        // Redis: at most 128 distinct prefixes are tracked; later ones only count in total_error_replies.
        string name = Encoding.Latin1.GetString(prefix);
        if (_errors.Count < 128 || _errors.ContainsKey(name))
        {
            _errors.AddOrUpdate(name, 1, static (_, n) => n + 1);
        }
    }

    public void Reset()
    {
        Volatile.Write(ref TotalConnectionsReceived, 0);
        Volatile.Write(ref TotalCommandsProcessed, 0);
        Volatile.Write(ref RejectedConnections, 0);
        Volatile.Write(ref KeyspaceHits, 0);
        Volatile.Write(ref KeyspaceMisses, 0);
        Volatile.Write(ref NetInputBytes, 0);
        Volatile.Write(ref NetOutputBytes, 0);
        Volatile.Write(ref TotalErrorReplies, 0);
        _errors.Clear();
    }
}
