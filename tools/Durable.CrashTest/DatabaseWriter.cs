using System.Globalization;
using System.Net.Sockets;

namespace Durable.CrashTest;

/// <summary>
/// The extra client that runs the database churn (<see cref="DatabaseChurn"/>) on databases 1 and 2, and checks after
/// each restart that they hold what a prefix of its operations leaves: all acknowledged ones and maybe the one in
/// flight (fewer with a lossy policy), every value the one written, DBSIZE of each equal to the keys found.
/// </summary>
internal sealed class DatabaseWriter(bool refusalsEndTheLoad)
{
    private long _acknowledged;
    private bool _inFlight;

    // An operation answered otherwise than the sequence says (reported by the next Verify).
    private string? _anomaly;

    // Set once the databases held what no prefix leaves: the run has failed, and later rounds no longer churn them.
    private bool _stopped;

    public long TotalAcknowledged { get; private set; }

    public void Run(int port, CancellationToken stop)
    {
        if (_stopped)
        {
            return;
        }

        try
        {
            using RespConnection connection = new(port);
            if (connection.Call("SELECT", "1") != "+OK")
            {
                return;
            }

            while (!stop.IsCancellationRequested)
            {
                (string[] command, string expected) = DatabaseChurn.Operation(_acknowledged);
                _inFlight = true;
                string answer = connection.Call(command);
                if (answer != expected)
                {
                    if (!(refusalsEndTheLoad && answer.StartsWith('-')))
                    {
                        _anomaly ??= $"{string.Join(' ', command)} (database churn operation {_acknowledged}) replied {answer}, expected {expected}";
                    }

                    return;
                }

                _acknowledged++;
                _inFlight = false;
                TotalAcknowledged++;
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
        {
            // The server was killed: whatever was in flight is unknown, everything acknowledged must survive.
        }
    }

    /// <summary>Checks databases 1 and 2 against the prefixes of the operations; leaves <paramref name="connection"/> on database 0.</summary>
    public void Verify(RespConnection connection, CrashTestReport report, bool lossy)
    {
        if (_anomaly is not null)
        {
            report.ForeignValues++;
            report.Problems.Add(_anomaly);
            _anomaly = null;
        }

        if (_stopped)
        {
            return;
        }

        DatabasePair observed = new();
        bool readable = Read(connection, report, observed, second: false);
        readable &= Read(connection, report, observed, second: true);
        connection.Call("SELECT", "0");
        long atMost = _acknowledged + (_inFlight ? 1 : 0);
        _inFlight = false;
        if (!readable || DatabaseChurn.OperationsFor(observed, atMost) is not { } operations)
        {
            report.InconsistentCollections++;
            report.Problems.Add($"databases 1 and 2 hold what no prefix of the database churn's {_acknowledged} acknowledged operations leaves: {observed}");
            _stopped = true;
            return;
        }

        report.NoteLostOperations("database churn", operations, _acknowledged, lossy, $"databases 1 and 2 hold what the first {operations} database churn operations leave, {_acknowledged} acknowledged");
        _acknowledged = operations;
    }

    /// <summary>Reads one database into <paramref name="observed"/>; false (and a problem reported) when it holds something the churn never wrote.</summary>
    private static bool Read(RespConnection connection, CrashTestReport report, DatabasePair observed, bool second)
    {
        string database = second ? "2" : "1";
        connection.Call("SELECT", database);
        DatabasePair.Contents contents = observed.Database(second);
        List<string> keys = connection.CallArray("KEYS", "*");
        bool readable = true;
        foreach (string key in keys)
        {
            if (key == DatabaseChurn.HashKey)
            {
                List<string> items = connection.CallArray("HGETALL", key);
                for (int i = 0; i + 1 < items.Count; i += 2)
                {
                    if (Number(items[i], "f") is { } field && items[i + 1] == DatabaseChurn.Value(field))
                    {
                        contents.Fields.Add(field);
                    }
                    else
                    {
                        readable = Foreign(report, $"database {database}: {key} holds field {items[i]} = {items[i + 1]}");
                    }
                }

                string length = connection.Call("HLEN", key);
                if (length != ":" + contents.Fields.Count.ToString(CultureInfo.InvariantCulture))
                {
                    report.InconsistentCollections++;
                    report.Problems.Add($"database {database}: HLEN {key} is {length} but HGETALL returns {items.Count / 2} fields");
                }
            }
            else if (Number(key, "swap:k") is { } operation && connection.Call("GET", key) is var value && value == "$" + DatabaseChurn.Value(operation))
            {
                contents.Strings.Add(operation);
            }
            else
            {
                readable = Foreign(report, $"database {database}: {key} was never written so");
            }
        }

        string size = connection.Call("DBSIZE");
        if (size != ":" + keys.Count.ToString(CultureInfo.InvariantCulture))
        {
            report.WrongKeyCounts++;
            report.Problems.Add($"database {database}: DBSIZE {size[1..]}, KEYS returns {keys.Count}");
        }

        return readable;
    }

    private static bool Foreign(CrashTestReport report, string problem)
    {
        report.ForeignValues++;
        report.Problems.Add(problem);
        return false;
    }

    private static long? Number(string text, string prefix) =>
        text.StartsWith(prefix, StringComparison.Ordinal) && long.TryParse(text.AsSpan(prefix.Length), CultureInfo.InvariantCulture, out long n) ? n : null;
}
