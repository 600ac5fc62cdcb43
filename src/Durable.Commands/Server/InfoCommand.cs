using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Durable.Protocol;
using Durable.Storage;
using Durable.Storage.Persistence;

namespace Durable.Commands.Server;

/// <summary>
/// INFO [section ...] with Redis 7.0's section names, field names and layout (<c># Section</c> headers, CRLF lines,
/// a blank line between sections). Fields Durable has no equivalent for keep Redis's neutral value (0, -1, ok);
/// Durable-specific facts are added as durable_* fields.
/// </summary>
internal static class InfoCommand
{
    private static readonly string[] s_order =
        ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"];

    private static readonly string[] s_default =
        ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"];

    public static void Register(CommandTable table) =>
        table.Add("INFO", -1, CommandFlags.Loading | CommandFlags.Stale, Info, categories: ["slow", "dangerous"]);

    private static void Info(CommandContext context, RespArgs args)
    {
        HashSet<string> sections = new(StringComparer.Ordinal);
        if (args.Count == 1)
        {
            sections.UnionWith(s_default);
        }

        for (int i = 1; i < args.Count; i++)
        {
            string name = Encoding.Latin1.GetString(args[i]).ToLowerInvariant();
            switch (name)
            {
                case "default":
                    sections.UnionWith(s_default);
                    break;
                case "all" or "everything":
                    sections.UnionWith(s_order);
                    break;
                default:
                    sections.Add(name);
                    break;
            }
        }

        string text = Build(context.Server, sections);
        RespWriter.WriteVerbatim(context.Reply, Encoding.UTF8.GetBytes(text), context.Protocol);
    }

    /// <summary>The INFO text for the given lower-case section names, in Redis's section order.</summary>
    public static string Build(ServerState server, IReadOnlySet<string> sections)
    {
        StringBuilder text = new();
        foreach (string section in s_order)
        {
            if (!sections.Contains(section))
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append("\r\n");
            }

            switch (section)
            {
                case "server": AppendServer(text, server); break;
                case "clients": AppendClients(text, server); break;
                case "memory": AppendMemory(text, server); break;
                case "persistence": AppendPersistence(text, server); break;
                case "stats": AppendStats(text, server); break;
                case "replication": AppendReplication(text, server); break;
                case "cpu": AppendCpu(text); break;
                case "modules": text.Append("# Modules\r\n"); break;
                case "commandstats": AppendCommandStats(text, server); break;
                case "errorstats": AppendErrorStats(text, server); break;
                case "latencystats": AppendLatencyStats(text, server); break;
                case "cluster": text.Append("# Cluster\r\ncluster_enabled:0\r\n"); break;
                default: AppendKeyspace(text, server); break;
            }
        }

        return text.ToString();
    }

    private static void Field(StringBuilder text, string name, object value) =>
        text.Append(name).Append(':').Append(CultureInfo.InvariantCulture, $"{value}").Append("\r\n");

    private static void AppendServer(StringBuilder text, ServerState server)
    {
        DateTimeOffset now = server.Time.GetUtcNow();
        long uptime = (now.ToUnixTimeMilliseconds() - server.StartedAtMs) / 1000;
        text.Append("# Server\r\n");
        Field(text, "redis_version", ServerState.Version);
        Field(text, "redis_git_sha1", "00000000");
        Field(text, "redis_git_dirty", 0);
        Field(text, "redis_build_id", "0");
        Field(text, "redis_mode", "standalone");
        Field(text, "os", $"{OperatingSystemName()} {Environment.OSVersion.Version} {MachineName()}");
        Field(text, "arch_bits", Environment.Is64BitProcess ? 64 : 32);
        Field(text, "monotonic_clock", "Stopwatch");
        Field(text, "multiplexing_api", OperatingSystem.IsLinux() ? "epoll" : OperatingSystem.IsWindows() ? "iocp" : "kqueue");
        Field(text, "atomicvar_api", "interlocked");
        Field(text, "gcc_version", "0.0.0");
        Field(text, "process_id", Environment.ProcessId);
        Field(text, "process_supervised", "no");
        Field(text, "run_id", server.RunId);
        Field(text, "tcp_port", server.BoundPort);
        Field(text, "server_time_usec", (now - DateTimeOffset.UnixEpoch).Ticks / 10);
        Field(text, "uptime_in_seconds", uptime);
        Field(text, "uptime_in_days", uptime / 86400);
        Field(text, "hz", 10);
        Field(text, "configured_hz", 10);
        Field(text, "lru_clock", now.ToUnixTimeSeconds() & ((1 << 24) - 1));
        Field(text, "executable", Environment.ProcessPath ?? "");
        Field(text, "config_file", server.Config.ConfigFile ?? "");
        Field(text, "io_threads_active", 0);
        Field(text, "durable_version", typeof(InfoCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
    }

    private static string OperatingSystemName() =>
        OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "Darwin" : OperatingSystem.IsWindows() ? "Windows" : RuntimeInformation.OSDescription;

    private static string MachineName() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        Architecture.X86 => "i686",
        Architecture other => other.ToString().ToLowerInvariant(),
    };

    private static void AppendClients(StringBuilder text, ServerState server)
    {
        text.Append("# Clients\r\n");
        Field(text, "connected_clients", server.Clients.Count);
        Field(text, "cluster_connections", 0);
        Field(text, "maxclients", server.Config.MaxClients);
        Field(text, "client_recent_max_input_buffer", 0);
        Field(text, "client_recent_max_output_buffer", 0);
        Field(text, "blocked_clients", server.Clients.All.Count(c => c.IsBlocked));
        Field(text, "tracking_clients", server.Tracking.Clients);
        Field(text, "clients_in_timeout_table", 0);
    }

    // The parts of used_memory (the managed heap, see MemoryOverview) are reported as durable_*_bytes, and
    // durable_heap_other_bytes is the rest (connections, operations, and garbage not collected yet).
    private static void AppendMemory(StringBuilder text, ServerState server)
    {
        MemoryOverview memory = MemoryOverview.Read(server);
        StoreStatistics store = memory.Store;
        long used = memory.Used;
        long parts = store.LogMemoryBytes + store.IndexBytes + store.IndexOverflowBytes + store.ColdReadTableBytes + store.WalBufferBytes;
        long peak = memory.Peak;
        long rss = memory.Rss;
        long total = memory.Gc.TotalAvailableMemoryBytes;
        long dataset = memory.Dataset;
        GCMemoryInfo gc = memory.Gc;
        text.Append("# Memory\r\n");
        Field(text, "used_memory", used);
        Field(text, "used_memory_human", Human(used));
        Field(text, "used_memory_rss", rss);
        Field(text, "used_memory_rss_human", Human(rss));
        Field(text, "used_memory_peak", peak);
        Field(text, "used_memory_peak_human", Human(peak));
        Field(text, "used_memory_peak_perc", Percent(used, peak));
        Field(text, "used_memory_overhead", memory.Overhead);
        Field(text, "used_memory_startup", 0);
        Field(text, "used_memory_dataset", dataset);
        Field(text, "used_memory_dataset_perc", Percent(dataset, used));
        Field(text, "total_system_memory", total);
        Field(text, "total_system_memory_human", Human(total));
        long lua = memory.LuaVm;
        long scripts = memory.CachedScripts;
        Scripting.FunctionLibraries? functions = server.FunctionsIfCreated;
        long functionsVm = memory.FunctionsVm;
        long functionsCode = memory.FunctionsCode;
        Field(text, "used_memory_lua", lua);
        Field(text, "used_memory_vm_eval", lua);
        Field(text, "used_memory_lua_human", Human(lua));
        Field(text, "used_memory_scripts_eval", scripts);
        Field(text, "number_of_cached_scripts", server.ScriptsIfCreated?.CachedScripts ?? 0);
        Field(text, "number_of_functions", functions?.FunctionCount ?? 0);
        Field(text, "number_of_libraries", functions?.LibraryCount ?? 0);
        Field(text, "used_memory_vm_functions", functionsVm);
        Field(text, "used_memory_vm_total", lua + functionsVm);
        Field(text, "used_memory_vm_total_human", Human(lua + functionsVm));
        Field(text, "used_memory_functions", functionsCode);
        Field(text, "used_memory_scripts", scripts + functionsCode);
        Field(text, "used_memory_scripts_human", Human(scripts + functionsCode));
        Field(text, "maxmemory", 0);
        Field(text, "maxmemory_human", "0B");
        Field(text, "maxmemory_policy", "noeviction");
        Field(text, "mem_fragmentation_ratio", (used == 0 ? 0 : (double)rss / used).ToString("F2", CultureInfo.InvariantCulture));
        Field(text, "mem_allocator", "dotnet-gc");
        // Large collections dropped by UNLINK (or under the lazyfree settings) whose parts the store's reaper still deletes.
        Field(text, "lazyfree_pending_objects", store.LazyFreePendingObjects);
        Field(text, "lazyfreed_objects", store.LazyFreedObjects);
        Field(text, "durable_memory_budget", server.Config.MemoryBytes);
        Field(text, "durable_gc_heap_bytes", used);
        Field(text, "durable_log_memory_bytes", store.LogMemoryBytes);
        Field(text, "durable_log_memory_limit_bytes", store.LogMemoryLimitBytes);
        Field(text, "durable_index_bytes", store.IndexBytes);
        Field(text, "durable_index_overflow_bytes", store.IndexOverflowBytes);
        Field(text, "durable_wal_buffer_bytes", store.WalBufferBytes);
        Field(text, "durable_heap_other_bytes", Math.Max(0, used - parts));
        Field(text, "durable_gc_committed_bytes", gc.TotalCommittedBytes);
        Field(text, "durable_gc_fragmented_bytes", gc.FragmentedBytes);
        Field(text, "durable_gc_collections", GC.CollectionCount(0));
        Field(text, "durable_gc_full_collections", GC.CollectionCount(2));
        Field(text, "durable_gc_pause_total_us", (long)GC.GetTotalPauseDuration().TotalMicroseconds);
        Field(text, "durable_gc_last_full_pause_us", LastFullBlockingPauseMicroseconds());
        Field(text, "durable_gc_allocated_bytes", GC.GetTotalAllocatedBytes());
        Field(text, "durable_log_begin_address", store.LogBeginAddress);
        Field(text, "durable_log_head_address", store.LogHeadAddress);
        Field(text, "durable_log_tail_address", store.LogTailAddress);
        Field(text, "durable_pending_reads", store.PendingReads);
        Field(text, "durable_cold_read_io", store.ColdReadIo);
        Field(text, "durable_direct_reads", store.DirectReads);
        Field(text, "durable_direct_read_fallbacks", store.DirectReadFallbacks);
        Field(text, "durable_read_copies", store.ReadCopies);
        Field(text, "durable_abandoned_records_repaired", store.AbandonedAllocationsRepaired);
        Field(text, "durable_flushed_allocation_retries", store.FlushedAllocationRetries);
        Field(text, "durable_warm_reads", store.WarmReads);
        Field(text, "durable_log_disk_bytes", store.LogDiskBytes);
        Field(text, "durable_cold_read_table_bytes", store.ColdReadTableBytes);
        Field(text, "durable_lazyfree_pending_parts", store.LazyFreePendingParts);
        Field(text, "durable_lazyfree_pending_databases", store.LazyFreePendingDatabases);
        Field(text, "durable_records", store.Records);
    }

    // How long the last blocking full collection stopped every thread (the GarbageLimiter forces such collections when
    // the old generations grow); 0 before the first.
    private static long LastFullBlockingPauseMicroseconds()
    {
        GCMemoryInfo full = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        return full.Index == 0 ? 0 : (long)full.PauseDurations[0].TotalMicroseconds;
    }

    private static string Percent(long part, long whole) =>
        (whole == 0 ? 0 : 100.0 * part / whole).ToString("F2", CultureInfo.InvariantCulture) + "%";

    // Redis bytesToHuman.
    private static string Human(long bytes)
    {
        double value = bytes;
        string[] units = ["K", "M", "G", "T", "P"];
        if (value < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        }

        int unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString("F2", CultureInfo.InvariantCulture) + units[unit];
    }

    // Durable persists with checkpoints plus a write-ahead log, not RDB snapshots and an AOF. The rdb_* fields describe
    // checkpoints (rdb_last_save_time: the last one, or the start time before the first; rdb_bgsave_in_progress: one is
    // running; rdb_last_bgsave_status: whether the last one succeeded), the aof_* fields the WAL (aof_enabled is always 1,
    // aof_last_write_status is err while commits fail). durable_* fields add what Redis has no name for.
    private static void AppendPersistence(StringBuilder text, ServerState server)
    {
        StoreStatistics store = server.Store.GetStatistics();
        long lastSave = store.LastCheckpointUnixSeconds > 0 ? store.LastCheckpointUnixSeconds : server.StartedAtMs / 1000;
        text.Append("# Persistence\r\n");
        Field(text, "loading", server.IsLoading ? 1 : 0);
        if (server.IsLoading)
        {
            Field(text, "loading_start_time", server.LoadingStartedUnixSeconds);
        }

        Field(text, "async_loading", 0);
        Field(text, "current_cow_peak", 0);
        Field(text, "current_cow_size", 0);
        Field(text, "current_cow_size_age", 0);
        Field(text, "current_fork_perc", "0.00");
        Field(text, "current_save_keys_processed", 0);
        Field(text, "current_save_keys_total", 0);
        Field(text, "rdb_changes_since_last_save", 0);
        Field(text, "rdb_bgsave_in_progress", store.CheckpointInProgress ? 1 : 0);
        Field(text, "rdb_last_save_time", lastSave);
        Field(text, "rdb_last_bgsave_status", store.LastCheckpointFailed ? "err" : "ok");
        Field(text, "rdb_last_bgsave_time_sec", store.CheckpointsTaken > 0 ? store.LastCheckpointMilliseconds / 1000 : -1);
        Field(text, "rdb_current_bgsave_time_sec", -1);
        Field(text, "rdb_saves", store.CheckpointsTaken);
        Field(text, "rdb_last_cow_size", 0);
        Field(text, "rdb_last_load_keys_expired", 0);
        Field(text, "rdb_last_load_keys_loaded", 0);
        Field(text, "aof_enabled", 1);
        Field(text, "aof_rewrite_in_progress", 0);
        Field(text, "aof_rewrite_scheduled", 0);
        Field(text, "aof_last_rewrite_time_sec", -1);
        Field(text, "aof_current_rewrite_time_sec", -1);
        Field(text, "aof_last_bgrewrite_status", "ok");
        Field(text, "aof_rewrites", 0);
        Field(text, "aof_rewrites_consecutive_failures", 0);
        Field(text, "aof_last_write_status", store.WalFailure is null ? "ok" : "err");
        Field(text, "aof_last_cow_size", 0);
        Field(text, "module_fork_in_progress", 0);
        Field(text, "module_fork_last_cow_size", 0);
        Field(text, "aof_current_size", store.WalBytes);
        Field(text, "aof_delayed_fsync", store.WalDelayedReplies);
        Field(text, "aof_last_fsync_time", store.WalLastCommitUnixMs / 1000);
        Field(text, "durable_checkpoints", store.CheckpointsTaken);
        Field(text, "durable_last_checkpoint_time", store.LastCheckpointUnixSeconds);
        Field(text, "durable_last_checkpoint_ms", store.LastCheckpointMilliseconds);
        Field(text, "durable_appendfsync", store.FsyncPolicy.RedisName());
        Field(text, "durable_wal_bytes", store.WalBytes);
        Field(text, "durable_wal_commits", store.WalCommits);
        Field(text, "durable_wal_direct_io", store.WalDirectIO ? 1 : 0);
        Field(text, "durable_wal_direct_writes", store.WalDirectWrites);
        Field(text, "durable_wal_last_commit_time_ms", store.WalLastCommitUnixMs);
        Field(text, "durable_wal_error", (store.WalFailure ?? "").Replace('\r', ' ').Replace('\n', ' '));
        Field(text, "durable_wal_faults", store.WalFaults);
        Field(text, "durable_wal_resumes", store.WalResumes);
        Field(text, "durable_disk_free_bytes", store.DiskFreeBytes);
        Field(text, "durable_disk_reserve_bytes", store.DiskReserveBytes);
        Field(text, "durable_disk_full_refusals", store.DiskFullRefusals);
    }

    private static void AppendStats(StringBuilder text, ServerState server)
    {
        ServerStats stats = server.Stats;
        StoreStatistics store = server.Store.GetStatistics();
        text.Append("# Stats\r\n");
        Field(text, "total_connections_received", Volatile.Read(ref stats.TotalConnectionsReceived));
        Field(text, "total_commands_processed", Volatile.Read(ref stats.TotalCommandsProcessed));
        Field(text, "instantaneous_ops_per_sec", 0);
        Field(text, "total_net_input_bytes", Volatile.Read(ref stats.NetInputBytes));
        Field(text, "total_net_output_bytes", Volatile.Read(ref stats.NetOutputBytes));
        Field(text, "total_net_repl_input_bytes", 0);
        Field(text, "total_net_repl_output_bytes", 0);
        Field(text, "instantaneous_input_kbps", "0.00");
        Field(text, "instantaneous_output_kbps", "0.00");
        Field(text, "instantaneous_input_repl_kbps", "0.00");
        Field(text, "instantaneous_output_repl_kbps", "0.00");
        Field(text, "rejected_connections", Volatile.Read(ref stats.RejectedConnections));
        ReplicationFeed feed = server.ReplicationFeed;
        Field(text, "sync_full", Interlocked.Read(ref feed.FullSyncs));
        Field(text, "sync_partial_ok", Interlocked.Read(ref feed.PartialSyncsAccepted));
        Field(text, "sync_partial_err", Interlocked.Read(ref feed.PartialSyncsRefused));
        Field(text, "expired_keys", store.ExpiredKeys);
        Field(text, "expired_stale_perc", "0.00");
        Field(text, "expired_time_cap_reached_count", 0);
        Field(text, "expire_cycle_cpu_milliseconds", 0);
        Field(text, "evicted_keys", 0);
        Field(text, "evicted_clients", 0);
        Field(text, "total_eviction_exceeded_time", 0);
        Field(text, "current_eviction_exceeded_time", 0);
        Field(text, "keyspace_hits", Volatile.Read(ref stats.KeyspaceHits));
        Field(text, "keyspace_misses", Volatile.Read(ref stats.KeyspaceMisses));
        Field(text, "pubsub_channels", server.PubSub.ChannelCount);
        Field(text, "pubsub_patterns", server.PubSub.PatternCount);
        Field(text, "pubsubshard_channels", server.PubSub.ShardChannelCount);
        Field(text, "latest_fork_usec", 0);
        Field(text, "total_forks", 0);
        Field(text, "migrate_cached_sockets", 0);
        Field(text, "slave_expires_tracked_keys", 0);
        Field(text, "active_defrag_hits", 0);
        Field(text, "active_defrag_misses", 0);
        Field(text, "active_defrag_key_hits", 0);
        Field(text, "active_defrag_key_misses", 0);
        Field(text, "total_active_defrag_time", 0);
        Field(text, "current_active_defrag_time", 0);
        Field(text, "tracking_total_keys", server.Tracking.Keys);
        Field(text, "tracking_total_items", server.Tracking.Items);
        Field(text, "tracking_total_prefixes", server.Tracking.Prefixes);
        Field(text, "unexpected_error_replies", 0);
        Field(text, "total_error_replies", Volatile.Read(ref stats.TotalErrorReplies));
        Field(text, "dump_payload_sanitizations", 0);
        Field(text, "total_reads_processed", 0);
        Field(text, "total_writes_processed", 0);
        Field(text, "io_threaded_reads_processed", 0);
        Field(text, "io_threaded_writes_processed", 0);
        Field(text, "reply_buffer_shrinks", 0);
        Field(text, "reply_buffer_expands", 0);
        Field(text, "durable_compactions", store.Compactions);
        Field(text, "durable_compactions_abandoned", store.CompactionsAbandoned);
        Field(text, "durable_compacted_bytes", store.CompactedBytes);
        Field(text, "durable_lock_waits", Volatile.Read(ref stats.LockWaits));
        Field(text, "durable_batches_on_socket_threads", Volatile.Read(ref stats.BatchesOnSocketThreads));
        Field(text, "durable_batches_moved_to_pool", Volatile.Read(ref stats.BatchesMovedToPool));
        Field(text, "durable_disk_waits_on_socket_threads", Volatile.Read(ref stats.DiskWaitsOnSocketThreads));
    }

    private static void AppendReplication(StringBuilder text, ServerState server)
    {
        text.Append("# Replication\r\n");
        ReplicationState replication = server.Replication;
        string? masterHost = replication.MasterHost;
        long offset = replication.Offset;
        Field(text, "role", masterHost is null ? "master" : "slave");
        if (masterHost is not null)
        {
            // Redis's replicationInfo for a replica; it has no backlog to serve others from.
            long now = server.Time.GetUtcNow().ToUnixTimeMilliseconds();
            bool up = replication.LinkState == ReplicaLinkState.Connected;
            long lastIo = replication.LastIoUnixMs;
            Field(text, "master_host", masterHost);
            Field(text, "master_port", replication.MasterPort);
            Field(text, "master_link_status", up ? "up" : "down");
            Field(text, "master_last_io_seconds_ago", up && lastIo > 0 ? (now - lastIo) / 1000 : -1);
            Field(text, "master_sync_in_progress", replication.LinkState == ReplicaLinkState.Sync ? 1 : 0);
            Field(text, "slave_read_repl_offset", offset);
            Field(text, "slave_repl_offset", offset);
            if (!up)
            {
                Field(text, "master_link_down_since_seconds", replication.LinkDownSinceUnixMs > 0 ? (now - replication.LinkDownSinceUnixMs) / 1000 : -1);
            }

            Field(text, "slave_priority", 100);
            Field(text, "slave_read_only", server.Config.ReplicaReadOnly ? 1 : 0);
            Field(text, "replica_announced", 1);
            Field(text, "durable_full_syncs", replication.FullSyncs);
            Field(text, "durable_partial_syncs", replication.PartialSyncs);
        }

        // The replicas of this server, as Redis lists them, and its own stream (a replica's own replicas follow the stream
        // it makes of what it applies, under its own replication ID).
        ReplicationFeed feed = server.ReplicationFeed;
        IReadOnlyList<AttachedReplica> replicas = feed.Replicas;
        long nowMs = server.Time.GetUtcNow().ToUnixTimeMilliseconds();
        Field(text, "connected_slaves", replicas.Count);
        for (int i = 0; i < replicas.Count; i++)
        {
            AttachedReplica replica = replicas[i];
            text.Append(CultureInfo.InvariantCulture, $"slave{i}:ip={ReplicationCommands.ReplicaAddress(replica.Client)},port={replica.Client.ReplicaListeningPort},state={replica.State},offset={Interlocked.Read(ref replica.AckOffset)},lag={(nowMs - Interlocked.Read(ref replica.AckUnixMs)) / 1000}\r\n");
        }

        (long firstByte, long history) = feed.Backlog;
        Field(text, "master_failover_state", "no-failover");
        Field(text, "master_replid", masterHost is null ? feed.ReplicationId : replication.MasterReplicationId ?? new string('0', 40));
        Field(text, "master_replid2", new string('0', 40));
        Field(text, "master_repl_offset", masterHost is null ? feed.Offset : offset);
        Field(text, "second_repl_offset", -1);
        Field(text, "repl_backlog_active", feed.Active ? 1 : 0);
        Field(text, "repl_backlog_size", Math.Max(server.Config.ReplBacklogSize, ReplicationFeed.MinimumBacklogBytes));
        Field(text, "repl_backlog_first_byte_offset", firstByte);
        Field(text, "repl_backlog_histlen", history);
    }

    private static void AppendCpu(StringBuilder text)
    {
        using Process process = Process.GetCurrentProcess();
        text.Append("# CPU\r\n");
        Field(text, "used_cpu_sys", Seconds(process.PrivilegedProcessorTime));
        Field(text, "used_cpu_user", Seconds(process.UserProcessorTime));
        Field(text, "used_cpu_sys_children", "0.000000");
        Field(text, "used_cpu_user_children", "0.000000");
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture);

    private static void AppendCommandStats(StringBuilder text, ServerState server)
    {
        text.Append("# Commandstats\r\n");
        foreach (CommandDefinition command in server.Commands.AllWithSubcommands)
        {
            long calls = command.Calls;
            if (calls == 0 && command.RejectedCalls == 0 && command.FailedCalls == 0)
            {
                continue;
            }

            long usec = command.Microseconds;
            string perCall = (calls == 0 ? 0 : (double)usec / calls).ToString("F2", CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture,
                $"cmdstat_{command.FullName}:calls={calls},usec={usec},usec_per_call={perCall},rejected_calls={command.RejectedCalls},failed_calls={command.FailedCalls}\r\n");
        }
    }

    private static void AppendErrorStats(StringBuilder text, ServerState server)
    {
        text.Append("# Errorstats\r\n");
        foreach (KeyValuePair<string, long> error in server.Stats.ErrorCounts)
        {
            text.Append(CultureInfo.InvariantCulture, $"errorstat_{error.Key}:count={error.Value}\r\n");
        }
    }

    // Redis fillPercentileDistributionLatencies: per command with a histogram, each configured percentile in
    // microseconds with three decimals.
    private static void AppendLatencyStats(StringBuilder text, ServerState server)
    {
        text.Append("# Latencystats\r\n");
        IReadOnlyList<double> percentiles = server.Config.LatencyTrackingPercentiles;
        foreach (CommandDefinition command in server.Commands.AllWithSubcommands)
        {
            if (command.Latencies is not { } histogram)
            {
                continue;
            }

            text.Append("latency_percentiles_usec_").Append(command.FullName).Append(':');
            for (int i = 0; i < percentiles.Count; i++)
            {
                text.Append(i > 0 ? "," : "").Append('p').Append(ServerConfig.FormatPercentile(percentiles[i])).Append('=')
                    .Append((histogram.ValueAtPercentile(percentiles[i]) / 1000.0).ToString("F3", CultureInfo.InvariantCulture));
            }

            text.Append("\r\n");
        }
    }

    // avg_ttl is 0: Durable does not sample TTLs the way Redis's expire cycle does.
    private static void AppendKeyspace(StringBuilder text, ServerState server)
    {
        text.Append("# Keyspace\r\n");
        for (int db = 0; db < server.Store.Databases; db++)
        {
            long keys = server.Store.KeyCount(db);
            if (keys > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"db{db}:keys={keys},expires={server.Store.ExpiringKeyCount(db)},avg_ttl=0\r\n");
            }
        }
    }
}
