using System.Globalization;

namespace Durable.CrashTest;

/// <summary>
/// The string churn of one client: operation i writes key i mod <see cref="Keys"/>, and each key goes through SET, SET
/// with a <see cref="ChurnKind.ExpireMilliseconds"/> ms PX (the client waits for it to expire before the key's next write), SET,
/// DEL, again and again. So overwritten, expired and deleted versions of a few keys pile up in the log for compaction
/// to drop, and none may come back. Values carry their operation's number, so the keys read back after a restart name
/// the prefix of the operations that left them.
/// </summary>
internal static class StringChurn
{
    public const int Keys = 16;

    // Each key's cycle: SET, SET PX, SET, DEL.
    private const int Steps = 4;

    /// <summary>Operations from one state where every key is deleted to the next.</summary>
    public const long Cycle = Steps * Keys;

    public static int Slot(long operation) => (int)(operation % Keys);

    public static string Key(int client, int slot) => $"crash:{client}:string-{slot}";

    public static string Value(int client, long operation) => $"s:{client}:{operation}";

    /// <summary>Whether operation <paramref name="operation"/> is the SET with a TTL.</summary>
    public static bool Expires(long operation) => Step(operation) == 1;

    /// <summary>The command of operation <paramref name="operation"/> and the reply that acknowledges it.</summary>
    public static (string[] Command, string Reply) Operation(int client, long operation)
    {
        string key = Key(client, Slot(operation));
        return Step(operation) switch
        {
            0 or 2 => (["SET", key, Value(client, operation)], "+OK"),
            1 => (["SET", key, Value(client, operation), "PX", ChurnKind.ExpireMilliseconds.ToString(CultureInfo.InvariantCulture)], "+OK"),
            _ => (["DEL", key], ":1"),
        };
    }

    /// <summary>The operation whose value key <paramref name="slot"/> holds after the first <paramref name="operations"/> operations; null when it holds none.</summary>
    public static long? Holder(long operations, int slot)
    {
        long last = operations - 1 - ((operations - 1 - slot) % Keys + Keys) % Keys;
        return last >= 0 && Step(last) % 2 == 0 ? last : null;
    }

    /// <summary>
    /// The largest number of operations, at most <paramref name="atMost"/>, that leaves each key holding the value of the
    /// operation <paramref name="held"/> names for it (null: no key); null when no prefix leaves them so.
    /// </summary>
    public static long? OperationsFor(IReadOnlyList<long?> held, long atMost)
    {
        for (long operations = atMost; operations >= 0; operations--)
        {
            bool all = true;
            for (int slot = 0; slot < Keys && all; slot++)
            {
                all = Holder(operations, slot) == held[slot];
            }

            if (all)
            {
                return operations;
            }
        }

        return null;
    }

    private static long Step(long operation) => operation / Keys % Steps;
}
