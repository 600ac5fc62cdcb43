using Durable.Storage;

namespace Durable.Commands.Server;

/// <summary>State shared by all connections of one server: store, configuration, clients, statistics.</summary>
public sealed class ServerState
{
    public ServerState(IStore store, ServerConfig config, CommandTable commands, TimeProvider time)
    {
        Store = store;
        Config = config;
        Commands = commands;
        Time = time;
        StartedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        SlowLog = new SlowLog(config);
        Pause = new ClientPause(time);
        RunId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
    }

    public IStore Store { get; }
    public ServerConfig Config { get; }
    public CommandTable Commands { get; }
    public TimeProvider Time { get; }
    public ClientRegistry Clients { get; } = new();
    public ServerStats Stats { get; } = new();
    public SlowLog SlowLog { get; }

    /// <summary>CLIENT PAUSE state, checked by the session loop before each command.</summary>
    public ClientPause Pause { get; }

    /// <summary>MONITOR clients, fed by the dispatcher after each command.</summary>
    public MonitorHub Monitors { get; } = new();
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
