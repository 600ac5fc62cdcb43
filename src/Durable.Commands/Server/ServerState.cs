using Durable.Commands.PubSub;
using Durable.Storage;

namespace Durable.Commands.Server;

/// <summary>State shared by all connections of one server: store, configuration, clients, statistics.</summary>
public sealed class ServerState
{
    private volatile IStore _store;
    private volatile bool _loading;
    private Scripting.ScriptEngine? _scripts;
    private object? _scriptsLock;
    private Scripting.FunctionLibraries? _functions;
    private object? _functionsLock;

    /// <param name="store">The open store, or a stand-in while the real one is still recovering (see <see cref="BeginLoading"/>).</param>
    /// <param name="config">The configuration.</param>
    /// <param name="commands">The command table.</param>
    /// <param name="time">The clock.</param>
    public ServerState(IStore store, ServerConfig config, CommandTable commands, TimeProvider time)
    {
        _store = store;
        Config = config;
        Commands = commands;
        Time = time;
        StartedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        SlowLog = new SlowLog(config);
        Pause = new ClientPause(time);
        RunId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        Acl = new Acl.AclUsers(commands, config);
        config.UserLines = Acl.Lines;
        config.Changed += name =>
        {
            if (name == "requirepass")
            {
                Acl.SetDefaultPassword(config.RequirePass);
            }
        };
    }

    /// <summary>The ACL users, the default user and the ACL log.</summary>
    public Acl.AclUsers Acl { get; }

    /// <summary>The store; while <see cref="IsLoading"/>, a stand-in that holds no data and opens no sessions.</summary>
    public IStore Store => _store;

    /// <summary>True while the data set is being recovered, or a replica loads its primary's: commands without the Loading flag get -LOADING.</summary>
    public bool IsLoading => _loading || Replication.Loading;

    /// <summary>The replication role: a primary, or a replica of a Redis primary.</summary>
    public ReplicationState Replication { get; } = new();

    /// <summary>When loading started (Unix seconds), for INFO.</summary>
    public long LoadingStartedUnixSeconds { get; private set; }

    /// <summary>Marks the server as loading; the stand-in store stays in place until <see cref="CompleteLoading"/>.</summary>
    public void BeginLoading()
    {
        LoadingStartedUnixSeconds = Time.GetUtcNow().ToUnixTimeSeconds();
        _loading = true;
    }

    /// <summary>
    /// Swaps in the recovered store and lets every command through, once the function libraries it keeps are compiled
    /// again; returns how many libraries and functions there are. Throws <see cref="InvalidDataException"/> when they do not load (a data set
    /// with functions is never served without them).
    /// </summary>
    public (int Libraries, int Functions) CompleteLoading(IStore store)
    {
        (int, int) libraries = Scripting.FunctionCommands.LoadSaved(this, store);
        store.KeyExpired = (db, key) =>
        {
            Propagation.Expired(this, db, key);
            KeyspaceEvents.Notify(this, KeyspaceEventClass.Expired, "expired"u8, key, db);
            Tracking.Invalidate(this, null, [key.ToArray()]);
        };
        store.KeyCreated = (db, key) => KeyspaceEvents.Notify(this, KeyspaceEventClass.New, "new"u8, key, db);
        _store = store;
        _loading = false;
        return libraries;
    }
    public ServerConfig Config { get; }

    /// <summary>Where the server's own messages go (a script's redis.log); the host sets it.</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>The Lua interpreter and script cache, or null before the first script command (INFO reports zeros).</summary>
    internal Scripting.ScriptEngine? ScriptsIfCreated => Volatile.Read(ref _scripts);

    /// <summary>The Lua interpreter and script cache, created by the first script command.</summary>
    internal Scripting.ScriptEngine Scripts => LazyInitializer.EnsureInitialized(ref _scripts, ref _scriptsLock, () => new Scripting.ScriptEngine(Logger));

    /// <summary>The function libraries (FUNCTION, FCALL), or null before the first function command or saved library.</summary>
    internal Scripting.FunctionLibraries? FunctionsIfCreated => Volatile.Read(ref _functions);

    /// <summary>The function libraries, created by the first function command or by the libraries a restart reads back.</summary>
    internal Scripting.FunctionLibraries Functions => LazyInitializer.EnsureInitialized(ref _functions, ref _functionsLock, () => new Scripting.FunctionLibraries(Logger));

    public CommandTable Commands { get; }
    public TimeProvider Time { get; }
    public ClientRegistry Clients { get; } = new();
    public ServerStats Stats { get; } = new();
    public SlowLog SlowLog { get; }

    /// <summary>CLIENT PAUSE state, checked by the session loop before each command.</summary>
    public ClientPause Pause { get; }

    /// <summary>Connections blocked on keys (BLPOP...), woken by the dispatcher after each write to their keys.</summary>
    internal Blocking.BlockedKeys Blocked { get; } = new();

    /// <summary>CLIENT TRACKING: the keys tracking connections read and the prefixes broadcast ones asked for.</summary>
    internal TrackingTable Tracking { get; } = new();

    /// <summary>A connection closed: its CLIENT TRACKING ends.</summary>
    public void StopTracking(ClientState client) => Tracking.Disable(client);

    /// <summary>Keys WATCHed by some connection, marked by the dispatcher after each write to them.</summary>
    internal Transactions.WatchedKeys Watches { get; } = new();

    /// <summary>The replication stream this server's replicas follow (kept once one has asked for a sync).</summary>
    public ReplicationFeed ReplicationFeed { get; } = new();

    /// <summary>MONITOR clients, fed by the dispatcher after each command.</summary>
    public MonitorHub Monitors { get; } = new();

    /// <summary>Pub/sub subscriptions and message delivery.</summary>
    public PubSub.PubSubHub PubSub { get; } = new();

    public long StartedAtMs { get; }
    public string RunId { get; }

    /// <summary>The TCP port actually bound (differs from the configured one when that was 0).</summary>
    public int BoundPort { get; set; }

    public static string Version => "7.0.15";

    /// <summary>Set by the host when it starts stopping (SHUTDOWN or a signal); SHUTDOWN ABORT cannot undo it.</summary>
    public bool ShuttingDown { get; set; }

    /// <summary>Set by the host: starts a graceful shutdown (SHUTDOWN command); the argument says whether to checkpoint.</summary>
    public Action<bool>? RequestShutdown { get; set; }
}
