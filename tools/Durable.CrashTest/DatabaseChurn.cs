using System.Globalization;

namespace Durable.CrashTest;

/// <summary>
/// The operations of the database churn, numbered from 0, which one extra client runs on databases 1 and 2 while the
/// others write to database 0: in blocks of <see cref="BlockLength"/>, SETs of unique keys and HSETs of unique fields
/// of one hash in database 1, then SWAPDB 1 2 twice, except that every <see cref="BlocksPerFlush"/>th block ends with
/// SWAPDB and FLUSHDB (of database 1; SYNC and ASYNC in turn). So keys and a hash that grows past the compact encoding move between the two
/// databases and are flushed with one of them. What each prefix leaves is deterministic, so the two databases read
/// back after a restart name the prefix that left them (<see cref="OperationsFor"/>).
/// </summary>
internal static class DatabaseChurn
{
    /// <summary>Operations per block: SETs and HSETs in turn, then two SWAPDBs (or a SWAPDB and a FLUSHDB).</summary>
    public const int BlockLength = 40;

    /// <summary>Blocks from one FLUSHDB to the next: an odd number of SWAPDBs between them, so each database is flushed in turn.</summary>
    public const int BlocksPerFlush = 8;

    public const string HashKey = "swap:hash";

    public static string StringKey(long operation) => "swap:k" + operation.ToString(CultureInfo.InvariantCulture);

    public static string Field(long operation) => "f" + operation.ToString(CultureInfo.InvariantCulture);

    public static string Value(long operation) => "v" + operation.ToString(CultureInfo.InvariantCulture);

    /// <summary>The command of operation <paramref name="operation"/> (run on database 1) and the reply that acknowledges it.</summary>
    public static (string[] Command, string Reply) Operation(long operation)
    {
        long j = operation % BlockLength;
        if (j < BlockLength - 2)
        {
            return j % 2 == 0
                ? (["SET", StringKey(operation), Value(operation)], "+OK")
                : (["HSET", HashKey, Field(operation), Value(operation)], ":1");
        }

        if (j == BlockLength - 1 && operation / BlockLength % BlocksPerFlush == BlocksPerFlush - 1)
        {
            // SYNC and ASYNC in turn (Durable detaches the database either way; a SYNC reply waits for the old records' deletes).
            return operation / (BlockLength * BlocksPerFlush) % 2 == 0 ? (["FLUSHDB"], "+OK") : (["FLUSHDB", "ASYNC"], "+OK");
        }

        return (["SWAPDB", "1", "2"], "+OK");
    }

    /// <summary>
    /// Of the prefixes of at most <paramref name="atMost"/> operations, the longest that leaves databases 1 and 2 holding
    /// <paramref name="observed"/>; null when none does.
    /// </summary>
    public static long? OperationsFor(DatabasePair observed, long atMost)
    {
        DatabasePair model = new();
        long? found = model.Equals(observed) ? 0 : null;
        for (long operation = 0; operation < atMost; operation++)
        {
            model.Apply(operation);
            if (model.Equals(observed))
            {
                found = operation + 1;
            }
        }

        return found;
    }
}

/// <summary>What databases 1 and 2 hold of the database churn: its string keys and its hash's fields, by operation number.</summary>
internal sealed class DatabasePair
{
    private Contents _first = new();
    private Contents _second = new();

    /// <summary>Database 1 (<paramref name="second"/> false) or 2.</summary>
    public Contents Database(bool second) => second ? _second : _first;

    /// <summary>Applies operation <paramref name="operation"/> as a server would.</summary>
    public void Apply(long operation)
    {
        string[] command = DatabaseChurn.Operation(operation).Command;
        switch (command[0])
        {
            case "SET":
                _first.Strings.Add(operation);
                break;
            case "HSET":
                _first.Fields.Add(operation);
                break;
            case "SWAPDB":
                (_first, _second) = (_second, _first);
                break;
            default:
                _first = new();
                break;
        }
    }

    public bool Equals(DatabasePair other) => _first.Equals(other._first) && _second.Equals(other._second);

    public override string ToString() => $"database 1: {_first}; database 2: {_second}";

    /// <summary>One database's string keys and hash fields.</summary>
    internal sealed class Contents
    {
        public SortedSet<long> Strings { get; } = [];

        public SortedSet<long> Fields { get; } = [];

        public bool Equals(Contents other) =>
            Strings.Count == other.Strings.Count && Fields.Count == other.Fields.Count && Strings.SetEquals(other.Strings) && Fields.SetEquals(other.Fields);

        public override string ToString() =>
            $"{Strings.Count} keys ({Shown(Strings)}), {Fields.Count} hash fields ({Shown(Fields)})";

        private static string Shown(SortedSet<long> numbers) =>
            numbers.Count == 0 ? "none" : $"{numbers.Min} .. {numbers.Max}";
    }
}
