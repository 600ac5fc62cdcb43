using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Durable.Commands;
using Durable.Commands.Server;
using Durable.Protocol;
using Microsoft.Extensions.Logging;
using ReadResult = System.IO.Pipelines.ReadResult;

namespace Durable.Server;

/// <summary>
/// One client: a socket wrapped in a reader/writer pipe pair, driving a <see cref="RespSession"/>.
/// The loop only does I/O; parsing and execution happen synchronously inside the session.
/// </summary>
internal sealed partial class ClientConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly ServerState _server;
    private readonly ILogger _logger;
    private readonly ClientState _client;
    private readonly CancellationTokenSource _closing;

    // Taken around each batch once this client is a monitor or a subscriber, so that the pumps and the batch never
    // interleave output.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Task _monitorPump = Task.CompletedTask;
    private ChannelReader<byte[]>? _pumpedFeed;
    private Task _pushPump = Task.CompletedTask;
    private ChannelReader<byte[]>? _pumpedPushes;

    public ClientConnection(Socket socket, ServerState server, ILogger logger, CancellationToken serverStopping)
    {
        _socket = socket;
        _server = server;
        _logger = logger;
        _closing = CancellationTokenSource.CreateLinkedTokenSource(serverStopping);
        long now = server.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _client = new ClientState
        {
            Id = server.Clients.NextId(),
            Address = socket.RemoteEndPoint?.ToString() ?? "?",
            LocalAddress = socket.LocalEndPoint?.ToString() ?? "?",
            CreatedAtMs = now,
            LastInteractionMs = now,
            Fd = socket.Handle.ToInt64(),
        };
        _client.Close = Close;
    }

    public ClientState Client => _client;

    public void Close()
    {
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already closed and disposed: nothing left to cancel.
        }
    }

    /// <summary>Called by <see cref="RunAsync"/> when the connection ends; <see cref="Close"/> stays safe afterwards.</summary>
    public void Dispose()
    {
        _closing.Dispose();
        _writeLock.Dispose();
    }

    public async Task RunAsync()
    {
        NetworkStream stream = new(_socket, ownsSocket: true);
        PipeReader input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        PipeWriter output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
        Exception? fault = null;
        Exception? ended = null;
        IDisposable? scope = _logger.BeginScope("connection {ConnectionId}", _client.Id);
        _server.Clients.Add(_client);
        CommandContext context = new(_server, _client);
        try
        {
            RespSession session = new(context, new CommandDispatcher(_server.Commands), new RespLimits { MaxBulkLength = _server.Config.ProtoMaxBulkLength });
            Log.Connected(_logger, _client.Address);
            try
            {
                await ServeAsync(input, output, session, context);
            }
            finally
            {
                session.ReleaseLocks();
            }
        }
        catch (Exception exception) when (IsDisconnect(exception))
        {
            // What the output still holds was never confirmed: the replies of a batch whose writes could not be made
            // durable (the write-ahead log failed, or the connection closed while they waited). Completing the output
            // with the exception drops them; completing it without one would send them, acknowledging writes that a
            // crash of the machine loses (found by the crash tool's power cuts).
            ended = exception;
            Log.Disconnected(_logger, exception);
        }
        catch (Exception exception)
        {
            fault = exception;
            Log.Failed(_logger, exception);
        }
        finally
        {
            _server.Clients.Remove(_client);
            _server.Monitors.Remove(_client);
            _server.ReplicationFeed.Detach(_client);
            _server.PubSub.RemoveAll(_client);
            _server.StopTracking(_client);
            _client.ClosePushFeed();
            context.EndTransaction();
            Close();
            await _monitorPump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _pushPump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await input.CompleteAsync(fault);
            await output.CompleteAsync(fault ?? ended);
            await stream.DisposeAsync();
            context.OpenedSession?.Dispose();
            Dispose();
            scope?.Dispose();
        }
    }

    private async Task ServeAsync(PipeReader input, PipeWriter output, RespSession session, CommandContext context)
    {
        CancellationToken closing = _closing.Token;
        bool resuming = false;
        bool releasedByCommit = false;
        while (true)
        {
            ValueTask<ReadResult> reading = input.ReadAsync(closing);
            if (releasedByCommit && reading.IsCompleted)
            {
                // Resumed on the thread that finished a commit, which goes on to resume the commit's other waiters: input
                // already here runs on another thread rather than ahead of their replies.
                await Task.Yield();
            }

            releasedByCommit = false;
            ReadResult read = await reading;
            ReadOnlySequence<byte> buffer = read.Buffer;
            long before = buffer.Length;
            if (before > _server.Config.ClientQueryBufferLimit)
            {
                // Redis closes a client whose unparsed input passes client-query-buffer-limit, without a reply.
                Log.QueryBufferLimit(_logger, before);
                return;
            }

            _client.LastInteractionMs = _server.Time.GetUtcNow().ToUnixTimeMilliseconds();
            // A batch that resumes a command (after its stripes or its warming reads) may wait for the disk.
            bool mayWaitForDisk = true;
            if (!resuming)
            {
                if (session.Prefetch(buffer))
                {
                    // Records on disk only: read them together, without a thread waiting, before the batch runs.
                    await context.Session.CompletePrefetchesAsync(closing);
                }

                mayWaitForDisk = session.MayWaitForDisk;
            }

            await LeaveSocketThreadIfBatchMayWaitAsync(mayWaitForDisk);
            bool locked = _pumpedFeed is not null || _pumpedPushes is not null;
            if (locked)
            {
                await _writeLock.WaitAsync(closing);

                // Messages published before this batch go before its replies (an UNSUBSCRIBE's confirmation follows them).
                if (_pumpedPushes is not null)
                {
                    Drain(_pumpedPushes, output, _client.PushesSent);
                }
            }

            OperationStatus status;
            try
            {
                bool onSocketThread = !Thread.CurrentThread.IsThreadPoolThread;
                long diskWaits = context.OpenedSession?.DiskWaits ?? 0;
                status = session.ExecuteBatch(ref buffer, output);
                if (onSocketThread && context.OpenedSession is { } readSession && readSession.DiskWaits != diskWaits)
                {
                    Interlocked.Add(ref _server.Stats.DiskWaitsOnSocketThreads, readSession.DiskWaits - diskWaits);
                }

                Interlocked.Add(ref _server.Stats.NetInputBytes, before - buffer.Length);
                input.AdvanceTo(buffer.Start, status == OperationStatus.NeedMoreData ? buffer.End : buffer.Start);
                Interlocked.Add(ref _server.Stats.NetOutputBytes, output.UnflushedBytes);
                // Group commit: with appendfsync always, no reply of this batch leaves before its writes are durable.
                if (context.OpenedSession is { } storeSession)
                {
                    ValueTask durable = storeSession.WaitForDurabilityAsync(closing);
                    releasedByCommit = !durable.IsCompleted;
                    await durable;
                }
                if (context.DeferredReply is { } deferred)
                {
                    context.DeferredReply = null;
                    if (_client.IsBlocked)
                    {
                        await AwaitBlockedAsync(deferred, input, output, closing);
                    }
                    else
                    {
                        // A deferred reply (WAITAOF) may resume on the thread that finished a commit, as above.
                        ValueTask replied = deferred(output, closing);
                        releasedByCommit |= !replied.IsCompleted;
                        await replied;
                    }
                }

                await output.FlushAsync(closing);
            }
            finally
            {
                if (locked)
                {
                    _writeLock.Release();
                }
            }

            if (_client.CloseAfterReply)
            {
                // Set by a deferred reply (a SHUTDOWN that waited for replicas): the connection ends once it is out.
                return;
            }

            if (_client.MonitorFeed is { } feed && feed != _pumpedFeed)
            {
                _pumpedFeed = feed;
                _monitorPump = PumpAsync(feed, output, sent: null, TimeSpan.Zero, closing);
            }

            if (_client.PushFeed is { } pushes && pushes != _pumpedPushes)
            {
                _pumpedPushes = pushes;
                _pushPump = PumpAsync(pushes, output, _client.PushesSent, _client.IsReplica ? s_replicaSendInterval : TimeSpan.Zero, closing);
            }

            // The next command waits: for the records it reads while its stripes are taken, or for the stripes (its
            // replies so far are out). No thread waits for either; it runs next, before any new prefetch.
            resuming = true;
            if (session.WarmingReads)
            {
                await context.Session.CompletePrefetchesAsync(closing);
            }
            else if (session.LocksWanted)
            {
                await session.AcquireLocksAsync();
            }
            else
            {
                resuming = false;
            }

            if (session.WaitingForPause)
            {
                _client.IsBlocked = true;
                try
                {
                    await _server.Pause.WaitAsync(closing);
                }
                finally
                {
                    _client.IsBlocked = false;
                }
            }

            if (status is OperationStatus.InvalidData or OperationStatus.Done || (read.IsCompleted && status == OperationStatus.NeedMoreData))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Socket completions run on the runtime's socket threads (Program sets DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS),
    /// so a batch that arrived there runs there, as Redis runs commands on its event loop: no thread hop per request. A
    /// command that reads a record from disk without a prefetch waits for it on its thread, which would hold every other
    /// connection of that socket thread; so while the store has records on disk, a batch that may do that
    /// (<paramref name="mayWaitForDisk"/>, <see cref="RespSession.MayWaitForDisk"/>) moves to the thread pool first. A
    /// batch of GETs stays: its prefetch read its records on disk (it resumes on the pool when the last arrives) or found
    /// them in memory. Decided once per batch: a record that the log moves to disk between the prefetch and its command is
    /// read on this thread (INFO durable_disk_waits_on_socket_threads).
    /// </summary>
    private async ValueTask LeaveSocketThreadIfBatchMayWaitAsync(bool mayWaitForDisk)
    {
        bool onPool = Thread.CurrentThread.IsThreadPoolThread;
        if (!mayWaitForDisk || !_server.Store.HasColdRecords)
        {
            if (!onPool)
            {
                Interlocked.Increment(ref _server.Stats.BatchesOnSocketThreads);
            }

            return;
        }

        _server.Store.PrepareForDiskWaits();
        if (!onPool)
        {
            Interlocked.Increment(ref _server.Stats.BatchesMovedToPool);
            await Task.Yield();
        }
    }

    /// <summary>
    /// Awaits the deferred reply of a command blocked on keys (BLPOP...) while reading ahead on the input only to notice
    /// the client leaving: a client that disconnects while blocked (or sends more than client-query-buffer-limit meanwhile)
    /// is closed at once, which cancels its wait and removes it from the waiters (as Redis drops a blocked client it reads
    /// EOF from). Input read meanwhile stays buffered for after the reply.
    /// </summary>
    private async Task AwaitBlockedAsync(Func<IBufferWriter<byte>, CancellationToken, ValueTask> deferred, PipeReader input, PipeWriter output, CancellationToken closing)
    {
        Task watch = WatchForDisconnectAsync(input, closing);
        try
        {
            await deferred(output, closing);
        }
        finally
        {
            input.CancelPendingRead();
            await watch;
        }
    }

    private async Task WatchForDisconnectAsync(PipeReader input, CancellationToken closing)
    {
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(closing);
            }
            catch (Exception exception) when (IsDisconnect(exception))
            {
                Close();
                return;
            }

            // Consume nothing; examine everything only while waiting, so that the loop's next read sees the buffer at once.
            if (read.IsCanceled)
            {
                input.AdvanceTo(read.Buffer.Start);
                return;
            }

            input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            if (read.IsCompleted || read.Buffer.Length > _server.Config.ClientQueryBufferLimit)
            {
                Close();
                return;
            }
        }
    }

    /// <summary>
    /// Sends what MONITOR or PUBLISH queue for this client, between batches, until the feed completes (RESET of a monitor,
    /// disconnect); <paramref name="sent"/> hears how many bytes went out. With an <paramref name="interval"/> (a replica's
    /// stream) it sends at most once per interval, whatever was queued meanwhile together, as Redis writes a replica's
    /// stream once per turn of its event loop: one wake and one send for many commands instead of one each.
    /// </summary>
    private async Task PumpAsync(ChannelReader<byte[]> feed, PipeWriter output, Action<long>? sent, TimeSpan interval, CancellationToken closing)
    {
        try
        {
            while (await feed.WaitToReadAsync(closing))
            {
                await _writeLock.WaitAsync(closing);
                try
                {
                    Drain(feed, output, sent);

                    Interlocked.Add(ref _server.Stats.NetOutputBytes, output.UnflushedBytes);
                    await output.FlushAsync(closing);
                }
                finally
                {
                    _writeLock.Release();
                }

                if (interval > TimeSpan.Zero)
                {
                    await Task.Delay(interval, _server.Time, closing);
                }
            }
        }
        catch (Exception exception) when (IsDisconnect(exception))
        {
            Log.Disconnected(_logger, exception);
        }
    }

    private static void Drain(ChannelReader<byte[]> feed, PipeWriter output, Action<long>? sent)
    {
        while (feed.TryRead(out byte[]? line))
        {
            output.Write(line);
            sent?.Invoke(line.Length);
        }
    }

    // How often a replica's stream is sent (see PumpAsync): what WAIT and a replica's lag may add, at most.
    private static readonly TimeSpan s_replicaSendInterval = TimeSpan.FromMilliseconds(1);

    private static bool IsDisconnect(Exception exception) =>
        exception is OperationCanceledException or IOException or SocketException or ObjectDisposedException;

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Accepted {Address}")]
        public static partial void Connected(ILogger logger, string address);

        [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Client went away")]
        public static partial void Disconnected(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "Connection failed; closing it")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Closing client: {Bytes} bytes of unparsed input exceed client-query-buffer-limit")]
        public static partial void QueryBufferLimit(ILogger logger, long bytes);
    }
}
