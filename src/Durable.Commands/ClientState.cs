using Durable.Protocol;

namespace Durable.Commands;

/// <summary>What the server knows about one connection, for CLIENT LIST/INFO/KILL and per-client settings.</summary>
public sealed class ClientState
{
    public required long Id { get; init; }
    public required string Address { get; init; }
    public required string LocalAddress { get; init; }
    public required long CreatedAtMs { get; init; }

    /// <summary>The socket's descriptor, shown as fd= by CLIENT LIST; -1 when unknown.</summary>
    public long Fd { get; init; } = -1;

    /// <summary>The authenticated user; Durable has no ACL users yet, so always "default".</summary>
    public string User { get; set; } = "default";

    /// <summary>For MONITOR clients: the lines to send, drained by the connection (see <see cref="Server.MonitorHub"/>).</summary>
    public System.Threading.Channels.ChannelReader<byte[]>? MonitorFeed { get; set; }

    public string? Name { get; set; }
    public string? LibraryName { get; set; }
    public string? LibraryVersion { get; set; }
    public int Db { get; set; }
    public RespVersion Protocol { get; set; } = RespVersion.Resp2;
    public long LastInteractionMs { get; set; }
    public string LastCommand { get; set; } = "NULL";
    public ClientReplyMode ReplyMode { get; set; } = ClientReplyMode.On;
    public bool IsMonitor { get; set; }

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
}

/// <summary>CLIENT REPLY modes.</summary>
public enum ClientReplyMode
{
    On,
    Off,
    Skip,
}
