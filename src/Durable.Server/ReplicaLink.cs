using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Durable.Commands;
using Durable.Commands.Server;
using Durable.Protocol;
using Microsoft.Extensions.Logging;
using ReadResult = System.IO.Pipelines.ReadResult;

namespace Durable.Server;

/// <summary>
/// A replica's link to its Redis primary, as Redis 7.0's replication.c runs it from the replica's side: the handshake
/// (PING, AUTH with masterauth, REPLCONF listening-port and capa psync2), PSYNC, then either a full sync (the primary's
/// RDB snapshot, received into the data directory, read whole and checked, then loaded in place of the data set while
/// clients get -LOADING: FLUSHALL, FUNCTION LOAD of its libraries, RESTORE of its keys) or a partial resync that
/// continues where the link broke, then the command stream, each command run as the primary's client (which a
/// read-only replica lets write). Writes are durable as the fsync policy makes any write, and the offset acknowledged to
/// the primary (REPLCONF ACK, every second and on GETACK) only counts commands whose writes are (INFO's offset is the
/// one applied): with
/// <c>appendfsync always</c>, a WAIT on the primary that counts this replica means the writes survive its crash.
/// A broken link is retried every second (after 60 s without a byte from the primary, Redis's repl-timeout, it is
/// broken). Keys of a type Durable does not store (modules' values) and commands it does not know are left out and logged.
/// </summary>
internal sealed partial class ReplicaLink
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_ackInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_unreadableRetry = TimeSpan.FromSeconds(30);

    private readonly ServerState _server;
    private readonly string _host;
    private readonly int _port;
    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly Action _stop;
    private readonly CommandContext _context;
    private readonly CommandDispatcher _dispatcher;
    private readonly ArrayBufferWriter<byte> _reply = new(256);
    private readonly RespRequest _request = new();
    private readonly RespLimits _limits;
    private readonly HashSet<string> _refusedReported = new(StringComparer.Ordinal);
    private string? _replicationId;
    private long _offset = -1;

    private ReplicaLink(ServerState server, string host, int port, string directory, ILogger logger)
    {
        _server = server;
        _host = host;
        _port = port;
        _directory = directory;
        _logger = logger;
        CancellationTokenSource stop = new();
        _stopping = stop.Token;
        _stop = stop.Cancel;
        long now = server.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _context = new CommandContext(server, new ClientState
        {
            Id = server.Clients.NextId(),
            Address = $"{host}:{port}",
            LocalAddress = "?",
            CreatedAtMs = now,
            LastInteractionMs = now,
            IsReplicationSource = true,
        })
        {
            Reply = _reply,
        };
        _dispatcher = new CommandDispatcher(server.Commands);
        _limits = new RespLimits { MaxBulkLength = server.Config.ProtoMaxBulkLength };
    }

    /// <summary>Completes once the link has stopped for good (after <see cref="Stop"/>).</summary>
    public Task Stopped { get; private set; } = Task.CompletedTask;

    /// <summary>Starts a link to host:port once <paramref name="previous"/> (the link it replaces) has stopped.</summary>
    public static ReplicaLink Start(ServerState server, string host, int port, string directory, ILogger logger, Task previous)
    {
        ReplicaLink link = new(server, host, port, directory, logger);
        link.Stopped = Task.Run(async () =>
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await link.RunAsync();
        });
        return link;
    }

    public void Stop() => _stop();

    private async Task RunAsync()
    {
        CancellationToken stopping = _stopping;
        ReplicationState state = _server.Replication;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                TimeSpan retry = TimeSpan.FromSeconds(1);
                try
                {
                    await FollowAsync(state, stopping);
                }
                catch (InvalidDataException exception) when (!stopping.IsCancellationRequested)
                {
                    // The primary sent what this build cannot take (a snapshot with a type it cannot step over, a
                    // stream that is not RESP): the next sync would most likely fail the same way, so not every second.
                    retry = s_unreadableRetry;
                    Log.Unreadable(_logger, _host, _port, exception.Message, (int)retry.TotalSeconds);
                }
                catch (Exception exception) when (!stopping.IsCancellationRequested)
                {
                    // Whatever else broke the link (the network, the primary): say it, try again.
                    Log.LinkLost(_logger, _host, _port, exception.Message, exception is IOException or SocketException or TimeoutException ? null : exception);
                }
                finally
                {
                    state.Loading = false;
                    state.LinkState = ReplicaLinkState.Connect;
                    state.LinkDownSinceUnixMs = NowMs();
                }

                await Task.Delay(retry, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            _context.EndTransaction();
            _context.OpenedSession?.Dispose();
        }
    }

    private async Task FollowAsync(ReplicationState state, CancellationToken stopping)
    {
        state.LinkState = ReplicaLinkState.Connecting;
        using Socket socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (CancellationTokenSource connecting = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            connecting.CancelAfter(TimeSpan.FromSeconds(10));
            await OnPool(socket.ConnectAsync(_host, _port, connecting.Token));
        }

        await using NetworkStream stream = new(socket, ownsSocket: false);
        PipeReader input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        try
        {
            await HandshakeAsync(stream, input, stopping);
            await SendAsync(stream, "PSYNC", _replicationId ?? "?", (_replicationId is null ? -1 : _offset + 1).ToString(CultureInfo.InvariantCulture));
            string reply = await ReadLineAsync(input, stopping);
            string[] words = reply.Split(' ');
            if (words[0] == "+FULLRESYNC" && words.Length == 3 && long.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
            {
                state.LinkState = ReplicaLinkState.Sync;
                // A sync that fails half way leaves the data set flushed in part: the next attempt must be a full sync.
                _replicationId = null;
                _offset = -1;
                Log.FullSync(_logger, _host, _port, words[1], offset);
                string file = await ReceiveSnapshotAsync(input, stopping);
                await LoadSnapshotAsync(file, stopping);
                _replicationId = words[1];
                _offset = offset;
                _context.Client.Db = 0;
                state.FullSyncs++;
            }
            else if (words[0] == "+CONTINUE" && _replicationId is not null)
            {
                _replicationId = words.Length > 1 ? words[1] : _replicationId;
                state.PartialSyncs++;
                Log.PartialSync(_logger, _host, _port, _offset);
            }
            else
            {
                // -LOADING, -NOMASTERLINK (a primary that is itself a replica without its link): worth trying again soon.
                throw new IOException($"the primary answered PSYNC with '{reply}'");
            }

            state.MasterReplicationId = _replicationId;
            state.Offset = _offset;
            state.LinkState = ReplicaLinkState.Connected;
            state.LinkDownSinceUnixMs = 0;
            await FollowStreamAsync(state, stream, input, stopping);
        }
        finally
        {
            await input.CompleteAsync();
        }
    }

    /// <summary>PING, AUTH when masterauth is set, REPLCONF listening-port and capa psync2 (no capa eof: the snapshot comes with its length).</summary>
    private async Task HandshakeAsync(NetworkStream stream, PipeReader input, CancellationToken stopping)
    {
        await SendAsync(stream, "PING");
        string pong = await ReadLineAsync(input, stopping);
        // A primary that wants a password says so to the PING; AUTH follows.
        if (pong[0] == '-' && !pong.StartsWith("-NOAUTH", StringComparison.Ordinal) && !pong.StartsWith("-NOPERM", StringComparison.Ordinal))
        {
            throw new IOException($"the primary answered PING with '{pong}'");
        }

        ServerConfig config = _server.Config;
        if (config.MasterAuth.Length > 0)
        {
            await (config.MasterUser.Length > 0 ? SendAsync(stream, "AUTH", config.MasterUser, config.MasterAuth) : SendAsync(stream, "AUTH", config.MasterAuth));
            string auth = await ReadLineAsync(input, stopping);
            if (auth[0] == '-')
            {
                throw new InvalidDataException($"the primary refused masterauth: '{auth}'");
            }
        }

        await SendAsync(stream, "REPLCONF", "listening-port", _server.BoundPort.ToString(CultureInfo.InvariantCulture));
        await ReadLineAsync(input, stopping);
        await SendAsync(stream, "REPLCONF", "capa", "psync2");
        await ReadLineAsync(input, stopping);
    }

    /// <summary>The snapshot after +FULLRESYNC ("$length", then that many bytes), into a file of the data directory.</summary>
    private async Task<string> ReceiveSnapshotAsync(PipeReader input, CancellationToken stopping)
    {
        string header = await ReadLineAsync(input, stopping);
        if (header[0] != '$' || !long.TryParse(header.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
        {
            throw new InvalidDataException($"the primary sent '{header}' where its snapshot's length belongs (an EOF-marked diskless transfer is not asked for)");
        }

        string file = Path.Combine(_directory, "replica-sync.rdb");
        await using (FileStream output = new(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            long left = length;
            while (left > 0)
            {
                ReadResult read = await ReadWithTimeoutAsync(input, stopping);
                ReadOnlySequence<byte> chunk = read.Buffer.Slice(0, Math.Min(left, read.Buffer.Length));
                foreach (ReadOnlyMemory<byte> segment in chunk)
                {
                    await output.WriteAsync(segment, stopping);
                }

                left -= chunk.Length;
                input.AdvanceTo(chunk.End);
                if (left > 0 && read.IsCompleted)
                {
                    throw new IOException($"the primary closed the link {left} bytes before the end of its snapshot");
                }
            }
        }

        return file;
    }

    /// <summary>
    /// Replaces the data set with the snapshot's: the file is read whole first (a damaged one changes nothing), then
    /// clients get -LOADING while the databases and libraries are flushed and the snapshot's written, as the primary's
    /// client.
    /// </summary>
    private async Task LoadSnapshotAsync(string file, CancellationToken stopping)
    {
        (int version, long keys, _) = RdbFileReader.Check(file);
        ReplicationState state = _server.Replication;
        long loaded = 0;
        long expired = 0;
        state.Loading = true;
        try
        {
            await RunOrReportAsync("FLUSHALL", ["FLUSHALL"u8.ToArray(), "SYNC"u8.ToArray()], stopping);
            await RunOrReportAsync("FUNCTION FLUSH", ["FUNCTION"u8.ToArray(), "FLUSH"u8.ToArray(), "SYNC"u8.ToArray()], stopping);
            using RdbFileReader reader = RdbFileReader.Open(file);
            long now = NowMs();
            while (reader.Read() is { } item)
            {
                stopping.ThrowIfCancellationRequested();
                switch (item)
                {
                    case RdbFunctionLibrary library:
                        await RunOrReportAsync("FUNCTION LOAD", ["FUNCTION"u8.ToArray(), "LOAD"u8.ToArray(), "REPLACE"u8.ToArray(), library.Code], stopping);
                        break;
                    case RdbKey key when key.ExpiresAtMs != 0 && key.ExpiresAtMs <= now:
                        expired++;
                        break;
                    case RdbKey key:
                        _context.Client.Db = key.Database;
                        byte[][] restore =
                        [
                            "RESTORE"u8.ToArray(), key.Key, Encoding.ASCII.GetBytes(key.ExpiresAtMs.ToString(CultureInfo.InvariantCulture)), key.Payload(version),
                            .. key.RestoreOptions(replace: true).Select(Encoding.ASCII.GetBytes),
                        ];
                        loaded += await RunOrReportAsync("RESTORE", restore, stopping) ? 1 : 0;
                        break;
                }
            }
        }
        finally
        {
            _context.Client.Db = 0;
            state.Loading = false;
        }

        await _context.Session.WaitForDurabilityAsync(stopping);
        File.Delete(file);
        Log.Loaded(_logger, loaded, keys, expired);
    }

    /// <summary>The command stream: each command run as the primary's client; the offset acknowledged once its writes are durable.</summary>
    private async Task FollowStreamAsync(ReplicationState state, NetworkStream stream, PipeReader input, CancellationToken stopping)
    {
        using PeriodicTimer ticks = new(s_ackInterval);
        Task ticking = TickAsync(ticks, input, stopping);
        try
        {
            await AcknowledgeAsync(stream, stopping);
            while (true)
            {
                ReadResult read = await OnPool(input.ReadAsync(stopping));
                if (read.IsCanceled)
                {
                    // A tick: acknowledge, and give up on a primary silent for longer than repl-timeout.
                    if (NowMs() - state.LastIoUnixMs > s_timeout.TotalMilliseconds)
                    {
                        throw new TimeoutException($"nothing from the primary for {s_timeout.TotalSeconds} s (repl-timeout)");
                    }

                    await AcknowledgeAsync(stream, stopping);
                    continue;
                }

                ReadOnlySequence<byte> buffer = read.Buffer;
                if (buffer.IsEmpty && read.IsCompleted)
                {
                    throw new IOException("the primary closed the link");
                }

                state.LastIoUnixMs = NowMs();
                // The pipe's memory stays valid until AdvanceTo: a single segment is parsed where it is.
                int used = await RunCommandsAsync(buffer.IsSingleSegment ? buffer.First : buffer.ToArray(), stream, stopping);
                input.AdvanceTo(buffer.GetPosition(used), buffer.End);
                state.Offset = _offset;
            }
        }
        finally
        {
            ticks.Dispose();
            await ticking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Runs the whole commands at the start of <paramref name="frames"/>; returns how many bytes they took.</summary>
    private async Task<int> RunCommandsAsync(ReadOnlyMemory<byte> frames, NetworkStream stream, CancellationToken stopping)
    {
        int used = 0;
        while (used < frames.Length)
        {
            OperationStatus parsed = RespParser.TryParse(frames.Span[used..], _request, _limits, out int length);
            if (parsed == OperationStatus.NeedMoreData)
            {
                break;
            }

            if (parsed != OperationStatus.Done)
            {
                throw new InvalidDataException($"the primary's stream is not RESP at its offset {_offset} ({_request.Error})");
            }

            if (_request.Count > 0)
            {
                RespArgs args = _request.GetArgs(frames.Span.Slice(used, length));
                if (args.Count == 3 && AsciiCase.EqualsIgnoreCase(args[0], "REPLCONF"u8) && AsciiCase.EqualsIgnoreCase(args[1], "GETACK"u8))
                {
                    // The offset before this command, as Redis acknowledges it.
                    _server.Replication.Offset = _offset;
                    await AcknowledgeAsync(stream, stopping);
                }
                else
                {
                    Dispatch(args);
                    // Most commands reply at once, and not with an error: nothing more to do, nothing allocated.
                    if (_context.DeferredReply is not null || ReplyIsError)
                    {
                        string name = Encoding.UTF8.GetString(args[0]).ToUpperInvariant();
                        if (await CompleteAsync(stopping) is { } error && _refusedReported.Add(name))
                        {
                            Log.CommandRefused(_logger, name, error);
                        }
                    }
                }
            }

            used += length;
            _offset += length;
        }

        return used;
    }

    /// <summary>Runs one command as the primary's client; its reply (or its deferred work) completes in <see cref="CompleteAsync"/>.</summary>
    private void Dispatch(RespArgs args)
    {
        _reply.ResetWrittenCount();
        _dispatcher.Execute(_context, args);
    }

    /// <summary>
    /// Finishes the command <see cref="Dispatch"/> ran: runs the work it left for later (FUNCTION LOAD, a script: what
    /// a client's connection would await); returns its error reply, or null. A refused command of the primary's means
    /// this replica no longer holds what the primary holds: the callers log it.
    /// </summary>
    private async ValueTask<string?> CompleteAsync(CancellationToken stopping)
    {
        if (_context.DeferredReply is { } deferred)
        {
            _context.DeferredReply = null;
            await deferred(_reply, stopping);
        }

        return ReplyIsError ? Encoding.UTF8.GetString(_reply.WrittenSpan).TrimEnd() : null;
    }

    private bool ReplyIsError => _reply.WrittenCount > 0 && _reply.WrittenSpan[0] == (byte)'-';

    /// <summary>Runs one of the snapshot's commands; a refusal is logged once per error and counted out.</summary>
    private async ValueTask<bool> RunOrReportAsync(string what, byte[][] parts, CancellationToken stopping)
    {
        Dispatch(PackedArgs.Of(parts).Args);
        if (await CompleteAsync(stopping) is not { } error)
        {
            return true;
        }

        if (_refusedReported.Add(what + error))
        {
            Log.SnapshotItemRefused(_logger, what, error);
        }

        return false;
    }

    /// <summary>
    /// REPLCONF ACK of the offset applied so far, once its writes are durable: the stream is not read meanwhile, so
    /// nothing is applied between the wait and the reply. Commands are applied without waiting for commits, which
    /// the WAL's committer groups; only an acknowledgement waits (every second, or when the primary asks).
    /// </summary>
    private async Task AcknowledgeAsync(NetworkStream stream, CancellationToken stopping)
    {
        long applied = _offset;
        await _context.Session.WaitForDurabilityAsync(stopping);
        await SendAsync(stream, stopping, "REPLCONF", "ACK", applied.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Every second, interrupts the stream's read so that it acknowledges (and checks for silence).</summary>
    private static async Task TickAsync(PeriodicTimer ticks, PipeReader input, CancellationToken stopping)
    {
        while (await ticks.WaitForNextTickAsync(stopping))
        {
            input.CancelPendingRead();
        }
    }

    private async Task<ReadResult> ReadWithTimeoutAsync(PipeReader input, CancellationToken stopping)
    {
        using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(s_timeout);
        try
        {
            ReadResult read = await OnPool(input.ReadAsync(timeout.Token));
            _server.Replication.LastIoUnixMs = NowMs();
            return read;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            throw new TimeoutException($"nothing from the primary for {s_timeout.TotalSeconds} s (repl-timeout)");
        }
    }

    /// <summary>A reply line without its CRLF; newlines a primary sends to keep a waiting replica's link alive are skipped.</summary>
    private async Task<string> ReadLineAsync(PipeReader input, CancellationToken stopping)
    {
        while (true)
        {
            ReadResult read = await ReadWithTimeoutAsync(input, stopping);
            ReadOnlySequence<byte> buffer = read.Buffer;
            SequenceReader<byte> reader = new(buffer);
            reader.AdvancePast((byte)'\n');
            if (reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
            {
                string text = line.IsEmpty ? " " : Encoding.UTF8.GetString(line);
                input.AdvanceTo(reader.Position);
                return text;
            }

            if (read.IsCompleted)
            {
                throw new IOException("the primary closed the link during the handshake");
            }

            if (buffer.Length > 64 * 1024)
            {
                throw new InvalidDataException("the primary sent a line longer than 64 KiB during the handshake");
            }

            input.AdvanceTo(reader.Position, buffer.End);
        }
    }

    private static Task SendAsync(NetworkStream stream, params string[] parts) => SendAsync(stream, CancellationToken.None, parts);

    private static async Task SendAsync(NetworkStream stream, CancellationToken stopping, params string[] parts)
    {
        StringBuilder command = new();
        command.Append(CultureInfo.InvariantCulture, $"*{parts.Length}\r\n");
        foreach (string part in parts)
        {
            command.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        await OnPool(stream.WriteAsync(Encoding.UTF8.GetBytes(command.ToString()), stopping));
    }

    /// <summary>
    /// Awaits a socket operation and resumes on the thread pool. Socket completions run on the runtime's socket threads
    /// (Program sets DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS), each serving many client connections; the link's
    /// work (loading a snapshot, commands that wait for the disk or for a key a client's script holds) would stall
    /// them all (found in CI: two other tests' connections got no reply for 30 s).
    /// </summary>
    private static async ValueTask<T> OnPool<T>(ValueTask<T> operation)
    {
        T result = await operation;
        // Queued to the thread pool whatever thread completed the operation (ConfigureAwait's ForceYielding is not
        // enough: a continuation registered before the completion still runs on the completing thread).
        await Task.Yield();
        return result;
    }

    private static async ValueTask OnPool(ValueTask operation)
    {
        await operation;
        await Task.Yield();
    }

    private long NowMs() => _server.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private static partial class Log
    {
        [LoggerMessage(EventId = 62, Level = LogLevel.Warning, Message = "Replication: full sync from {Host}:{Port} (replication ID {ReplicationId}, offset {Offset}): receiving its snapshot")]
        public static partial void FullSync(ILogger logger, string host, int port, string replicationId, long offset);

        [LoggerMessage(EventId = 63, Level = LogLevel.Warning, Message = "Replication: loaded {Loaded} of the snapshot's {Keys} keys ({Expired} had expired); following the primary's command stream")]
        public static partial void Loaded(ILogger logger, long loaded, long keys, long expired);

        [LoggerMessage(EventId = 64, Level = LogLevel.Warning, Message = "Replication: partial resync from {Host}:{Port}, continuing at offset {Offset}")]
        public static partial void PartialSync(ILogger logger, string host, int port, long offset);

        [LoggerMessage(EventId = 65, Level = LogLevel.Warning, Message = "Replication: the link to {Host}:{Port} is down ({Reason}); connecting again in a second")]
        public static partial void LinkLost(ILogger logger, string host, int port, string reason, Exception? exception);

        [LoggerMessage(EventId = 68, Level = LogLevel.Error, Message = "Replication: what {Host}:{Port} sent cannot be taken here ({Reason}); trying again in {Seconds} s")]
        public static partial void Unreadable(ILogger logger, string host, int port, string reason, int seconds);

        [LoggerMessage(EventId = 66, Level = LogLevel.Error, Message = "Replication: the primary's {Command} was refused here ({Error}): this replica no longer holds what the primary holds (said once per command)")]
        public static partial void CommandRefused(ILogger logger, string command, string error);

        [LoggerMessage(EventId = 67, Level = LogLevel.Error, Message = "Replication: the snapshot's {What} was refused here ({Error}): left out (said once per error)")]
        public static partial void SnapshotItemRefused(ILogger logger, string what, string error);
    }
}
