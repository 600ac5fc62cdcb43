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
    }
}
