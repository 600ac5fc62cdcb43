using Durable.Protocol;

namespace Durable.Commands;

/// <summary>What the server knows about one connection, for CLIENT LIST/INFO/KILL and per-client settings.</summary>
public sealed class ClientState
{
    public required long Id { get; init; }
    public required string Address { get; init; }
    public required string LocalAddress { get; init; }
    public required long CreatedAtMs { get; init; }

    /// <summary>The link of a replica to its primary (Redis's CLIENT_MASTER): its writes pass a read-only replica and its loading.</summary>
    public bool IsReplicationSource { get; init; }

    /// <summary>The socket's descriptor, shown as fd= by CLIENT LIST; -1 when unknown.</summary>
    public long Fd { get; init; } = -1;

    /// <summary>The user the connection runs as (CLIENT LIST user=, ACL WHOAMI).</summary>
    public string User => AclUser?.Name ?? "default";

    /// <summary>
    /// The ACL user the connection runs as; null until its first command's context sets the server's default user
    /// (see <see cref="CommandContext"/>).
    /// </summary>
    internal Acl.AclUser? AclUser { get; set; }

    /// <summary>Redis's c->authenticated: logged in by AUTH or HELLO, or at connection when the default user needs no password.</summary>
    internal bool Authenticated { get; set; }

    /// <summary>For MONITOR clients: the lines to send, drained by the connection (see <see cref="Server.MonitorHub"/>).</summary>
    public System.Threading.Channels.ChannelReader<byte[]>? MonitorFeed { get; set; }

    /// <summary>Channels, patterns and shard channels subscribed to (see <see cref="PubSub.PubSubHub"/>).</summary>
    public PubSub.ClientSubscriptions Subscriptions { get; } = new();

    /// <summary>Once the client has subscribed: the messages to send, drained by the connection between its replies.</summary>
    public System.Threading.Channels.ChannelReader<byte[]>? PushFeed => _pushes?.Reader;

    /// <summary>Bytes queued on <see cref="PushFeed"/> and not sent yet (CLIENT LIST omem).</summary>
    public long QueuedPushBytes => Interlocked.Read(ref _queuedPushBytes);

    private System.Threading.Channels.Channel<byte[]>? _pushes;
    private long _queuedPushBytes;

    // When the queued pushes were first found past the soft output limit (0: they are not).
    private long _softLimitSinceMs;

    public string? Name { get; set; }
    public string? LibraryName { get; set; }
    public string? LibraryVersion { get; set; }
    public int Db { get; set; }

    /// <summary>While a script of this connection runs: its commands may not wait (FLUSHALL SYNC deletes at once).</summary>
    public bool RunningScript { get; set; }

    public RespVersion Protocol { get; set; } = RespVersion.Resp2;
    public long LastInteractionMs { get; set; }
    public string LastCommand { get; set; } = "NULL";
    public ClientReplyMode ReplyMode { get; set; } = ClientReplyMode.On;
    public bool IsMonitor { get; set; }

    /// <summary>Set once the connection is a replica of this server (SYNC or PSYNC): CLIENT LIST flag S.</summary>
    public bool IsReplica { get; internal set; }

    /// <summary>The replication stream's offset after this client's last propagated change (WAIT counts replicas that acknowledged it).</summary>
    internal long ReplicationOffset { get; set; }

    /// <summary>For a replica of this server: the port it listens on and the address it gave (REPLCONF listening-port, ip-address).</summary>
    internal int ReplicaListeningPort { get; set; }

    internal string? ReplicaAddress { get; set; }

    /// <summary>REPLCONF rdb-only 1: the replica wants the snapshot and no stream after it (redis-cli --rdb).</summary>
    internal bool ReplicaWantsSnapshotOnly { get; set; }

    /// <summary>True while the connection waits for CLIENT PAUSE to end: shown as flag b, never idle-timed out (as in Redis).</summary>
    public bool IsBlocked { get; set; }
    /// <summary>While the connection waits in a blocking command (BLPOP...): ends the wait for CLIENT UNBLOCK; null otherwise.</summary>
    internal Action<Blocking.UnblockReason>? Unblock { get; set; }

    public bool NoEvict { get; set; }
    public bool NoTouch { get; set; }
    public long InputBufferBytes { get; set; }
    public long OutputBufferBytes { get; set; }

    /// <summary>Closes the connection after its current batch; set by the connection, used by CLIENT KILL and QUIT.</summary>
    public Action? Close { get; set; }

    /// <summary>MULTI/EXEC state and the keys WATCHed (see <see cref="Transactions.Transaction"/>).</summary>
    internal Transactions.Transaction Transaction { get; } = new();

    /// <summary>Set once the connection must close after the current reply is flushed.</summary>
    public bool CloseAfterReply { get; set; }

    /// <summary>Creates the push feed if there is none yet (a subscription, tracking); any thread may.</summary>
    internal void OpenPushFeed()
    {
        if (_pushes is null)
        {
            Interlocked.CompareExchange(ref _pushes, System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true }), null);
        }
    }

    /// <summary>CLIENT TRACKING's settings; null while tracking is off. Changed under the server's tracking table's lock.</summary>
    internal Server.TrackingSettings? Tracking { get; set; }

    /// <summary>
    /// Queues a message; when what is queued and not sent yet passes <paramref name="limit"/> (Redis's pubsub class of
    /// client-output-buffer-limit), the client is disconnected instead, as Redis does. Publishers may call it at once; they
    /// may race on when the soft limit was first reached, which moves a disconnection by a message at most.
    /// </summary>
    internal void Push(byte[] message, Server.OutputBufferLimit limit, long nowMs)
    {
        if (_pushes is null)
        {
            return;
        }

        if (limit.IsExceeded(Interlocked.Add(ref _queuedPushBytes, message.Length), nowMs, ref _softLimitSinceMs))
        {
            Interlocked.Add(ref _queuedPushBytes, -message.Length);
            Close?.Invoke();
            return;
        }

        _pushes.Writer.TryWrite(message);
    }

    /// <summary>The connection sent <paramref name="bytes"/> of the push feed.</summary>
    public void PushesSent(long bytes) => Interlocked.Add(ref _queuedPushBytes, -bytes);

    /// <summary>Ends the push feed (the connection is gone): its pump stops.</summary>
    public void ClosePushFeed() => _pushes?.Writer.TryComplete();
}

/// <summary>CLIENT REPLY modes.</summary>
public enum ClientReplyMode
{
    On,
    Off,
    Skip,
}
