using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Durable.Commands;
using Durable.Commands.Server;
using Durable.Storage.Faster;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Durable.Server;

/// <summary>
/// The server as a hosted service: opens (recovers) the store, listens, serves connections; on stop it stops
/// accepting, lets in-flight batches finish up to a timeout, closes the rest and takes a final checkpoint.
/// </summary>
internal sealed partial class DurableServerService : IHostedService, IDisposable
{
    private static readonly string s_version = typeof(DurableServerService).Assembly.GetName().Version?.ToString(3) ?? "?";
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);
    private readonly ServerConfig _config;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly List<Socket> _listeners = [];
    private readonly ConcurrentDictionary<ClientConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _storeSettingsGate = new();
    private FasterStore? _store;
    private Task _acceptLoops = Task.CompletedTask;
    private Task _sweeper = Task.CompletedTask;
    private bool _checkpointOnStop = true;
    private readonly Lock _replicaLinkGate = new();
    private ReplicaLink? _replicaLink;
    private Task _replicaLinkStopped = Task.CompletedTask;

    public DurableServerService(ServerConfig config, ILoggerFactory loggerFactory, IHostApplicationLifetime lifetime, TimeProvider time)
    {
        _config = config;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Durable.Server");
        _lifetime = lifetime;
        _time = time;
        _config.Changed += OnConfigChanged;
    }

    /// <summary>Passes a CONFIG SET of the settings the store acts on to it (once it is loaded; <see cref="LoadAsync"/> passes them then).</summary>
    private void OnConfigChanged(string name)
    {
        if (name is "appendfsync" or "lazyfree-lazy-server-del" or "lazyfree-lazy-expire")
        {
            lock (_storeSettingsGate)
            {
                if (_store is { } store)
                {
                    ApplyStoreSettings(store);
                }
            }
        }
    }

    private void ApplyStoreSettings(FasterStore store)
    {
        store.FsyncPolicy = _config.FsyncPolicy;
        store.LazyFreeServerDeletes = _config.LazyfreeLazyServerDel;
        store.LazyFreeExpiredKeys = _config.LazyfreeLazyExpire;
    }

    /// <summary>Shared state, available once started.</summary>
    public ServerState State { get; private set; } = null!;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        string directory = Path.GetFullPath(_config.Directory);
        Log.Starting(_logger, s_version, Environment.ProcessId, directory, _config.MemoryBytes >> 20);
        Stopwatch watch = Stopwatch.StartNew();
        State = new ServerState(new LoadingStore(_config.Databases), _config, CommandTable.CreateDefault(), _time)
        {
            Logger = _loggerFactory.CreateLogger("Durable.Scripts"),
            RequestShutdown = save =>
            {
                _checkpointOnStop = save;
                _lifetime.StopApplication();
            },
        };
        State.BeginLoading();

        int port = _config.Port;
        foreach (string address in _config.Bind.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            IPAddress ip = IPAddress.Parse(address);
            Socket listener = new(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(ip, port));
            listener.Listen(511);
            port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            _listeners.Add(listener);
            Log.Listening(_logger, address, port);
        }

        State.BoundPort = port;
        _acceptLoops = Task.WhenAll(_listeners.Select(l => Task.Run(() => AcceptLoopAsync(l), CancellationToken.None)));
        _sweeper = Task.Run(SweepIdleClientsAsync, CancellationToken.None);
        // Clients connect at once and get -LOADING (PING and INFO work) until recovery is done.
        Loaded = Task.Run(() => LoadAsync(directory, watch), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Completes when the data set is recovered and every command is served; faults if recovery failed.</summary>
    public Task Loaded { get; private set; } = Task.CompletedTask;

    private async Task LoadAsync(string directory, Stopwatch watch)
    {
        try
        {
            _store = await FasterStore.OpenAsync(
                new Storage.StoreOptions
                {
                    DataDirectory = directory,
                    MemoryBytes = _config.MemoryBytes,
                    IndexBytes = _config.IndexBytes,
                    SegmentBytes = _config.SegmentBytes,
                    Databases = _config.Databases,
                    FsyncPolicy = _config.FsyncPolicy,
                    CheckpointIntervalSeconds = _config.CheckpointIntervalSeconds,
                    CheckpointWalBytes = _config.CheckpointWalBytes,
                    ReadCache = _config.ReadCache == "yes",
                    ColdReadIo = _config.ColdReadIo == "faster" ? Storage.ColdReadIo.Faster : Storage.ColdReadIo.Uring,
                    CompactionIntervalSeconds = _config.CompactionIntervalSeconds,
                    CompactionDeadPercent = _config.CompactionDeadPercent,
                    DiskReserveBytes = _config.DiskReserveBytes,
                    Time = _time,
                },
                _loggerFactory.CreateLogger("Durable.Storage"));
            lock (_storeSettingsGate)
            {
                // A CONFIG SET appendfsync while the store was loading (CONFIG is served then) applies from now on.
                ApplyStoreSettings(_store);
            }

            (int libraries, int functions) = State.CompleteLoading(_store);
            if (libraries > 0)
            {
                Log.FunctionsLoaded(_logger, libraries, functions);
            }

            Log.Ready(_logger, watch.ElapsedMilliseconds);
            State.Replication.Follow = (host, port) => FollowPrimary(host, port, directory);
            if (_config.ReplicaOf.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [string host, string port])
            {
                State.Replication.TryFollow(host, int.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        catch (Exception exception)
        {
            // Never serve an empty data set in place of one that failed to load: stop, with the reason and a non-zero exit code.
            Log.LoadFailed(_logger, exception.Message, exception);
            Environment.ExitCode = 1;
            _checkpointOnStop = false;
            _lifetime.StopApplication();
            throw;
        }
    }

    /// <summary>Replaces the replica link: the one before stops, then one to host:port starts (none for a null host).</summary>
    private void FollowPrimary(string? host, int port, string directory)
    {
        lock (_replicaLinkGate)
        {
            _replicaLink?.Stop();
            _replicaLink = host is null || _stopping.IsCancellationRequested
                ? null
                : ReplicaLink.Start(State, host, port, directory, _loggerFactory.CreateLogger("Durable.Replication"), _replicaLinkStopped);
            _replicaLinkStopped = _replicaLink?.Stopped ?? _replicaLinkStopped;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Log.Stopping(_logger);
        if (!State.ShuttingDown && State.Config.ShutdownTimeout > 0 && !State.ReplicationFeed.AllReplicasAcknowledged())
        {
            // A signal (SHUTDOWN has waited already): as Redis's shutdown-on-sigterm default, the replicas get
            // shutdown-timeout seconds to acknowledge everything, while the server still serves them.
            await ((Task)State.ReplicationFeed.WaitForReplicasBeforeShutdown(State, State.Config.ShutdownTimeout * 1000)
                .WaitAsync(cancellationToken)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        State.ShuttingDown = true;
        Task replicaLinkStopped;
        lock (_replicaLinkGate)
        {
            _replicaLink?.Stop();
            _replicaLink = null;
            replicaLinkStopped = _replicaLinkStopped;
        }

        foreach (Socket listener in _listeners)
        {
            listener.Dispose();
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_acceptLoops, _sweeper).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // In-flight batches finish (the loops exit at their next read); whatever is still running after the timeout is closed.
        Task drained = Task.WhenAll(_connections.Values);
        if (await Task.WhenAny(drained, Task.Delay(s_drainTimeout, _time, cancellationToken)) != drained)
        {
            foreach (ClientConnection connection in _connections.Keys)
            {
                connection.Close();
            }

            await drained.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // A stop during loading waits for recovery to finish: FASTER cannot abandon a recovery half way.
        await Loaded.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await replicaLinkStopped.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_store is not null)
        {
            if (_checkpointOnStop)
            {
                try
                {
                    await _store.CheckpointAsync(cancellationToken);
                }
                catch (Exception exception) when (exception is OperationCanceledException or InvalidOperationException)
                {
                    // The write-ahead log holds every acknowledged write: the next start replays it instead.
                    Log.FinalCheckpointSkipped(_logger, exception.Message);
                }
            }

            await _store.DisposeAsync();
        }

        Log.Stopped(_logger);
    }

    public void Dispose()
    {
        _config.Changed -= OnConfigChanged;
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stopping);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;
            Interlocked.Increment(ref State.Stats.TotalConnectionsReceived);
            if (State.Clients.Count >= _config.MaxClients)
            {
                Interlocked.Increment(ref State.Stats.RejectedConnections);
                _ = RejectAsync(socket);
                continue;
            }

            ClientConnection connection = new(socket, State, _logger, stopping);
            _connections[connection] = Task.Run(async () =>
            {
                await connection.RunAsync();
                _connections.TryRemove(connection, out _);
            }, CancellationToken.None);
        }
    }

    private static async Task RejectAsync(Socket socket)
    {
        try
        {
            await socket.SendAsync("-ERR max number of clients reached\r\n"u8.ToArray());
        }
        catch (SocketException)
        {
            // The client is being refused anyway; a failed goodbye changes nothing.
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>Closes clients idle longer than the <c>timeout</c> setting, checked once a second as Redis's clientsCron does.</summary>
    private async Task SweepIdleClientsAsync()
    {
        using PeriodicTimer timer = new(TimeSpan.FromSeconds(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                int timeout = _config.IdleTimeoutSeconds;
                if (timeout <= 0)
                {
                    continue;
                }

                long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                foreach (ClientState client in State.Clients.All)
                {
                    if (!client.IsMonitor && !client.IsBlocked && now - client.LastInteractionMs > timeout * 1000L)
                    {
                        client.Close?.Invoke();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Durable {Version} starting: pid {Pid}, data directory {Directory}, memory budget {MemoryMb} MB")]
        public static partial void Starting(ILogger logger, string version, int pid, string directory, long memoryMb);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Listening on {Address}:{Port}")]
        public static partial void Listening(ILogger logger, string address, int port);

        [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "No final checkpoint ({Reason}); the next start replays the write-ahead log instead")]
        public static partial void FinalCheckpointSkipped(ILogger logger, string reason);

        [LoggerMessage(EventId = 6, Level = LogLevel.Critical, Message = "Cannot load the data set: {Reason}")]
        public static partial void LoadFailed(ILogger logger, string reason, Exception exception);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Data set loaded; all commands served ({Milliseconds} ms after start)")]
        public static partial void Ready(ILogger logger, long milliseconds);

        [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Function libraries loaded: {Libraries} libraries, {Functions} functions")]
        public static partial void FunctionsLoaded(ILogger logger, int libraries, int functions);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Shutting down: no new connections")]
        public static partial void Stopping(ILogger logger);

        [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
