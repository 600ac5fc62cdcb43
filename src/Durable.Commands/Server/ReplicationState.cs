namespace Durable.Commands.Server;

/// <summary>Where a replica's link to its primary stands (ROLE's words for it).</summary>
public enum ReplicaLinkState
{
    /// <summary>Not connected: waiting to connect again.</summary>
    Connect,

    /// <summary>Connecting, or in the handshake.</summary>
    Connecting,

    /// <summary>Receiving or loading the primary's data set.</summary>
    Sync,

    /// <summary>Following the primary's command stream.</summary>
    Connected,
}

/// <summary>
/// The server's replication role. A primary (the default) takes writes; a replica (REPLICAOF host port, or
/// <c>replicaof</c> in the configuration) follows a Redis primary: its link (in the server layer, <see cref="Follow"/>)
/// loads the primary's data set and applies its command stream, and clients may not write (<c>replica-read-only</c>).
/// Durable cannot be the primary of replicas.
/// </summary>
public sealed class ReplicationState
{
    private readonly Lock _gate = new();
    private long _offset;
    private long _lastIoUnixMs;

    /// <summary>The primary followed; null on a primary.</summary>
    public string? MasterHost { get; private set; }

    public int MasterPort { get; private set; }

    public bool IsReplica => MasterHost is not null;

    public ReplicaLinkState LinkState { get; set; } = ReplicaLinkState.Connect;

    /// <summary>Bytes of the primary's replication stream applied (INFO slave_repl_offset; the link acknowledges an offset once its writes are durable).</summary>
    public long Offset
    {
        get => Interlocked.Read(ref _offset);
        set => Interlocked.Exchange(ref _offset, value);
    }

    /// <summary>The primary's replication ID (40 hex digits), once a sync told it.</summary>
    public string? MasterReplicationId { get; set; }

    /// <summary>When the link last read from the primary (Unix ms).</summary>
    public long LastIoUnixMs
    {
        get => Interlocked.Read(ref _lastIoUnixMs);
        set => Interlocked.Exchange(ref _lastIoUnixMs, value);
    }

    /// <summary>Since when the link is down (Unix ms); 0 while it is up.</summary>
    public long LinkDownSinceUnixMs { get; set; }

    /// <summary>Full syncs and partial resyncs done, for INFO.</summary>
    public long FullSyncs { get; set; }

    public long PartialSyncs { get; set; }

    /// <summary>While the primary's data set is loaded: clients get -LOADING, as from a Redis replica loading its sync.</summary>
    public bool Loading { get; set; }

    /// <summary>
    /// Set by the server layer: starts following the primary at host and port (and stops following the one before), or
    /// with a null host stops following. Null where no link can be made (a server without a network layer).
    /// </summary>
    public Action<string?, int>? Follow { get; set; }

    /// <summary>Makes the server a replica of host:port (true), or leaves it as it was when it already is (false).</summary>
    public bool TryFollow(string host, int port)
    {
        lock (_gate)
        {
            if (MasterHost == host && MasterPort == port)
            {
                return false;
            }

            MasterHost = host;
            MasterPort = port;
            LinkState = ReplicaLinkState.Connect;
            LinkDownSinceUnixMs = 0;
            Offset = 0;
            MasterReplicationId = null;
        }

        Follow?.Invoke(host, port);
        return true;
    }

    /// <summary>Makes the server a primary again (REPLICAOF NO ONE): its data set stays, writes are taken.</summary>
    public void StopFollowing()
    {
        lock (_gate)
        {
            MasterHost = null;
            MasterPort = 0;
            Loading = false;
        }

        Follow?.Invoke(null, 0);
    }
}
