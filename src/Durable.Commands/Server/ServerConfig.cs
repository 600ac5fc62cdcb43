using System.Globalization;
using System.Text;
using Durable.Storage.Persistence;

namespace Durable.Commands.Server;

/// <summary>
/// The server's configuration parameters, with Redis's names where the meaning is the same. One table drives the
/// config file, the command line (<c>--name value</c>), CONFIG GET/SET and CONFIG REWRITE.
/// </summary>
public sealed class ServerConfig
{
    private const string NotYesOrNo = "argument must be 'yes' or 'no'";
    private readonly Dictionary<string, ConfigParameter> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private long? _diskReserveBytes;
    private int _notifyKeyspaceEvents;

    public ServerConfig()
    {
        AddInt("port", () => Port, v => Port = v, 0, 65535, mutable: false);
        AddString("bind", () => Bind, v => Bind = v, mutable: false);
        AddString("dir", () => Directory, v => Directory = v, mutable: false);
        AddSize("memory", () => MemoryBytes, v => MemoryBytes = v, 1L << 20, mutable: false);
        // 0 = a 16th of memory; either way it grows when crowded, taking its growth from the log's share of memory.
        AddSize("index", () => IndexBytes, v => IndexBytes = v, 0, mutable: false);
        AddSize("segment-size", () => SegmentBytes, v => SegmentBytes = v, 1L << 20, mutable: false);
        AddInt("databases", () => Databases, v => Databases = v, 1, 255, mutable: false);
        AddInt("maxclients", () => MaxClients, v => MaxClients = v, 1, 1_000_000, mutable: true);
        AddInt("timeout", () => IdleTimeoutSeconds, v => IdleTimeoutSeconds = v, 0, int.MaxValue, mutable: true);
        AddSize("proto-max-bulk-len", () => ProtoMaxBulkLength, v => ProtoMaxBulkLength = v, 1L << 20, mutable: true);
        AddSize("client-query-buffer-limit", () => ClientQueryBufferLimit, v => ClientQueryBufferLimit = v, 1L << 20, mutable: true);
        AddLong("slowlog-log-slower-than", () => SlowlogSlowerThanMicroseconds, v => SlowlogSlowerThanMicroseconds = v, -1, long.MaxValue, mutable: true);
        AddInt("slowlog-max-len", () => SlowlogMaxLength, v => SlowlogMaxLength = v, 0, int.MaxValue, mutable: true);
        AddEnum("loglevel", () => LogLevel, v => LogLevel = v, ["debug", "verbose", "notice", "warning", "nothing"], mutable: true);
        // Read by redis-benchmark and other tools at startup; Durable always persists through checkpoints and its WAL.
        AddString("save", () => Save, v => Save = v, mutable: true);
        // The write-ahead log is always on: "appendonly yes" is accepted (setup scripts send it), "no" is refused.
        _parameters.Add("appendonly", new ConfigParameter("appendonly", () => AppendOnly, v => v.ToLowerInvariant() switch
        {
            "yes" => null,
            "no" => "the write-ahead log cannot be turned off: Durable persists every write through it and its checkpoints",
            _ => NotYesOrNo,
        }, Mutable: true));
        // Durable never evicts: data beyond the memory budget (--memory) stays on disk. Tools and job queues (Sidekiq,
        // BullMQ) read these to check that nothing will be evicted; only the values that say so are accepted.
        _parameters.Add("maxmemory", new ConfigParameter("maxmemory", () => "0", v => !TryParseSize(v, out long bytes)
            ? "argument must be a memory value"
            : bytes == 0 ? null : "Durable does not evict keys: its memory budget is the memory option, and data beyond it is kept on disk", Mutable: true));
        _parameters.Add("maxmemory-policy", new ConfigParameter("maxmemory-policy", () => "noeviction", v => v.ToLowerInvariant() switch
        {
            "noeviction" => null,
            "volatile-lru" or "volatile-lfu" or "volatile-random" or "volatile-ttl" or "allkeys-lru" or "allkeys-lfu" or "allkeys-random" =>
                "Durable does not evict keys: data beyond its memory budget is kept on disk, so noeviction is the only policy",
            _ => "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction",
        }, Mutable: true));
        // Redis's output buffer limits, per client class: the pubsub class's apply to subscribers' queued messages; the
        // normal and replica classes are kept and reported (Durable has no replicas, and a normal client's replies wait
        // in its socket, which stops the server reading its next commands, rather than in a buffer without bound).
        _parameters.Add("client-output-buffer-limit", new ConfigParameter("client-output-buffer-limit", FormatOutputBufferLimits, SetOutputBufferLimits, Mutable: true));
        // CONFIG SET takes effect at once: the server passes the change to the store (Changed). Listed in Redis's order.
        AddEnum("appendfsync", () => AppendFsync, v => AppendFsync = v, ["everysec", "always", "no"], mutable: true);
        AddInt("checkpoint-interval", () => CheckpointIntervalSeconds, v => CheckpointIntervalSeconds = v, 0, int.MaxValue, mutable: false);
        AddSize("checkpoint-wal-size", () => CheckpointWalBytes, v => CheckpointWalBytes = v, 1L << 20, mutable: false);
        AddEnum("read-cache", () => ReadCache, v => ReadCache = v, ["yes", "no"], mutable: false);
        AddEnum("cold-read-io", () => ColdReadIo, v => ColdReadIo = v, ["uring", "faster"], mutable: false);
        AddInt("compaction-interval", () => CompactionIntervalSeconds, v => CompactionIntervalSeconds = v, 0, int.MaxValue, mutable: false);
        AddInt("compaction-dead-percent", () => CompactionDeadPercent, v => CompactionDeadPercent = v, 1, 99, mutable: false);
        // Free space kept on the data directory's file system: below it writes are refused (-MISCONF); 0 turns that off.
        AddSize("disk-reserve", () => DiskReserveBytes, v => DiskReserveBytes = v, 0, mutable: false);

        // Redis's encoding thresholds, under their 7.0 names and the older ziplist aliases: they decide what OBJECT
        // ENCODING reports and, past them, when a collection may move to part records (docs/collections.md).
        foreach (string name in new[] { "hash-max-listpack-entries", "hash-max-ziplist-entries" })
        {
            AddLong(name, () => HashMaxListpackEntries, v => HashMaxListpackEntries = v, 0, long.MaxValue, mutable: true);
        }

        foreach (string name in new[] { "hash-max-listpack-value", "hash-max-ziplist-value" })
        {
            AddLong(name, () => HashMaxListpackValue, v => HashMaxListpackValue = v, 0, long.MaxValue, mutable: true);
        }

        AddLong("set-max-intset-entries", () => SetMaxIntsetEntries, v => SetMaxIntsetEntries = v, 0, long.MaxValue, mutable: true);
        AddLong("tracking-table-max-keys", () => TrackingTableMaxKeys, v => TrackingTableMaxKeys = v, 0, long.MaxValue, mutable: true);
        foreach (string name in new[] { "zset-max-listpack-entries", "zset-max-ziplist-entries" })
        {
            AddLong(name, () => ZsetMaxListpackEntries, v => ZsetMaxListpackEntries = v, 0, long.MaxValue, mutable: true);
        }

        foreach (string name in new[] { "zset-max-listpack-value", "zset-max-ziplist-value" })
        {
            AddLong(name, () => ZsetMaxListpackValue, v => ZsetMaxListpackValue = v, 0, long.MaxValue, mutable: true);
        }

        // A stream's node (a chunk of its entries, docs/streams.md) closes, as Redis's listpack node does, at this many
        // entries (0: no limit) or bytes of Redis's encoding (0: Redis's 1 GiB cap).
        AddSize("stream-node-max-bytes", () => StreamNodeMaxBytes, v => StreamNodeMaxBytes = v, 0, mutable: true);
        AddLong("stream-node-max-entries", () => StreamNodeMaxEntries, v => StreamNodeMaxEntries = v, 0, long.MaxValue, mutable: true);

        // Accepted for Redis's tools; a list's encoding is quicklist whatever they say, and Durable's list storage does
        // not depend on them.
        foreach (string name in new[] { "list-max-listpack-size", "list-max-ziplist-size" })
        {
            AddInt(name, () => ListMaxListpackSize, v => ListMaxListpackSize = v, int.MinValue, int.MaxValue, mutable: true);
        }

        AddInt("list-compress-depth", () => ListCompressDepth, v => ListCompressDepth = v, 0, int.MaxValue, mutable: true);

        // A HyperLogLog longer than this in the sparse encoding turns dense (12,304 bytes), as in Redis.
        AddSize("hll-sparse-max-bytes", () => HllSparseMaxBytes, v => HllSparseMaxBytes = v, 0, mutable: true);

        // Redis 7.0's lazy freeing, defaults no: with yes, the parts of a large collection that the command drops are
        // deleted in the background (docs/collections.md, "Dropping large collections"). Durable never evicts, so
        // lazyfree-lazy-eviction has nothing to act on; it is kept for tools that set it.
        // The latency monitor records no events in Durable: only 0, its off position and Redis's default, is accepted.
        _parameters.Add("latency-monitor-threshold", new ConfigParameter("latency-monitor-threshold", () => "0", v =>
            !long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long threshold) ? "argument couldn't be parsed into an integer"
            : threshold == 0 ? null
            : "Durable does not record latency events; the per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM) are on by default", Mutable: true));
        // Redis 7.0's per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM).
        AddBool("latency-tracking", () => LatencyTracking, v => LatencyTracking = v);
        _parameters.Add("latency-tracking-info-percentiles", new ConfigParameter(
            "latency-tracking-info-percentiles", () => string.Join(' ', LatencyTrackingPercentiles.Select(FormatPercentile)), SetLatencyPercentiles, Mutable: true));
        // Keyspace notifications (Redis's classes and letters; off by default): see PubSub/KeyspaceEvents.
        _parameters.Add("notify-keyspace-events", new ConfigParameter("notify-keyspace-events", () => PubSub.KeyspaceEvents.Format(NotifyKeyspaceEvents), v =>
        {
            if (!PubSub.KeyspaceEvents.TryParse(v, out PubSub.KeyspaceEventClass classes))
            {
                return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
            }

            NotifyKeyspaceEvents = classes;
            return null;
        }, Mutable: true));
        AddBool("lazyfree-lazy-eviction", () => LazyfreeLazyEviction, v => LazyfreeLazyEviction = v);
        AddBool("lazyfree-lazy-expire", () => LazyfreeLazyExpire, v => LazyfreeLazyExpire = v);
        AddBool("lazyfree-lazy-server-del", () => LazyfreeLazyServerDel, v => LazyfreeLazyServerDel = v);
        AddBool("lazyfree-lazy-user-del", () => LazyfreeLazyUserDel, v => LazyfreeLazyUserDel = v);
        AddBool("lazyfree-lazy-user-flush", () => LazyfreeLazyUserFlush, v => LazyfreeLazyUserFlush = v);
        foreach (string name in new[] { "replica-read-only", "slave-read-only" })
        {
            AddBool(name, () => ReplicaReadOnly, v => ReplicaReadOnly = v);
        }

        // ACL (Acl/AclUsers): requirepass is the default user's password (empty: nopass); users come from "user" lines
        // of the config file (or --user) or from aclfile, never both.
        AddString("requirepass", () => RequirePass, v => RequirePass = v, mutable: true);
        AddString("aclfile", () => AclFile, v => AclFile = v, mutable: false);
        AddLong("acllog-max-len", () => AclLogMaxLength, v => AclLogMaxLength = v, 0, long.MaxValue, mutable: true);
        AddEnum("acl-pubsub-default", () => AclPubsubDefault, v => AclPubsubDefault = v, ["allchannels", "resetchannels"], mutable: true);
        // Redis 7.0's guard of DEBUG: no (refused), yes, or local (clients on loopback only); set at startup only.
        AddEnum("enable-debug-command", () => EnableDebugCommand, v => EnableDebugCommand = v, ["no", "yes", "local"], mutable: false);
        AddString("replicaof", () => ReplicaOf, v => ReplicaOf = v, mutable: false);
        // The primary's backlog, from which a replica that lost its link resumes (PSYNC); resized by the next sync.
        AddSize("repl-backlog-size", () => ReplBacklogSize, v => ReplBacklogSize = v, 1, mutable: true);
        // Redis 7.0: how long SHUTDOWN (without NOW) waits for lagging replicas; 0 = it does not wait.
        AddLong("shutdown-timeout", () => ShutdownTimeout, v => ShutdownTimeout = v, 0, int.MaxValue, mutable: true);
        foreach (string name in new[] { "repl-ping-replica-period", "repl-ping-slave-period" })
        {
            AddLong(name, () => ReplPingReplicaPeriod, v => ReplPingReplicaPeriod = v, 1, int.MaxValue, mutable: true);
        }
        AddString("masterauth", () => MasterAuth, v => MasterAuth = v, mutable: true);
        AddString("masteruser", () => MasterUser, v => MasterUser = v, mutable: true);
    }

    /// <summary>The keyspace event classes on (notify-keyspace-events); read by every write that changes a key.</summary>
    public PubSub.KeyspaceEventClass NotifyKeyspaceEvents
    {
        get => (PubSub.KeyspaceEventClass)Volatile.Read(ref _notifyKeyspaceEvents);
        set => Volatile.Write(ref _notifyKeyspaceEvents, (int)value);
    }

    public bool LazyfreeLazyEviction { get; set; }

    /// <summary>Passed to the store (<see cref="Changed"/>): an expired large collection's parts go in the background.</summary>
    public bool LazyfreeLazyExpire { get; set; }

    /// <summary>Passed to the store (<see cref="Changed"/>): a large collection a write replaces loses its parts in the background.</summary>
    public bool LazyfreeLazyServerDel { get; set; }

    /// <summary>DEL behaves as UNLINK.</summary>
    public bool LazyfreeLazyUserDel { get; set; }

    /// <summary>FLUSHDB and FLUSHALL without SYNC or ASYNC behave as with ASYNC.</summary>
    public bool LazyfreeLazyUserFlush { get; set; }

    /// <summary>A replica refuses clients' writes (Redis replica-read-only, yes by default).</summary>
    public bool ReplicaReadOnly { get; set; } = true;

    public string EnableDebugCommand { get; set; } = "no";

    /// <summary>The default user's password (Redis requirepass); empty: the default user needs none.</summary>
    public string RequirePass { get; set; } = "";

    /// <summary>The ACL file ACL LOAD reads and ACL SAVE writes; empty: none.</summary>
    public string AclFile { get; set; } = "";

    public long AclLogMaxLength { get; set; } = 128;

    /// <summary>Bytes of replication stream a primary keeps for replicas that resume (Redis repl-backlog-size, 1mb).</summary>
    public long ReplBacklogSize { get; set; } = 1L << 20;

    /// <summary>Seconds SHUTDOWN waits for lagging replicas (Redis shutdown-timeout, 10; 0: no wait).</summary>
    public long ShutdownTimeout { get; set; } = 10;

    /// <summary>Seconds between the PINGs a primary sends its replicas (Redis repl-ping-replica-period, 10).</summary>
    public long ReplPingReplicaPeriod { get; set; } = 10;

    /// <summary>Whether a new user may use every channel (allchannels) or none (resetchannels, Redis 7.0's default).</summary>
    public string AclPubsubDefault { get; set; } = "resetchannels";

    /// <summary>The "user NAME RULES..." lines of the config file and command line, without the word "user".</summary>
    public List<string> Users { get; } = [];

    /// <summary>The users as CONFIG REWRITE writes them ("user NAME RULES"); set by the server's ACL users.</summary>
    public Func<IEnumerable<string>>? UserLines { get; set; }

    /// <summary>"host port": start as a replica of that primary (Redis replicaof); empty: a primary.</summary>
    public string ReplicaOf { get; set; } = "";

    /// <summary>The password (and user) a replica logs in to its primary with.</summary>
    public string MasterAuth { get; set; } = "";

    public string MasterUser { get; set; } = "";

    /// <summary>Redis hash-max-listpack-entries: 512, as redis-server 7.0 starts without a config file (the sample redis.conf says 128).</summary>
    public long HashMaxListpackEntries { get; set; } = 512;

    public long HashMaxListpackValue { get; set; } = 64;

    public long SetMaxIntsetEntries { get; set; } = 512;

    /// <summary>CLIENT TRACKING: the most keys remembered for the connections that read them (0: no limit); Redis's default.</summary>
    public long TrackingTableMaxKeys { get; set; } = 1_000_000;

    public long ZsetMaxListpackEntries { get; set; } = 128;

    /// <summary>Redis stream-node-max-bytes: a stream node takes no entry past this many bytes of Redis's listpack (0: 1 GiB).</summary>
    public long StreamNodeMaxBytes { get; set; } = 4096;

    /// <summary>Redis stream-node-max-entries: a stream node takes at most this many entries, deleted ones included (0: no limit).</summary>
    public long StreamNodeMaxEntries { get; set; } = 100;

    public long ZsetMaxListpackValue { get; set; } = 64;

    public int ListMaxListpackSize { get; set; } = -2;

    public int ListCompressDepth { get; set; }

    public long HllSparseMaxBytes { get; set; } = 3000;

    public bool LatencyTracking { get; set; } = true;

    /// <summary>The percentiles INFO latencystats reports, in order.</summary>
    public IReadOnlyList<double> LatencyTrackingPercentiles { get; private set; } = [50, 99, 99.9];

    /// <summary>A percentile as Redis prints it: "%f" with trailing zeros (and a trailing dot) trimmed.</summary>
    public static string FormatPercentile(double percentile) =>
        percentile.ToString("F6", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');

    private string? SetLatencyPercentiles(string value)
    {
        List<double> percentiles = [];
        foreach (string word in value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!SortedSets.ScoreText.TryParse(System.Text.Encoding.Latin1.GetBytes(word), out double percentile))
            {
                return "Invalid latency-tracking-info-percentiles parameters";
            }

            if (percentile < 0 || percentile > 100)
            {
                return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
            }

            percentiles.Add(percentile);
        }

        LatencyTrackingPercentiles = percentiles;
        return null;
    }

    public OutputBufferLimit NormalOutputBufferLimit { get; set; }

    public OutputBufferLimit ReplicaOutputBufferLimit { get; set; } = new(256L << 20, 64L << 20, 60);

    public OutputBufferLimit PubSubOutputBufferLimit { get; set; } = new(32L << 20, 8L << 20, 60);

    private string FormatOutputBufferLimits()
    {
        static string Format(string name, OutputBufferLimit limit) =>
            string.Create(CultureInfo.InvariantCulture, $"{name} {limit.HardBytes} {limit.SoftBytes} {limit.SoftSeconds}");

        return $"{Format("normal", NormalOutputBufferLimit)} {Format("slave", ReplicaOutputBufferLimit)} {Format("pubsub", PubSubOutputBufferLimit)}";
    }

    // Redis setConfigClientOutputBufferLimitOption: groups of class, hard, soft, seconds, all checked before any applies.
    private string? SetOutputBufferLimits(string value)
    {
        string[] words = value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length % 4 != 0)
        {
            return "Wrong number of arguments in buffer limit configuration.";
        }

        List<(string Class, OutputBufferLimit Limit)> limits = [];
        for (int i = 0; i < words.Length; i += 4)
        {
            string? kind = words[i].ToLowerInvariant() switch
            {
                "normal" => "normal",
                "slave" or "replica" => "replica",
                "pubsub" => "pubsub",
                _ => null,
            };
            if (kind is null)
            {
                return "Invalid client class specified in buffer limit configuration.";
            }

            if (!TryParseSize(words[i + 1], out long hard) || !TryParseSize(words[i + 2], out long soft)
                || !long.TryParse(words[i + 3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds) || seconds < 0)
            {
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            }

            limits.Add((kind, new OutputBufferLimit(hard, soft, seconds)));
        }

        foreach ((string kind, OutputBufferLimit limit) in limits)
        {
            switch (kind)
            {
                case "normal": NormalOutputBufferLimit = limit; break;
                case "replica": ReplicaOutputBufferLimit = limit; break;
                default: PubSubOutputBufferLimit = limit; break;
            }
        }

        return null;
    }

    public int Port { get; set; } = 6379;
    public string Bind { get; set; } = "127.0.0.1";
    public string Directory { get; set; } = "./data";
    public long MemoryBytes { get; set; } = 1L << 30;
    public long IndexBytes { get; set; }
    public long SegmentBytes { get; set; } = 1L << 30;

    /// <summary>Free bytes kept on the data directory's file system (writes are refused below them); by default the memory budget plus 64 MiB.</summary>
    public long DiskReserveBytes
    {
        get => _diskReserveBytes ?? Storage.StoreOptions.DefaultDiskReserveBytes(MemoryBytes);
        set => _diskReserveBytes = value;
    }

    public int Databases { get; set; } = 16;
    public int MaxClients { get; set; } = 10000;
    public int IdleTimeoutSeconds { get; set; }
    public long ProtoMaxBulkLength { get; set; } = 512L << 20;
    public long ClientQueryBufferLimit { get; set; } = 1L << 30;
    public long SlowlogSlowerThanMicroseconds { get; set; } = 10000;
    public int SlowlogMaxLength { get; set; } = 128;
    public string LogLevel { get; set; } = "notice";
    public string Save { get; set; } = "";
    public string AppendOnly { get; } = "yes";

    /// <summary>always (reply after the group commit), everysec, or no.</summary>
    public string AppendFsync { get; set; } = "always";

    /// <summary><see cref="AppendFsync"/> as the store's policy.</summary>
    public FsyncPolicy FsyncPolicy => FsyncPolicyNames.FromRedisName(AppendFsync);

    /// <summary>
    /// Raised with a parameter's name after CONFIG SET changed it (also when a refused multi-parameter SET puts it back),
    /// for settings that must be passed on to a running part of the server.
    /// </summary>
    public event Action<string>? Changed;

    public int CheckpointIntervalSeconds { get; set; } = 300;
    public long CheckpointWalBytes { get; set; } = 256L << 20;

    /// <summary>yes: a record read from disk for the second time within a short window is copied back to the log's tail (docs/storage.md).</summary>
    public string ReadCache { get; set; } = "yes";

    /// <summary>uring: records on disk are read through io_uring with O_DIRECT; faster: through FASTER's device and the OS page cache.</summary>
    public string ColdReadIo { get; set; } = "uring";

    /// <summary>Seconds between checks whether to compact the log (0 = never).</summary>
    public int CompactionIntervalSeconds { get; set; } = 60;

    /// <summary>Compact once this percentage of the log is estimated dead (40: the log is 1.67 times the live data).</summary>
    public int CompactionDeadPercent { get; set; } = 40;

    /// <summary>The config file the server was started with, if any (CONFIG REWRITE writes it).</summary>
    public string? ConfigFile { get; set; }

    public IEnumerable<string> Names => _parameters.Keys;

    /// <summary>
    /// Reads <c>durable-server [file] [--name value ...]</c>. Throws <see cref="ConfigException"/> with a message for the operator.
    /// </summary>
    public static ServerConfig FromCommandLine(string[] args)
    {
        ServerConfig config = new();
        int i = 0;
        if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            config.ConfigFile = Path.GetFullPath(args[0]);
            if (!File.Exists(config.ConfigFile))
            {
                throw new ConfigException($"config file '{args[0]}' does not exist");
            }

            config.LoadFile(config.ConfigFile);
            i = 1;
        }

        for (; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || args[i].Length == 2)
            {
                throw new ConfigException($"unexpected argument '{args[i]}': options look like --port 6380");
            }

            string name = args[i][2..];
            if (i + 1 >= args.Length)
            {
                throw new ConfigException($"option --{name} needs a value");
            }

            config.SetOrThrow(name, args[++i], $"option --{name}");
        }

        return config;
    }

    private void LoadFile(string path)
    {
        int lineNumber = 0;
        foreach (string raw in File.ReadAllLines(path))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int space = line.IndexOfAny([' ', '\t']);
            string name = space < 0 ? line : line[..space];
            string value = space < 0 ? "" : line[(space + 1)..].Trim().Trim('"');
            SetOrThrow(name, value, $"{Path.GetFileName(path)} line {lineNumber}");
        }
    }

    private void SetOrThrow(string name, string value, string where)
    {
        if (name.Equals("user", StringComparison.OrdinalIgnoreCase))
        {
            Users.Add(value);
            return;
        }

        if (!_parameters.TryGetValue(name, out ConfigParameter? parameter))
        {
            throw new ConfigException($"{where}: unknown option '{name}'");
        }

        string? error = parameter.Set(value);
        if (error is not null)
        {
            throw new ConfigException($"{where}: invalid value '{value}' for '{name}': {error}");
        }
    }

    /// <summary>CONFIG SET of one parameter; returns null or the reason it was refused.</summary>
    public string? TrySet(string name, string value)
    {
        if (!_parameters.TryGetValue(name, out ConfigParameter? parameter))
        {
            return "Unknown option or number of arguments for CONFIG SET - '" + name + "'";
        }

        if (!parameter.Mutable)
        {
            return "can't set immutable config";
        }

        string? error = parameter.Set(value);
        if (error is null)
        {
            Changed?.Invoke(parameter.Name);
        }

        return error;
    }

    public bool Exists(string name) => _parameters.ContainsKey(name);

    /// <summary>False for parameters fixed at startup (port, dir...): CONFIG SET refuses them.</summary>
    public bool IsMutable(string name) => _parameters[name].Mutable;

    /// <summary>
    /// CONFIG REWRITE: rewrites <see cref="ConfigFile"/> as Redis does. Lines of known parameters get the current value
    /// (repeats of a parameter are dropped), comments and unknown lines stay, and parameters not in the file whose value
    /// differs from the default are appended after a "# Generated by CONFIG REWRITE" line. Written to a temporary file
    /// and synced, moved over the original, then the directory synced (as Redis 7 does), so a crash never leaves half a
    /// file, nor a power cut the old one.
    /// </summary>
    public void Rewrite()
    {
        string path = ConfigFile ?? throw new InvalidOperationException("no config file");
        ServerConfig defaults = new();
        List<string> lines = [.. File.ReadAllLines(path)];
        HashSet<string> written = new(StringComparer.OrdinalIgnoreCase);
        List<string> output = [];
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            int space = line.IndexOfAny([' ', '\t']);
            string name = space < 0 ? line : line[..space];
            if (name.Equals("user", StringComparison.OrdinalIgnoreCase))
            {
                // Redis rewriteConfigUserOption: the users replace the first user line (none when an ACL file holds them).
                if (written.Add("user") && AclFile.Length == 0)
                {
                    output.AddRange(UserLines?.Invoke() ?? []);
                }
            }
            else if (line.Length == 0 || line[0] == '#' || !_parameters.TryGetValue(name, out ConfigParameter? parameter))
            {
                output.Add(raw);
            }
            else if (written.Add(name))
            {
                output.Add(FormatLine(parameter));
            }
        }

        bool marked = output.Contains("# Generated by CONFIG REWRITE");
        foreach (ConfigParameter parameter in _parameters.Values)
        {
            if (!written.Contains(parameter.Name) && parameter.Get() != defaults.Get(parameter.Name))
            {
                if (!marked)
                {
                    output.Add("# Generated by CONFIG REWRITE");
                    marked = true;
                }

                output.Add(FormatLine(parameter));
            }
        }

        if (!written.Contains("user") && AclFile.Length == 0)
        {
            foreach (string user in UserLines?.Invoke() ?? [])
            {
                if (!marked)
                {
                    output.Add("# Generated by CONFIG REWRITE");
                    marked = true;
                }

                output.Add(user);
            }
        }

        DirectorySync.ReplaceFile(path, Encoding.UTF8.GetBytes(string.Concat(output.Select(line => line + "\n"))));
    }

    private static string FormatLine(ConfigParameter parameter)
    {
        string value = parameter.Get();
        return parameter.Name + " " + (value.Length == 0 ? "\"\"" : value);
    }

    /// <summary>The parameters whose names match a glob, as (name, value) in the order registered.</summary>
    public IEnumerable<(string Name, string Value)> Match(string pattern)
    {
        byte[] glob = Encoding.UTF8.GetBytes(pattern);
        foreach (ConfigParameter parameter in _parameters.Values)
        {
            if (GlobPattern.IsMatch(glob, Encoding.UTF8.GetBytes(parameter.Name), ignoreCase: true))
            {
                yield return (parameter.Name, parameter.Get());
            }
        }
    }

    public string Get(string name) => _parameters[name].Get();

    /// <summary>Redis memtoull: a number with an optional k/kb/m/mb/g/gb suffix (k = 1000, kb = 1024), case-insensitive.</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        string t = text.Trim().ToLowerInvariant();
        (string suffix, long unit)[] units = [("gb", 1L << 30), ("mb", 1L << 20), ("kb", 1L << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)];
        long multiplier = 1;
        foreach ((string suffix, long unit) in units)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                t = t[..^suffix.Length];
                multiplier = unit;
                break;
            }
        }

        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long number) || number > long.MaxValue / multiplier)
        {
            return false;
        }

        bytes = number * multiplier;
        return true;
    }

    private void AddInt(string name, Func<int> get, Action<int> set, int min, int max, bool mutable) =>
        _parameters.Add(name, new ConfigParameter(name, () => get().ToString(CultureInfo.InvariantCulture), v =>
        {
            if (!int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n))
            {
                return "argument couldn't be parsed into an integer";
            }

            if (n < min || n > max)
            {
                return $"argument must be between {min} and {max} inclusive";
            }

            set(n);
            return null;
        }, mutable));

    private void AddLong(string name, Func<long> get, Action<long> set, long min, long max, bool mutable) =>
        _parameters.Add(name, new ConfigParameter(name, () => get().ToString(CultureInfo.InvariantCulture), v =>
        {
            if (!long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
            {
                return "argument couldn't be parsed into an integer";
            }

            if (n < min || n > max)
            {
                return $"argument must be between {min} and {max} inclusive";
            }

            set(n);
            return null;
        }, mutable));

    private void AddSize(string name, Func<long> get, Action<long> set, long min, bool mutable) =>
        _parameters.Add(name, new ConfigParameter(name, () => get().ToString(CultureInfo.InvariantCulture), v =>
        {
            if (!TryParseSize(v, out long n))
            {
                return "argument must be a memory value";
            }

            if (n < min)
            {
                return $"argument must be at least {min} bytes";
            }

            set(n);
            return null;
        }, mutable));

    private void AddString(string name, Func<string> get, Action<string> set, bool mutable) =>
        _parameters.Add(name, new ConfigParameter(name, get, v =>
        {
            set(v);
            return null;
        }, mutable));

    // Redis's boolean parameters: yes or no, in any case.
    private void AddBool(string name, Func<bool> get, Action<bool> set) =>
        _parameters.Add(name, new ConfigParameter(name, () => get() ? "yes" : "no", v =>
        {
            switch (v.ToLowerInvariant())
            {
                case "yes":
                    set(true);
                    return null;
                case "no":
                    set(false);
                    return null;
                default:
                    return NotYesOrNo;
            }
        }, Mutable: true));

    private void AddEnum(string name, Func<string> get, Action<string> set, string[] allowed, bool mutable) =>
        _parameters.Add(name, new ConfigParameter(name, get, v =>
        {
            string lower = v.ToLowerInvariant();
            if (!allowed.Contains(lower))
            {
                return "argument(s) must be one of the following: " + string.Join(", ", allowed);
            }

            set(lower);
            return null;
        }, mutable));

    private sealed record ConfigParameter(string Name, Func<string> Get, Func<string, string?> Set, bool Mutable);
}
