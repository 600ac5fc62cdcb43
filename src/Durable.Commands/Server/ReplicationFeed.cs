using System.Buffers;
using Durable.Protocol;
using Microsoft.Extensions.Logging;

namespace Durable.Commands.Server;

/// <summary>A command of the replication stream and the database it ran in (-1: any, as PING and REPLCONF GETACK).</summary>
internal readonly record struct PropagatedCommand(int Db, byte[][] Args);

/// <summary>One replica of this server: its connection, what it said of itself, and the offset it acknowledged.</summary>
internal sealed class AttachedReplica(ClientState client)
{
    public ClientState Client { get; } = client;

    public long AckOffset;
    public long AckUnixMs;

    /// <summary>Redis's replica states as INFO shows them: wait_bgsave while its snapshot is made, send_bulk, online.</summary>
    public volatile string State = "wait_bgsave";
}

/// <summary>
/// A primary's replication stream, as Redis's: every change to the data set as the commands a replica runs to make
/// the same change (a command as its client sent it, or rewritten where replaying it would not give the same result:
/// relative times made absolute, random choices made explicit; see <see cref="Propagation"/>), with SELECT
/// where the database changes and several commands of one call wrapped in MULTI/EXEC. Appended in the order the
/// changes were made (each command appends while it holds its keys' stripes), into the backlog (a ring of
/// <c>repl-backlog-size</c> bytes from which a replica that lost its link resumes: PSYNC) and to every attached replica.
/// Nothing is kept until the first replica asks for a sync (Redis creates its backlog then). Thread-safe.
/// </summary>
public sealed partial class ReplicationFeed
{
    /// <summary>The least backlog Redis keeps, whatever repl-backlog-size says (CONFIG_REPL_BACKLOG_MIN_SIZE).</summary>
    internal const int MinimumBacklogBytes = 16 << 10;

    private readonly Lock _gate = new();
    private readonly List<AttachedReplica> _replicas = [];
    private readonly ArrayBufferWriter<byte> _pending = new(256);
    private byte[] _backlog = [];
    private long _offset;
    private long _histlen;
    private int _selectedDb = -1;
    private volatile bool _active;
    private ITimer? _pings;
    private long _lastPingMs;
    private TaskCompletionSource<bool>? _shutdownWait;

    public ReplicationFeed() => ReplicationId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));

    /// <summary>The replication ID replicas sync with (INFO master_replid): chosen at start, so a restart means a full sync.</summary>
    public string ReplicationId { get; }

    /// <summary>Whether a stream is kept: once a replica has asked for one. One volatile read on every write's path.</summary>
    public bool Active => _active;

    /// <summary>Bytes of stream produced (INFO master_repl_offset).</summary>
    public long Offset
    {
        get
        {
            lock (_gate)
            {
                return _offset;
            }
        }
    }

    /// <summary>INFO's repl_backlog_first_byte_offset and repl_backlog_histlen (both 0 without a backlog).</summary>
    public (long FirstByteOffset, long HistoryLength) Backlog
    {
        get
        {
            lock (_gate)
            {
                return _active ? (_offset - _histlen + 1, _histlen) : (0, 0);
            }
        }
    }

    /// <summary>The backlog's size in memory (MEMORY STATS replication.backlog); 0 until the first sync.</summary>
    public long BacklogBytes => Volatile.Read(ref _backlog).Length;

    /// <summary>The attached replicas, for INFO, ROLE and WAIT.</summary>
    internal IReadOnlyList<AttachedReplica> Replicas
    {
        get
        {
            lock (_gate)
            {
                return [.. _replicas];
            }
        }
    }

    /// <summary>Creates the backlog (first sync) or resizes it, keeping the newest history that fits.</summary>
    public void SizeBacklog(long bytes)
    {
        int size = (int)Math.Clamp(bytes, MinimumBacklogBytes, Array.MaxLength);
        lock (_gate)
        {
            if (_active && size == _backlog.Length)
            {
                return;
            }

            long kept = Math.Min(_histlen, size);
            byte[] history = new byte[kept];
            CopyHistory(_offset - kept + 1, history);
            _backlog = new byte[size];
            _histlen = 0;
            Store(_offset - kept, history);
            _active = true;
        }
    }

    /// <summary>
    /// Starts (once) what Redis's replicationCron does for replicas: a PING into the stream every
    /// <c>repl-ping-replica-period</c> seconds while there are replicas, so that their links see traffic and do not time out.
    /// </summary>
    internal void StartPinging(ServerState server)
    {
        if (_pings is not null)
        {
            return;
        }

        lock (_gate)
        {
            _pings ??= server.Time.CreateTimer(
                _ =>
                {
                    long nowMs = server.Time.GetUtcNow().ToUnixTimeMilliseconds();
                    long periodMs = server.Config.ReplPingReplicaPeriod * 1000;
                    if (Replicas.Count > 0 && nowMs - Interlocked.Read(ref _lastPingMs) >= periodMs)
                    {
                        Interlocked.Exchange(ref _lastPingMs, nowMs);
                        Append([new PropagatedCommand(-1, [s_ping])], server.Config.ReplicaOutputBufferLimit, nowMs);
                    }
                },
                null,
                TimeSpan.FromSeconds(1),
                TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>
    /// Appends the commands of one call (one command, or an EXEC's or a script's writes, wrapped in MULTI/EXEC when more
    /// than one, as Redis 7.0 does) and returns the offset after them.
    /// </summary>
    internal long Append(IReadOnlyList<PropagatedCommand> commands, OutputBufferLimit limit, long nowMs)
    {
        lock (_gate)
        {
            _pending.ResetWrittenCount();
            bool wrap = commands.Count > 1;
            if (wrap)
            {
                WriteCommand(commands[0].Db, [s_multi]);
            }

            foreach (PropagatedCommand command in commands)
            {
                WriteCommand(command.Db, command.Args);
            }

            if (wrap)
            {
                WriteCommand(-1, [s_exec]);
            }

            return Publish(limit, nowMs);
        }
    }

    /// <summary>
    /// Attaches a replica whose stream starts at <paramref name="fromOffset"/> (the next byte it needs): what the
    /// backlog holds from there is queued for it at once, and everything appended later. False when the backlog no
    /// longer (or not yet) holds that offset.
    /// </summary>
    internal bool TryAttach(ClientState client, long fromOffset, OutputBufferLimit limit, long nowMs, out AttachedReplica replica)
    {
        lock (_gate)
        {
            replica = null!;
            if (!_active || fromOffset < _offset - _histlen + 1 || fromOffset > _offset + 1)
            {
                return false;
            }

            client.OpenPushFeed();
            if (fromOffset <= _offset)
            {
                byte[] history = new byte[_offset - fromOffset + 1];
                CopyHistory(fromOffset, history);
                client.Push(history, limit, nowMs);
            }

            replica = new AttachedReplica(client) { AckUnixMs = nowMs };
            _replicas.Add(replica);

            // Redis: a new replica's stream starts with a SELECT of the database of the next command.
            _selectedDb = -1;
            return true;
        }
    }

    /// <summary>
    /// Attaches a replica at the end of the stream (a full sync: its snapshot is the data set now) and returns that offset;
    /// everything appended from now on is queued for it.
    /// </summary>
    internal long AttachAtEnd(ClientState client, long nowMs, out AttachedReplica replica)
    {
        lock (_gate)
        {
            if (!TryAttach(client, _offset + 1, default, nowMs, out replica))
            {
                throw new InvalidOperationException("the replication backlog must exist before a replica attaches");
            }

            return _offset;
        }
    }

    /// <summary>Full syncs, and partial resyncs accepted and refused (INFO sync_full, sync_partial_ok, sync_partial_err).</summary>
    public long FullSyncs;

    public long PartialSyncsAccepted;

    public long PartialSyncsRefused;

    /// <summary>A replica's REPLCONF ACK: the stream it has processed up to <paramref name="offset"/>.</summary>
    internal void Acknowledged(ClientState client, long offset, long nowMs)
    {
        lock (_gate)
        {
            foreach (AttachedReplica replica in _replicas)
            {
                if (replica.Client == client)
                {
                    replica.AckOffset = Math.Max(replica.AckOffset, offset);
                    replica.AckUnixMs = nowMs;
                }
            }
        }
    }

    /// <summary>How many replicas acknowledged the stream up to <paramref name="offset"/> (WAIT).</summary>
    internal int CountAcknowledged(long offset)
    {
        lock (_gate)
        {
            return _replicas.Count(replica => replica.AckOffset >= offset);
        }
    }

    /// <summary>Asks every replica to acknowledge what it has processed (REPLCONF GETACK *, which is part of the stream).</summary>
    internal void AskForAcknowledgements(OutputBufferLimit limit, long nowMs)
    {
        if (_active)
        {
            Append([new PropagatedCommand(-1, [s_replconf, s_getack, s_any])], limit, nowMs);
        }
    }

    /// <summary>Waits until <paramref name="wanted"/> replicas acknowledged <paramref name="offset"/>, or the timeout (0: none); returns how many did.</summary>
    internal async Task<int> WaitForAcknowledgementsAsync(long offset, long wanted, long timeoutMs, TimeProvider time, CancellationToken cancellationToken)
    {
        await UntilAsync(() => CountAcknowledged(offset) >= wanted, timeoutMs == 0 ? long.MaxValue : time.GetUtcNow().ToUnixTimeMilliseconds() + timeoutMs, time, cancellationToken);
        return CountAcknowledged(offset);
    }

    // Looks every few milliseconds until done() or the deadline (Unix ms): replicas answer GETACK at once, and every second.
    private static async Task UntilAsync(Func<bool> done, long deadlineMs, TimeProvider time, CancellationToken cancellationToken)
    {
        for (long left; !done() && (left = deadlineMs - time.GetUtcNow().ToUnixTimeMilliseconds()) > 0;)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(left, AckPollMilliseconds)), time, cancellationToken);
        }
    }

    /// <summary>Whether every replica acknowledged the whole stream (Redis isReadyToShutdown); true without replicas.</summary>
    internal bool AllReplicasAcknowledged()
    {
        lock (_gate)
        {
            return _replicas.TrueForAll(replica => replica.AckOffset >= _offset);
        }
    }

    /// <summary>
    /// Redis's wait of SHUTDOWN for lagging replicas: writes are held (reads go on), the replicas are asked for an
    /// acknowledgement, and the task completes with true once every replica has acknowledged the whole stream or
    /// <paramref name="timeoutMs"/> has passed (the shutdown goes on), or with false at SHUTDOWN ABORT
    /// (<see cref="AbortShutdownWait"/>). A second SHUTDOWN meanwhile waits for the same outcome.
    /// </summary>
    internal Task<bool> WaitForReplicasBeforeShutdown(ServerState server, long timeoutMs)
    {
        TaskCompletionSource<bool> outcome;
        lock (_gate)
        {
            if (_shutdownWait is { } pending)
            {
                return pending.Task;
            }

            outcome = _shutdownWait = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        server.Pause.Pause(ClientPauseMode.Write, long.MaxValue);
        long nowMs = server.Time.GetUtcNow().ToUnixTimeMilliseconds();
        AskForAcknowledgements(server.Config.ReplicaOutputBufferLimit, nowMs);
        Log.WaitingForReplicas(server.Logger, timeoutMs / 1000);
        _ = Task.Run(async () =>
        {
            await UntilAsync(() => outcome.Task.IsCompleted || AllReplicasAcknowledged(), nowMs + timeoutMs, server.Time, CancellationToken.None);
            if (outcome.Task.IsCompleted)
            {
                return;
            }

            foreach (AttachedReplica lagging in Replicas.Where(replica => Interlocked.Read(ref replica.AckOffset) < Offset))
            {
                Log.ReplicaLagging(server.Logger, lagging.Client.Address, Offset - Interlocked.Read(ref lagging.AckOffset));
            }

            outcome.TrySetResult(true);
        });
        return outcome.Task;
    }

    /// <summary>SHUTDOWN ABORT: ends a shutdown waiting for replicas (false: none was waiting). The caller lets writes go again.</summary>
    internal bool AbortShutdownWait()
    {
        TaskCompletionSource<bool>? pending;
        lock (_gate)
        {
            pending = _shutdownWait;
            _shutdownWait = null;
        }

        return pending is not null && pending.TrySetResult(false);
    }

    internal void Detach(ClientState client)
    {
        lock (_gate)
        {
            _replicas.RemoveAll(replica => replica.Client == client);
        }
    }

    private void WriteCommand(int db, byte[][] args)
    {
        if (db >= 0 && db != _selectedDb)
        {
            WriteArgs([s_select, Propagation.Number(db)]);
            _selectedDb = db;
        }

        WriteArgs(args);
    }

    private void WriteArgs(byte[][] args)
    {
        RespWriter.WriteArrayHeader(_pending, args.Length);
        foreach (byte[] arg in args)
        {
            RespWriter.WriteBulkString(_pending, arg);
        }
    }

    // Under the gate: the pending bytes go to the backlog and to every replica.
    private long Publish(OutputBufferLimit limit, long nowMs)
    {
        ReadOnlySpan<byte> bytes = _pending.WrittenSpan;
        Store(_offset, bytes);
        _offset += bytes.Length;
        if (_replicas.Count > 0)
        {
            byte[] message = bytes.ToArray();
            foreach (AttachedReplica replica in _replicas)
            {
                replica.Client.Push(message, limit, nowMs);
            }
        }

        return _offset;
    }

    // Under the gate: bytes that follow offset 'after' into the ring, where byte o (1-based) lives at (o - 1) mod size.
    private void Store(long after, ReadOnlySpan<byte> bytes)
    {
        int size = _backlog.Length;
        if (bytes.Length > size)
        {
            after += bytes.Length - size;
            bytes = bytes[^size..];
        }

        int start = (int)(after % size);
        int first = Math.Min(bytes.Length, size - start);
        bytes[..first].CopyTo(_backlog.AsSpan(start));
        bytes[first..].CopyTo(_backlog);
        _histlen = Math.Min(size, _histlen + bytes.Length);
    }

    // Under the gate: the history from offset 'from' (1-based, as Redis counts) into 'target' (as many bytes as it holds).
    private void CopyHistory(long from, Span<byte> target)
    {
        int size = _backlog.Length;
        for (int done = 0; done < target.Length;)
        {
            int start = (int)((from - 1 + done) % size);
            int run = Math.Min(target.Length - done, size - start);
            _backlog.AsSpan(start, run).CopyTo(target[done..]);
            done += run;
        }
    }

    // How often a WAIT looks again for acknowledgements (replicas send theirs at once when asked, and every second).
    private const int AckPollMilliseconds = 5;

    private static readonly byte[] s_multi = "MULTI"u8.ToArray();
    private static readonly byte[] s_exec = "EXEC"u8.ToArray();
    private static readonly byte[] s_replconf = "REPLCONF"u8.ToArray();
    private static readonly byte[] s_getack = "GETACK"u8.ToArray();
    private static readonly byte[] s_any = "*"u8.ToArray();
    private static readonly byte[] s_ping = "PING"u8.ToArray();
    private static readonly byte[] s_select = "SELECT"u8.ToArray();

    private static partial class Log
    {
        [LoggerMessage(EventId = 71, Level = LogLevel.Warning, Message = "SHUTDOWN: waiting up to {Seconds} s (shutdown-timeout) for the replicas to acknowledge everything; writes wait meanwhile")]
        public static partial void WaitingForReplicas(ILogger logger, long seconds);

        [LoggerMessage(EventId = 72, Level = LogLevel.Warning, Message = "SHUTDOWN: replica {Client} is {Bytes} bytes of the stream behind; shutting down all the same")]
        public static partial void ReplicaLagging(ILogger logger, string client, long bytes);
    }
}
