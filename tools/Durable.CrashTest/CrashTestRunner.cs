using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Durable.CrashTest;

/// <summary>
/// Runs concurrent writers (SET of unique keys, each followed by a GET of an earlier one, INCR of per-client counters, an
/// APPEND to a per-client log string of over 4 KiB (logged as its change), a member added to a hash, a set, a sorted set and a list, and an operation on each churn key; and one more client
/// churning databases 1 and 2 with SWAPDB and FLUSHDB) against a server, SIGKILLs it at a random moment, restarts it on the same data, and checks
/// every acknowledged write: none lost, no increment applied twice, no value that no client sent, every collection's
/// length equal to what listing it returns. Repeats for <see cref="CrashTestOptions.Kills"/> rounds.
/// </summary>
internal sealed class CrashTestRunner(CrashTestOptions options)
{
    private readonly Random _random = new(options.Seed);

    /// <summary>How long the last start took from the server's first line of output until it served keyspace commands.</summary>
    private TimeSpan _lastStart = TimeSpan.FromSeconds(1);

    public async Task<CrashTestReport> RunAsync(CancellationToken cancellationToken)
    {
        CrashTestReport report = new();
        // After a power cut the server may refuse writes before it is killed: such a refusal ends a client's load.
        bool refusalsEndTheLoad = options.PowerLossImage is not null;
        Writer[] writers = [.. Enumerable.Range(0, options.Clients).Select(i => new Writer(i, refusalsEndTheLoad))];
        DatabaseWriter databases = new(refusalsEndTheLoad);
        Directory.CreateDirectory(options.DataDirectory);
        using PowerLossDisk? disk = options.PowerLossImage is { } image ? PowerLossDisk.Create(image, options.DataDirectory, options.PowerLossImageBytes, options.PowerLossFileSystem) : null;
        string directory = disk?.DataDirectory ?? options.DataDirectory;
        int port = options.Port > 0 ? options.Port : FreePort();
        RunningServer? server = await StartServerAsync(port, directory, cancellationToken);
        try
        {
            // A function library the clients call besides the script: it must be there after every restart.
            bool functions = LoadFunctionLibrary(port);
            foreach (Writer writer in writers)
            {
                writer.CallsFunction = functions;
            }

            int problemsShown = 0;
            for (int round = 1; round <= options.Kills; round++)
            {
                TimeSpan load = options.MinimumLoad + ((options.MaximumLoad - options.MinimumLoad) * _random.NextDouble());
                using CancellationTokenSource stop = new();
                // A thread each: the clients block on their sockets, and on the pool the last ones would wait for it to grow.
                Task[] running =
                [
                    .. writers.Select(w => OnOwnThread(() => w.Run(port, stop.Token))),
                    OnOwnThread(() => databases.Run(port, stop.Token)),
                ];
                await Task.Delay(load, cancellationToken);
                // A power cut first: from then on nothing the server writes lasts, though it may answer for a moment
                // more (with appendfsync always no write is acknowledged after the cut: its commit fails).
                disk?.CutPower();
                server.Process.Kill();
                await server.Process.WaitForExitAsync(cancellationToken);
                await stop.CancelAsync();
                await Task.WhenAll(running);
                server.Process.Dispose();
                server = null;
                disk?.Remount();

                if (_random.Next(100) < options.RecoveryKillPercent)
                {
                    await InterruptStartAsync(port, directory, disk, report, cancellationToken);
                }

                server = await StartServerAsync(port, directory, cancellationToken);
                // A churn key's closing PEXPIRE or a string churn key's SET PX acknowledged (or sent) right before the kill expires by then.
                await Task.Delay(ChurnKind.ExpireMilliseconds, cancellationToken);
                report.Rounds = round;
                try
                {
                    using RespConnection checker = new(port);
                    foreach (Writer writer in writers)
                    {
                        writer.Verify(checker, report, options.AllowedLossPerClient > 0);
                    }

                    databases.Verify(checker, report, options.AllowedLossPerClient > 0);
                    VerifyKeyCount(checker, report, round, [.. writers.SelectMany(w => w.PresentKeys)]);
                    if (functions && checker.Call("FUNCTION", "LIST", "LIBRARYNAME", FunctionLibrary) != "*1")
                    {
                        report.Problems.Add($"round {round}: the function library {FunctionLibrary}, loaded before the first kill, is gone");
                    }
                }
                catch (Exception exception) when (exception is IOException or SocketException)
                {
                    // The restarted server closed the connection: say whether it died, and what it printed last.
                    await Task.WhenAny(server.Process.WaitForExitAsync(cancellationToken), Task.Delay(1000, cancellationToken));
                    string state = server.Process.HasExited ? $"exited with code {server.Process.ExitCode}" : "still running";
                    throw new InvalidOperationException(
                        $"round {round}: the connection broke while checking the restarted server ({exception.Message}); the server {state}; its last output:\n{server.Tail()}",
                        exception);
                }

                report.AcknowledgedSets = writers.Sum(w => w.TotalAcknowledgedSets);
                report.AcknowledgedIncrements = writers.Sum(w => w.TotalAcknowledgedIncrements);
                report.AcknowledgedMembers = writers.Sum(w => w.TotalAcknowledgedMembers);
                report.AcknowledgedChurnOperations = writers.Sum(w => w.TotalAcknowledgedChurnOperations);
                report.Reads = writers.Sum(w => w.TotalReads);
                report.AcknowledgedDatabaseOperations = databases.TotalAcknowledged;
                await options.Progress.WriteLineAsync($"kill {round}/{options.Kills} after {load.TotalMilliseconds:F0} ms: {report}");
                foreach (string problem in report.Problems.Skip(problemsShown).Take(10))
                {
                    await options.Progress.WriteLineAsync("  " + problem);
                }

                problemsShown = report.Problems.Count;
            }

            await VerifyNoOrphanedRecordsAsync(port, report, cancellationToken);
        }
        catch (Exception exception) when (disk is not null && exception is InvalidOperationException or TimeoutException)
        {
            // A server that could not start (or broke while checked): keep what it left for a look, mounted with `mount -o loop`.
            disk.KeepImage = true;
            throw new InvalidOperationException($"{exception.Message}\n(the file system image is kept: {options.PowerLossImage})", exception);
        }
        finally
        {
            if (server is { Process.HasExited: false })
            {
                server.Process.Kill();
                await server.Process.WaitForExitAsync(CancellationToken.None);
            }

            server?.Process.Dispose();
        }

        return report;
    }

    private const string FunctionLibrary = "crashtool";

    /// <summary>
    /// Loads the clients' function library (the script's two increments as a function); false when the server has no
    /// functions (Redis before 7.0).
    /// </summary>
    private static bool LoadFunctionLibrary(int port)
    {
        using RespConnection connection = new(port);
        string code = $"#!lua name={FunctionLibrary}\nredis.register_function('crash_pair', function(keys) redis.call('incr', keys[1]); return redis.call('incr', keys[2]) end)";
        return connection.Call("FUNCTION", "LOAD", "REPLACE", code) == "$" + FunctionLibrary;
    }

    /// <summary>
    /// Durable only (its INFO has durable_records): after the last round, FLUSHALL ASYNC and two SWAPDBs (which write the
    /// database map) must leave exactly one record, that map, once the background reaper has worked off its queue and the
    /// detached databases. A part of a
    /// dropped collection whose reap a crash cut short and the restart lost would stay for ever, and count here.
    /// </summary>
    private static async Task VerifyNoOrphanedRecordsAsync(int port, CrashTestReport report, CancellationToken cancellationToken)
    {
        using RespConnection connection = new(port);
        if (InfoNumber(connection, "durable_records") is null)
        {
            return;
        }

        // ASYNC: the databases are detached and their records go through the reaper as well. The function libraries'
        // record goes with FUNCTION FLUSH.
        connection.Call("FUNCTION", "FLUSH");
        connection.Call("FLUSHALL", "ASYNC");
        connection.Call("SWAPDB", "0", "1");
        connection.Call("SWAPDB", "0", "1");
        Stopwatch waited = Stopwatch.StartNew();
        while (InfoNumber(connection, "lazyfree_pending_objects") != 0 || InfoNumber(connection, "durable_lazyfree_pending_databases") != 0)
        {
            if (waited.Elapsed > TimeSpan.FromMinutes(1))
            {
                report.OrphanedRecords = InfoNumber(connection, "durable_records") ?? 0;
                report.Problems.Add(
                    $"the reaper was not done a minute after the final FLUSHALL ASYNC ({InfoNumber(connection, "durable_lazyfree_pending_parts")} parts, " +
                    $"{InfoNumber(connection, "durable_lazyfree_pending_databases")} databases pending)");
                return;
            }

            await Task.Delay(50, cancellationToken);
        }

        // Each database must be empty: a key count off by some would show in the record count as well.
        long keys = 0;
        for (int db = 0; db < 16; db++)
        {
            connection.Call("SELECT", db.ToString(CultureInfo.InvariantCulture));
            long size = long.Parse(connection.Call("DBSIZE").AsSpan(1), CultureInfo.InvariantCulture);
            if (size != 0)
            {
                report.WrongKeyCounts++;
                report.Problems.Add($"after the final FLUSHALL, DBSIZE of database {db} is {size}");
            }

            keys += size;
        }

        long records = InfoNumber(connection, "durable_records") ?? 0;
        if (records - keys != 1)
        {
            report.OrphanedRecords = Math.Max(1, records - keys - 1);
            report.Problems.Add($"after the final FLUSHALL the store holds {records} records ({keys} counted as keys), where only the database map should be left");
        }
    }

    // A number field of INFO, or null when the server has none of that name.
    private static long? InfoNumber(RespConnection connection, string field)
    {
        string info = connection.Call("INFO", "memory");
        int at = info.IndexOf("\n" + field + ":", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        int start = at + field.Length + 2;
        int end = info.IndexOf('\r', start);
        return long.Parse(info.AsSpan(start, end - start), CultureInfo.InvariantCulture);
    }

    private static Task OnOwnThread(Action client) =>
        Task.Factory.StartNew(client, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>DBSIZE and a full SCAN must both count exactly the keys the writers found; the first few keys that differ are named.</summary>
    private static void VerifyKeyCount(RespConnection connection, CrashTestReport report, int round, HashSet<string> present)
    {
        HashSet<string> scanned = [];
        string cursor = "0";
        do
        {
            connection.Send("SCAN", cursor, "COUNT", "1000");
            cursor = connection.ReadScanPage(scanned);
        }
        while (cursor != "0");

        string dbsize = connection.Call("DBSIZE");
        if (dbsize != ":" + present.Count.ToString(CultureInfo.InvariantCulture) || !scanned.SetEquals(present))
        {
            report.WrongKeyCounts++;
            string notScanned = string.Join(' ', present.Except(scanned).Take(5));
            string notFound = string.Join(' ', scanned.Except(present).Take(5));
            report.Problems.Add($"round {round}: DBSIZE {dbsize[1..]}, SCAN {scanned.Count} distinct keys, the writers found {present.Count}" +
                (notScanned.Length > 0 ? $"; found but not scanned: {notScanned}" : string.Empty) +
                (notFound.Length > 0 ? $"; scanned but not found: {notFound}" : string.Empty));
        }
    }

    /// <summary>
    /// Starts the server and kills it (after a power cut, with one) at a random moment after its first line of output, up to
    /// how long the last start took from there to become ready, so mostly while it recovers; the next start must recover
    /// from whatever that left.
    /// </summary>
    private async Task InterruptStartAsync(int port, string directory, PowerLossDisk? disk, CrashTestReport report, CancellationToken cancellationToken)
    {
        RunningServer starting = Launch(port, directory);
        // From its first line on (the runtime has started, and recovery is about to), so that most kills land in recovery.
        await Task.WhenAny(starting.FirstLine, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
        TimeSpan delay = _lastStart * _random.NextDouble();
        await Task.Delay(delay, cancellationToken);
        if (starting.Process.HasExited)
        {
            // Before the kill, nothing should have stopped it: a start that fails by itself is a failed run.
            await starting.Process.WaitForExitAsync(cancellationToken);
            throw new InvalidOperationException($"server exited with code {starting.Process.ExitCode} while starting: {starting.Command}\n{starting.Tail()}");
        }

        disk?.CutPower();
        starting.Process.Kill();

        await starting.Process.WaitForExitAsync(cancellationToken);
        starting.Process.Dispose();
        disk?.Remount();
        report.InterruptedStarts++;
        // Where the start was: its last line names the step of recovery (checkpoint loaded, WAL replayed...) it had reached.
        await options.Progress.WriteLineAsync($"  start killed after {delay.TotalMilliseconds:F0} ms; its last line: {starting.LastLine}");
    }

    private async Task<RunningServer> StartServerAsync(int port, string directory, CancellationToken cancellationToken)
    {
        RunningServer server = Launch(port, directory);
        Process process = server.Process;
        Stopwatch watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException($"server exited with code {process.ExitCode}: {server.Command}\n{server.Tail()}");
            }

            try
            {
                // Ready once a keyspace command works: PING also answers while a server is still loading its data.
                using RespConnection probe = new(port);
                if (probe.Call("DBSIZE").StartsWith(':'))
                {
                    _lastStart = server.SinceFirstLine ?? watch.Elapsed;
                    return server;
                }

                await Task.Delay(50, cancellationToken);
            }
            catch (Exception exception) when (exception is SocketException or IOException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }

        process.Kill();
        throw new TimeoutException($"server did not finish loading within 120 s: {server.Command}\n{server.Tail()}");
    }

    /// <summary>Starts the server's process (not waiting for it to be ready), its output kept for reports.</summary>
    private RunningServer Launch(int port, string directory)
    {
        string command = options.ServerCommand
            .Replace("{port}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{dir}", directory, StringComparison.Ordinal);
        // exec, so that the SIGKILL hits the server itself rather than a shell.
        ProcessStartInfo start = new("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec " + command);
        Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start: " + command);
        RunningServer server = new(process, command);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>A started server and the last 40 lines it printed (for the reports of a server that failed).</summary>
    private sealed class RunningServer(Process process, string command)
    {
        private readonly Queue<string> _lastLines = new();
        private readonly TaskCompletionSource _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Stopwatch _sinceFirstLine = new();

        public Process Process { get; } = process;

        public string Command => command;

        public void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lastLines)
            {
                if (!_sinceFirstLine.IsRunning)
                {
                    _sinceFirstLine.Start();
                    _firstLine.TrySetResult();
                }

                _lastLines.Enqueue(line);
                if (_lastLines.Count > 40)
                {
                    _lastLines.Dequeue();
                }
            }
        }

        /// <summary>Completes when the server prints its first line.</summary>
        public Task FirstLine => _firstLine.Task;

        /// <summary>Time since the server's first line; null before it printed one.</summary>
        public TimeSpan? SinceFirstLine => _firstLine.Task.IsCompleted ? _sinceFirstLine.Elapsed : null;

        public string LastLine
        {
            get
            {
                lock (_lastLines)
                {
                    return _lastLines.LastOrDefault() ?? "(none)";
                }
            }
        }

        public string Tail()
        {
            lock (_lastLines)
            {
                return string.Join('\n', _lastLines);
            }
        }
    }

    private static int FreePort()
    {
        using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>One client's writes and what the server acknowledged of them.</summary>
    private sealed class Writer(int id, bool refusalsEndTheLoad)
    {
        /// <summary>Odd SET keys and every collection carry this TTL (10 days): it must survive every restart.</summary>
        private const string TimeToLiveSeconds = "864000";

        private readonly long[] _members = new long[CollectionKind.All.Count];

        /// <summary>Per collection type, the collections whose EXPIRE was sent but not acknowledged: their TTL may be missing.</summary>
        private readonly HashSet<long>[] _timeToLiveInFlight = [.. CollectionKind.All.Select(_ => new HashSet<long>())];

        // Keys the last Verify found (PresentKeys).
        private readonly HashSet<string> _present = [];

        // Per churn kind, the operations acknowledged, and whether the next one was sent without its reply.
        private readonly long[] _churned = new long[ChurnKind.All.Count];
        private readonly bool[] _churnInFlight = new bool[ChurnKind.All.Count];

        // Per churn kind, the Stopwatch timestamp before which its next operation waits (a closing PEXPIRE's key expiring).
        private readonly long[] _churnNotBefore = new long[ChurnKind.All.Count];

        // The string churn: operations acknowledged, whether the next one was sent without its reply, and per key the
        // Stopwatch timestamp before which its next write waits (its expiring SET's TTL running).
        private long _strings;
        private bool _stringInFlight;
        private readonly long[] _stringNotBefore = new long[StringChurn.Keys];

        // A churn operation answered otherwise than its sequence says (reported by the next Verify).
        private string? _churnAnomaly;

        // Reads of earlier acknowledged keys during the load that found them missing or altered (reported by the next Verify).
        private readonly List<string> _wrongReads = [];
        private long _wrongReadCount;
        private readonly Random _reads = new(id);

        private long _nextSet;
        private long _counter;
        private bool _incrementInFlight;

        // The APPEND log: appends acknowledged, and whether the next one was sent without its reply.
        private long _appends;
        private bool _appendInFlight;

        // A script that increments two counters: both must come back equal (a script is applied whole or not at all).
        // Every other time the function crash_pair does it instead, when the server has functions.
        private const string IncrementPair = "redis.call('incr', KEYS[1]); return redis.call('incr', KEYS[2])";

        public bool CallsFunction { get; set; }
        private long _scripted;
        private bool _scriptInFlight;

        public long TotalAcknowledgedSets { get; private set; }

        public long TotalAcknowledgedIncrements { get; private set; }

        public long TotalAcknowledgedMembers { get; private set; }

        public long TotalAcknowledgedChurnOperations { get; private set; }

        public long TotalReads { get; private set; }

        private string SetKey(long i) => $"crash:{id}:k{i}";

        private string CounterKey => $"crash:{id}:counter";

        private string LogKey => $"crash:{id}:log";

        private string ScriptKey(char which) => $"crash:{id}:script-{which}";

        // Appends stop here (about 60 KB), within the largest record of the smallest memory budget the tests use.
        private const long MostAppends = 10_000;

        // The log's first append makes it a long string at once; the others append their number.
        private static string LogEntry(long append) => append == 0 ? new string('L', 4096) : append.ToString(CultureInfo.InvariantCulture) + ";";

        /// <summary>How many appends made <paramref name="value"/> (0 for none), or -1 when no prefix of them does.</summary>
        private static long AppendsIn(string value)
        {
            if (value.Length == 0)
            {
                return -1;
            }

            string first = LogEntry(0);
            if (!value.StartsWith(first, StringComparison.Ordinal))
            {
                return -1;
            }

            long appends = 1;
            int at = first.Length;
            while (at < value.Length)
            {
                string entry = LogEntry(appends);
                if (string.CompareOrdinal(value, at, entry, 0, entry.Length) != 0)
                {
                    return -1;
                }

                at += entry.Length;
                appends++;
            }

            return appends;
        }

        public static string Value(int client, long i) => $"v:{client}:{i}:" + new string('x', 64);

        public void Run(int port, CancellationToken stop)
        {
            try
            {
                using RespConnection connection = new(port);
                while (!stop.IsCancellationRequested)
                {
                    string[] set = _nextSet % 2 == 1
                        ? ["SET", SetKey(_nextSet), Value(id, _nextSet), "EX", TimeToLiveSeconds]
                        : ["SET", SetKey(_nextSet), Value(id, _nextSet)];
                    if (connection.Call(set) != "+OK")
                    {
                        return;
                    }

                    _nextSet++;
                    TotalAcknowledgedSets++;
                    // One of this client's acknowledged keys, read back while the server compacts, checkpoints and
                    // copies cold records to the tail: it must hold its value throughout, not only after a restart.
                    long earlier = _reads.NextInt64(_nextSet);
                    string read = connection.Call("GET", SetKey(earlier));
                    TotalReads++;
                    if (read != "$" + Value(id, earlier) && ++_wrongReadCount <= 10)
                    {
                        _wrongReads.Add($"client {id}: GET {SetKey(earlier)} during the load returned {(read.Length > 40 ? read[..40] + "..." : read)}");
                    }

                    _incrementInFlight = true;
                    string reply = connection.Call("INCR", CounterKey);
                    if (!reply.StartsWith(':'))
                    {
                        return;
                    }

                    _counter = long.Parse(reply.AsSpan(1), CultureInfo.InvariantCulture);
                    _incrementInFlight = false;
                    TotalAcknowledgedIncrements++;
                    _scriptInFlight = true;
                    string scripted = CallsFunction && _scripted % 2 == 1
                        ? connection.Call("FCALL", "crash_pair", "2", ScriptKey('a'), ScriptKey('b'))
                        : connection.Call("EVAL", IncrementPair, "2", ScriptKey('a'), ScriptKey('b'));
                    if (!scripted.StartsWith(':'))
                    {
                        return;
                    }

                    _scripted = long.Parse(scripted.AsSpan(1), CultureInfo.InvariantCulture);
                    _scriptInFlight = false;
                    TotalAcknowledgedIncrements++;
                    if (_appends < MostAppends)
                    {
                        _appendInFlight = true;
                        if (!connection.Call("APPEND", LogKey, LogEntry(_appends)).StartsWith(':'))
                        {
                            return;
                        }

                        _appends++;
                        _appendInFlight = false;
                    }
                    for (int k = 0; k < CollectionKind.All.Count; k++)
                    {
                        CollectionKind kind = CollectionKind.All[k];
                        long member = _members[k];
                        long collection = member / CollectionKind.MembersPerKey;
                        bool creates = member % CollectionKind.MembersPerKey == 0;
                        if (creates)
                        {
                            // Until its EXPIRE below is acknowledged, the collection may or may not have a TTL.
                            _timeToLiveInFlight[k].Add(collection);
                        }

                        if (!connection.Call(kind.Write(kind.Key(id, member), member)).StartsWith(':'))
                        {
                            return;
                        }

                        _members[k]++;
                        TotalAcknowledgedMembers++;
                        if (creates)
                        {
                            // The collection was just created: give it a TTL, which must survive from its acknowledgement on.
                            if (connection.Call("EXPIRE", kind.Key(id, member), TimeToLiveSeconds) != ":1")
                            {
                                return;
                            }

                            _timeToLiveInFlight[k].Remove(collection);
                        }
                    }

                    for (int k = 0; k < ChurnKind.All.Count; k++)
                    {
                        if (Stopwatch.GetTimestamp() < _churnNotBefore[k])
                        {
                            // The key this churn kind writes next has a TTL still running: wait until it has expired.
                            continue;
                        }

                        (string[] command, string expected, bool expires) = ChurnKind.All[k].Operation(id, _churned[k]);
                        _churnInFlight[k] = true;
                        string answer = connection.Call(command);
                        if (answer != expected)
                        {
                            NoteAnomaly(answer, $"{string.Join(' ', command)} (churn operation {_churned[k]}) replied {answer}, expected {expected}");
                            return;
                        }

                        _churned[k]++;
                        _churnInFlight[k] = false;
                        if (expires)
                        {
                            _churnNotBefore[k] = ExpiredBy();
                        }

                        TotalAcknowledgedChurnOperations++;
                    }

                    int slot = StringChurn.Slot(_strings);
                    if (Stopwatch.GetTimestamp() >= _stringNotBefore[slot])
                    {
                        (string[] command, string expected) = StringChurn.Operation(id, _strings);
                        _stringInFlight = true;
                        string answer = connection.Call(command);
                        if (answer != expected)
                        {
                            NoteAnomaly(answer, $"{string.Join(' ', command)} (string churn operation {_strings}) replied {answer}, expected {expected}");
                            return;
                        }

                        _stringNotBefore[slot] = StringChurn.Expires(_strings) ? ExpiredBy() : 0;
                        _strings++;
                        _stringInFlight = false;
                        TotalAcknowledgedChurnOperations++;
                    }
                }
            }
            catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
            {
                // The server was killed: whatever was in flight is unknown, everything acknowledged must survive.
            }
        }

        // The Stopwatch timestamp by which a TTL of ChurnKind.ExpireMilliseconds set now has run out (with 5 ms to spare).
        private void NoteAnomaly(string answer, string anomaly)
        {
            if (!(refusalsEndTheLoad && answer.StartsWith('-')))
            {
                _churnAnomaly ??= anomaly;
            }
        }

        private static long ExpiredBy() => Stopwatch.GetTimestamp() + (Stopwatch.Frequency * (ChurnKind.ExpireMilliseconds + 5) / 1000);

        /// <summary>Keys of this client the last <see cref="Verify"/> found, to compare with DBSIZE and SCAN.</summary>
        public IReadOnlyCollection<string> PresentKeys => _present;

        // The APPEND log holds the first n appends, n the acknowledged ones (or one more, in flight at the kill): fewer are
        // lost appends, anything else a value never written, after which the log starts again.
        private void VerifyLog(RespConnection connection, CrashTestReport report, bool lossy)
        {
            string reply = connection.Call("GET", LogKey);
            long survived = reply == "$nil" ? 0 : reply.StartsWith('$') ? AppendsIn(reply[1..]) : -1;
            if (reply != "$nil")
            {
                _present.Add(LogKey);
            }

            if (survived < 0 || survived > _appends + (_appendInFlight ? 1 : 0))
            {
                report.ForeignValues++;
                report.Problems.Add($"client {id}: {LogKey} is no prefix of its {_appends} acknowledged APPENDs: {(reply.Length > 60 ? reply[..60] + "..." : reply)}");
                connection.Call("DEL", LogKey);
                _present.Remove(LogKey);
                survived = 0;
            }
            else if (survived < _appends)
            {
                report.LostWrites += _appends - survived;
                report.NoteLoss(_appends - survived, $"{LogKey} append {survived}", $"append {_appends - 1}");
                if (!lossy)
                {
                    report.Problems.Add($"client {id}: {LogKey} holds {survived} appends, acknowledged {_appends}");
                }
            }

            _appends = survived;
            _appendInFlight = false;
        }

        public void Verify(RespConnection connection, CrashTestReport report, bool lossy)
        {
            _present.Clear();
            // Every acknowledged key, plus the one that may have been in flight, plus one that was never written.
            const int Batch = 512;
            LossTracker sets = new();
            for (long start = 0; start <= _nextSet + 1; start += Batch)
            {
                long end = Math.Min(_nextSet + 2, start + Batch);
                for (long i = start; i < end; i++)
                {
                    connection.Send("GET", SetKey(i));
                    connection.Send("PTTL", SetKey(i));
                }

                for (long i = start; i < end; i++)
                {
                    string reply = connection.Read();
                    string timeToLive = connection.Read();
                    if (reply == "$nil")
                    {
                        if (i < _nextSet)
                        {
                            sets.Missing(i);
                            if (!lossy)
                            {
                                report.Problems.Add($"client {id}: acknowledged {SetKey(i)} is missing");
                            }
                        }
                    }
                    else
                    {
                        _present.Add(SetKey(i));
                        if (sets.Found(i))
                        {
                            report.Holes++;
                            report.Problems.Add($"client {id}: acknowledged {SetKey(sets.FirstLost)} is missing but the later {SetKey(i)} survived");
                        }

                        CheckTimeToLive(report, SetKey(i), timeToLive, i % 2 == 1);
                        if (reply != "$" + Value(id, i) || i == _nextSet + 1)
                        {
                            report.ForeignValues++;
                            report.Problems.Add($"client {id}: {SetKey(i)} holds a value never written: {reply}");
                        }
                    }
                }
            }

            string counterReply = connection.Call("GET", CounterKey);
            if (counterReply != "$nil")
            {
                _present.Add(CounterKey);
            }

            long counter = counterReply == "$nil" ? 0 : long.Parse(counterReply.AsSpan(1), CultureInfo.InvariantCulture);
            long lostIncrements = Math.Max(0, _counter - counter);
            if (counter > _counter + (_incrementInFlight ? 1 : 0))
            {
                report.DoubleAppliedIncrements++;
                report.Problems.Add($"client {id}: counter is {counter}, acknowledged {_counter}{(_incrementInFlight ? " plus one in flight" : "")}");
            }
            else if (lostIncrements > 0 && !lossy)
            {
                report.Problems.Add($"client {id}: counter is {counter}, acknowledged {_counter}");
            }

            report.LostWrites += sets.Lost;
            report.LostIncrements += lostIncrements;
            report.NoteLoss(sets.Lost, SetKey(sets.FirstLost), SetKey(sets.LastLost));
            report.NoteLoss(lostIncrements, $"{CounterKey} {_counter}", counter.ToString(CultureInfo.InvariantCulture));

            // Carry on from what the server now holds, so that later rounds check later writes.
            if (sets.FirstLost >= 0)
            {
                _nextSet = sets.FirstLost;
            }

            _counter = counter;
            _incrementInFlight = false;
            VerifyScripted(connection, report, lossy);
            VerifyLog(connection, report, lossy);
            for (int k = 0; k < CollectionKind.All.Count; k++)
            {
                _members[k] = VerifyMembers(connection, report, lossy, k, _members[k]);
            }

            for (int k = 0; k < ChurnKind.All.Count; k++)
            {
                VerifyChurn(connection, report, lossy, k);
            }

            VerifyStrings(connection, report, lossy);

            report.WrongReads += _wrongReadCount;
            report.Problems.AddRange(_wrongReads);
            _wrongReads.Clear();
            _wrongReadCount = 0;
            if (_churnAnomaly is not null)
            {
                report.ForeignValues++;
                report.Problems.Add($"client {id}: {_churnAnomaly}");
                _churnAnomaly = null;
            }
        }

        // The script's two counters: equal (no script applied in part), at least what was acknowledged (unless lossy),
        // at most that plus the one in flight.
        private void VerifyScripted(RespConnection connection, CrashTestReport report, bool lossy)
        {
            long[] values = new long[2];
            for (int i = 0; i < 2; i++)
            {
                string key = ScriptKey((char)('a' + i));
                string reply = connection.Call("GET", key);
                if (reply != "$nil")
                {
                    _present.Add(key);
                }

                values[i] = reply == "$nil" ? 0 : long.Parse(reply.AsSpan(1), CultureInfo.InvariantCulture);
            }

            long atMost = _scripted + (_scriptInFlight ? 1 : 0);
            if (values[0] != values[1])
            {
                report.InconsistentCollections++;
                report.Problems.Add($"client {id}: a script's two counters came back as {values[0]} and {values[1]}: a script was applied in part");
            }
            else if (values[0] > atMost)
            {
                report.DoubleAppliedIncrements++;
                report.Problems.Add($"client {id}: the script's counters are {values[0]}, acknowledged {_scripted}{(_scriptInFlight ? " plus one in flight" : "")}");
            }
            else if (values[0] < _scripted)
            {
                report.LostIncrements += _scripted - values[0];
                report.NoteLoss(_scripted - values[0], $"{ScriptKey('a')} {_scripted}", values[0].ToString(CultureInfo.InvariantCulture));
                if (!lossy)
                {
                    report.Problems.Add($"client {id}: the script's counters are {values[0]}, acknowledged {_scripted}");
                }
            }

            _scripted = Math.Min(values[0], values[1]);
            _scriptInFlight = false;
        }

        /// <summary>
        /// A churn key and its renamed key must hold what some prefix of their operations leaves: all acknowledged ones,
        /// maybe the one in flight (with a lossy policy, fewer: the loss); their lengths must match their listings. The
        /// client carries on from that prefix.
        /// </summary>
        private void VerifyChurn(RespConnection connection, CrashTestReport report, bool lossy, int kindIndex)
        {
            ChurnKind kind = ChurnKind.All[kindIndex];
            string key = kind.Key(id);
            string renamedKey = kind.RenamedKey(id);
            long acknowledged = _churned[kindIndex];
            long atMost = acknowledged + (_churnInFlight[kindIndex] ? 1 : 0);
            _churnInFlight[kindIndex] = false;
            (List<long> Members, string Shown)? members = ReadChurnKey(connection, report, kind, key);
            (List<long> Members, string Shown)? renamed = ReadChurnKey(connection, report, kind, renamedKey);
            long? found = members is { } m && renamed is { } r ? ChurnSequence.OperationsFor(m.Members, r.Members, atMost) : null;
            if (found is not { } operations)
            {
                if (members is { } held && renamed is { } heldRenamed)
                {
                    report.InconsistentCollections++;
                    report.Problems.Add($"client {id}: {key} and {renamedKey} hold what no prefix of their operations leaves ({acknowledged} acknowledged): {held.Shown} / {heldRenamed.Shown}");
                }

                // Start the next generation on clean keys.
                connection.Call("DEL", key, renamedKey);
                _present.Remove(key);
                _present.Remove(renamedKey);
                _churned[kindIndex] = ((acknowledged / ChurnSequence.OperationsPerGeneration) + 1) * ChurnSequence.OperationsPerGeneration;
                return;
            }

            if (operations > atMost)
            {
                report.ForeignValues++;
                report.Problems.Add($"client {id}: {key} holds the state after {operations} operations, {acknowledged} acknowledged");
            }
            else if (operations < acknowledged)
            {
                long lost = acknowledged - operations;
                report.LostMembers += lost;
                report.NoteLoss(lost, $"{key} operation {operations}", $"operation {acknowledged - 1}");
                if (!lossy)
                {
                    report.Problems.Add($"client {id}: {key} holds the state after {operations} operations, {acknowledged} acknowledged");
                }
            }

            _churned[kindIndex] = operations;
        }

        /// <summary>
        /// The string churn's keys must hold what a prefix of its operations leaves (an expired or deleted version never
        /// back, no TTL left): all acknowledged ones, maybe the one in flight (fewer with a lossy policy). The client
        /// carries on from that prefix.
        /// </summary>
        private void VerifyStrings(RespConnection connection, CrashTestReport report, bool lossy)
        {
            long acknowledged = _strings;
            long atMost = acknowledged + (_stringInFlight ? 1 : 0);
            _stringInFlight = false;
            long?[] held = new long?[StringChurn.Keys];
            for (int slot = 0; slot < StringChurn.Keys; slot++)
            {
                connection.Send("GET", StringChurn.Key(id, slot));
                connection.Send("PTTL", StringChurn.Key(id, slot));
            }

            List<string> shown = [];
            for (int slot = 0; slot < StringChurn.Keys; slot++)
            {
                string key = StringChurn.Key(id, slot);
                string value = connection.Read();
                string timeToLive = connection.Read();
                shown.Add(value == "$nil" ? "nil" : value[1..]);
                if (value == "$nil")
                {
                    continue;
                }

                _present.Add(key);
                CheckTimeToLive(report, key, timeToLive, expected: false);
                string prefix = $"$s:{id}:";
                held[slot] = value.StartsWith(prefix, StringComparison.Ordinal) && long.TryParse(value.AsSpan(prefix.Length), CultureInfo.InvariantCulture, out long operation)
                    ? operation
                    : -1;
            }

            if (StringChurn.OperationsFor(held, atMost) is not { } operations)
            {
                report.ForeignValues++;
                report.Problems.Add($"client {id}: its string churn keys hold what no prefix of their {acknowledged} acknowledged operations leaves: {string.Join(' ', shown)}");
                // Start again where every key is deleted: the end of a cycle through all of them.
                foreach (string key in Enumerable.Range(0, StringChurn.Keys).Select(slot => StringChurn.Key(id, slot)))
                {
                    connection.Call("DEL", key);
                    _present.Remove(key);
                }

                _strings = ((acknowledged / StringChurn.Cycle) + 1) * StringChurn.Cycle;
                return;
            }

            report.NoteLostOperations("string churn", operations, acknowledged, lossy, $"client {id}: its string churn keys hold what the first {operations} of their operations leave, {acknowledged} acknowledged: {string.Join(' ', shown)}");
            _strings = operations;
        }

        /// <summary>
        /// One churn key's members in the order its type lists them, after checking its length against the listing; null
        /// (and a problem reported) when the listing fails or holds something no churn operation writes.
        /// </summary>
        private (List<long> Members, string Shown)? ReadChurnKey(RespConnection connection, CrashTestReport report, ChurnKind kind, string key)
        {
            List<string> listing;
            try
            {
                listing = connection.CallArray(kind.ListAll(key));
            }
            catch (InvalidDataException exception)
            {
                report.InconsistentCollections++;
                report.Problems.Add($"client {id}: {exception.Message}");
                return null;
            }

            string shown = listing.Count == 0 ? "(empty)" : string.Join(' ', listing.Take(8)) + (listing.Count > 8 ? " ..." : "");
            if (listing.Count > 0)
            {
                _present.Add(key);
            }

            if (kind.Members(listing) is not { } members)
            {
                report.InconsistentCollections++;
                report.Problems.Add($"client {id}: {key} holds what no churn operation writes: {shown}");
                return null;
            }

            string length = connection.Call(kind.CountCommand, key);
            if (length != ":" + members.Count.ToString(CultureInfo.InvariantCulture))
            {
                report.InconsistentCollections++;
                report.Problems.Add($"client {id}: {kind.CountCommand} {key} is {length} but {kind.ListAll(key)[0]} returns {members.Count} members");
            }

            if (listing.Count > 0)
            {
                // A closing PEXPIRE's TTL has run out by now (the runner waits that long after each restart), so a key
                // still there has none: one with a TTL is a new generation that kept an expired key's.
                CheckTimeToLive(report, key, connection.Call("PTTL", key), expected: false);
            }

            return (members, shown);
        }

        /// <summary>A key written with a TTL must still have one (PTTL above 0), a key written without one must have none.</summary>
        private static void CheckTimeToLive(CrashTestReport report, string key, string reply, bool expected)
        {
            long milliseconds = long.Parse(reply.AsSpan(1), CultureInfo.InvariantCulture);
            if (expected ? milliseconds <= 0 : milliseconds != -1)
            {
                report.WrongTimesToLive++;
                report.Problems.Add($"{key}: PTTL {milliseconds}, {(expected ? "written with a TTL" : "written without one")}");
            }
        }

        /// <summary>
        /// Checks members 0 .. acknowledged + 1 of one collection type (the last two: maybe in flight, never written),
        /// then that each collection's length equals what listing it returns; returns where the client carries on.
        /// </summary>
        private long VerifyMembers(RespConnection connection, CrashTestReport report, bool lossy, int kindIndex, long acknowledged)
        {
            CollectionKind kind = CollectionKind.All[kindIndex];
            const int Batch = 512;
            long firstMissing = -1;
            LossTracker members = new();
            for (long start = 0; start <= acknowledged + 1; start += Batch)
            {
                long end = Math.Min(acknowledged + 2, start + Batch);
                for (long i = start; i < end; i++)
                {
                    connection.Send(kind.Probe(kind.Key(id, i), i));
                }

                for (long i = start; i < end; i++)
                {
                    string reply = connection.Read();
                    if (reply == kind.Absent)
                    {
                        firstMissing = firstMissing < 0 ? i : firstMissing;
                        if (i < acknowledged)
                        {
                            members.Missing(i);
                            report.LostMembers++;
                            if (!lossy)
                            {
                                report.Problems.Add($"client {id}: acknowledged {kind.Name} member {i} of {kind.Key(id, i)} is missing");
                            }
                        }
                    }
                    else if (reply != kind.Present(i) || i == acknowledged + 1 || firstMissing >= 0)
                    {
                        report.ForeignValues++;
                        report.Problems.Add($"client {id}: {kind.Name} member {i} of {kind.Key(id, i)} reads {reply}");
                    }
                }
            }

            report.NoteLoss(members.Lost, $"{kind.Name} member {members.FirstLost} of {kind.Key(id, members.FirstLost)}", $"member {members.LastLost} of {kind.Key(id, members.LastLost)}");
            for (long collection = 0; collection <= (acknowledged + 1) / CollectionKind.MembersPerKey; collection++)
            {
                string key = kind.Key(id, collection * CollectionKind.MembersPerKey);
                string length = connection.Call(kind.CountCommand, key);
                string listing = connection.Call(kind.ListAll(key));
                string timeToLive = connection.Call("PTTL", key);
                if (length != ":0")
                {
                    _present.Add(key);
                    if (!_timeToLiveInFlight[kindIndex].Contains(collection) && !(lossy && timeToLive == ":-1"))
                    {
                        CheckTimeToLive(report, key, timeToLive, expected: true);
                    }
                }

                if (length != ":" + (int.Parse(listing.AsSpan(1), CultureInfo.InvariantCulture) / kind.RepliesPerMember).ToString(CultureInfo.InvariantCulture))
                {
                    report.InconsistentCollections++;
                    report.Problems.Add($"client {id}: {kind.CountCommand} {key} is {length} but {kind.ListAll(key)[0]} returns {listing}");
                }
            }

            // The member after the acknowledged one was never written, so firstMissing is set unless that is broken too.
            return firstMissing >= 0 ? firstMissing : acknowledged + 2;
        }
    }
}
