using System.Globalization;

namespace Durable.CrashTest;

/// <summary>
/// One collection type a client churns: members added in order and removed oldest first, so that its churn key always
/// holds a window of consecutive members (<see cref="ChurnSequence"/>); every <see cref="ChurnSequence.AddsPerGeneration"/>
/// adds the key is renamed and the renamed key deleted. A state read back after a restart is a range of member numbers,
/// which names the one prefix of the operations that leaves it.
/// </summary>
internal sealed record ChurnKind(
    string Name,
    Func<string, long, string[]> Add,
    Func<long, string> AddReply,
    Func<string, long, string[]> Remove,
    Func<long, string> RemoveReply,
    string CountCommand,
    Func<string, string[]> ListAll,
    Func<IReadOnlyList<string>, List<long>?> Members)
{
    /// <summary>HSET/HDEL, SADD/SREM, ZADD/ZREM, RPUSH/LPOP, each with RENAME and DEL; listed by HGETALL, SMEMBERS, ZRANGE, LRANGE.</summary>
    public static IReadOnlyList<ChurnKind> All { get; } =
    [
        new("hash", (key, n) => ["HSET", key, $"f{n}", $"v{n}"], _ => ":1", (key, n) => ["HDEL", key, $"f{n}"], _ => ":1", "HLEN", key => ["HGETALL", key], HashMembers),
        new("set", (key, n) => ["SADD", key, $"m{n}"], _ => ":1", (key, n) => ["SREM", key, $"m{n}"], _ => ":1", "SCARD", key => ["SMEMBERS", key], items => Numbers(items, "m", ordered: false)),
        new("zset", (key, n) => ["ZADD", key, $"{n}", $"m{n}"], _ => ":1", (key, n) => ["ZREM", key, $"m{n}"], _ => ":1", "ZCARD", key => ["ZRANGE", key, "0", "-1"], items => Numbers(items, "m", ordered: true)),
        new("list", (key, n) => ["RPUSH", key, $"e{n}"], n => ":" + ((n % ChurnSequence.AddsPerGeneration) + 1 - ChurnSequence.RemovesBefore(n)).ToString(CultureInfo.InvariantCulture), (key, _) => ["LPOP", key], n => $"$e{n}", "LLEN", key => ["LRANGE", key, "0", "-1"], items => Numbers(items, "e", ordered: true)),
    ];

    public string Key(int client) => $"crash:{client}:churn-{Name}";

    /// <summary>Where the churn key goes at the end of each generation (RENAME), until the next operation deletes it.</summary>
    public string RenamedKey(int client) => $"crash:{client}:churn-{Name}-renamed";

    /// <summary>The command of operation <paramref name="operation"/> and the reply that acknowledges it.</summary>
    public (string[] Command, string Reply) Operation(int client, long operation)
    {
        (ChurnStep step, long member) = ChurnSequence.Step(operation);
        return step switch
        {
            ChurnStep.Add => (Add(Key(client), member), AddReply(member)),
            ChurnStep.Remove => (Remove(Key(client), member), RemoveReply(member)),
            ChurnStep.Rename => (["RENAME", Key(client), RenamedKey(client)], "+OK"),
            _ => (["DEL", RenamedKey(client)], ":1"),
        };
    }

    // "f<n>", "v<n>" pairs in any order: the members' numbers, or null when a value does not match its field.
    private static List<long>? HashMembers(IReadOnlyList<string> items)
    {
        List<long> members = [];
        for (int i = 0; i + 1 < items.Count; i += 2)
        {
            if (!items[i].StartsWith('f') || !long.TryParse(items[i].AsSpan(1), CultureInfo.InvariantCulture, out long n) || items[i + 1] != $"v{n}")
            {
                return null;
            }

            members.Add(n);
        }

        members.Sort();
        return members;
    }

    // "<prefix><n>" items: their numbers, sorted unless the order is the collection's own; null when one does not parse.
    private static List<long>? Numbers(IReadOnlyList<string> items, string prefix, bool ordered)
    {
        List<long> members = [];
        foreach (string item in items)
        {
            if (!item.StartsWith(prefix, StringComparison.Ordinal) || !long.TryParse(item.AsSpan(prefix.Length), CultureInfo.InvariantCulture, out long n))
            {
                return null;
            }

            members.Add(n);
        }

        if (!ordered)
        {
            members.Sort();
        }

        return members;
    }
}

internal enum ChurnStep
{
    Add,
    Remove,
    Rename,
    Delete,
}

/// <summary>
/// The operations of one churn key, numbered from 0: in each generation, adds of members 0 .. G-1 (numbered
/// generation * G + n), each add past the first W followed by the removal of the oldest member, then a RENAME of the key
/// and a DEL of the renamed key. The key holds members [removed, added) of its generation: contiguous, and each such
/// range belongs to exactly one prefix of the operations; between the RENAME and the DEL the renamed key holds the last W.
/// </summary>
internal static class ChurnSequence
{
    /// <summary>W: past the compact encodings (128 members), so the window lives in part records, and removals free parts.</summary>
    public const int Window = 300;

    /// <summary>G: adds before the key is deleted (its parts deleted with it) and a new generation starts.</summary>
    public const int AddsPerGeneration = 600;

    /// <summary>Operations per generation: G adds, G - W removals, one RENAME, one DEL.</summary>
    public const long OperationsPerGeneration = (2 * AddsPerGeneration) - Window + 2;

    /// <summary>What operation <paramref name="operation"/> does, and to which member.</summary>
    public static (ChurnStep Step, long Member) Step(long operation)
    {
        long generation = operation / OperationsPerGeneration;
        long j = operation % OperationsPerGeneration;
        long first = generation * AddsPerGeneration;
        if (j == OperationsPerGeneration - 1)
        {
            return (ChurnStep.Delete, -1);
        }

        if (j == OperationsPerGeneration - 2)
        {
            return (ChurnStep.Rename, -1);
        }

        if (j < Window)
        {
            return (ChurnStep.Add, first + j);
        }

        long t = j - Window;
        return t % 2 == 0 ? (ChurnStep.Add, first + Window + (t / 2)) : (ChurnStep.Remove, first + (t / 2));
    }

    /// <summary>Members removed from its generation before member <paramref name="member"/> is added (an RPUSH's reply is the length after it).</summary>
    public static long RemovesBefore(long member) => Math.Max(0, (member % AddsPerGeneration) - Window);

    /// <summary>
    /// The members [From, To) held after the first <paramref name="operations"/> operations: by the churn key, or by the
    /// renamed key when <c>Renamed</c> (the churn key is then empty).
    /// </summary>
    public static (long From, long To, bool Renamed) State(long operations)
    {
        long generation = operations / OperationsPerGeneration;
        long j = operations % OperationsPerGeneration;
        long first = generation * AddsPerGeneration;
        if (j == OperationsPerGeneration - 1)
        {
            return (first + AddsPerGeneration - Window, first + AddsPerGeneration, true);
        }

        if (j <= Window)
        {
            return (first, first + j, false);
        }

        long t = j - Window;
        return (first + (t / 2), first + Window + ((t + 1) / 2), false);
    }

    /// <summary>
    /// How many operations leave the churn key holding <paramref name="members"/> and the renamed key
    /// <paramref name="renamed"/> (each in the order the collection returns them), the largest at most
    /// <paramref name="atMost"/> when both are empty; null when no prefix leaves them so.
    /// </summary>
    public static long? OperationsFor(List<long> members, List<long> renamed, long atMost)
    {
        if (renamed.Count > 0)
        {
            long renamedGeneration = renamed[0] / AddsPerGeneration;
            long firstOfLast = (renamedGeneration * AddsPerGeneration) + AddsPerGeneration - Window;
            bool lastWindow = renamed.Count == Window && renamed.Select((member, i) => member == firstOfLast + i).All(equal => equal);
            return members.Count == 0 && lastWindow ? (renamedGeneration * OperationsPerGeneration) + OperationsPerGeneration - 1 : null;
        }

        if (members.Count == 0)
        {
            return atMost / OperationsPerGeneration * OperationsPerGeneration;
        }

        for (int i = 1; i < members.Count; i++)
        {
            if (members[i] != members[i - 1] + 1)
            {
                return null;
            }
        }

        long generation = members[0] / AddsPerGeneration;
        long removed = members[0] - (generation * AddsPerGeneration);
        long added = members[^1] + 1 - (generation * AddsPerGeneration);
        long j;
        if (added > AddsPerGeneration)
        {
            return null;
        }
        else if (added <= Window && removed == 0)
        {
            j = added;
        }
        else if (added - Window == removed)
        {
            j = Window + (2 * removed);
        }
        else if (added - Window == removed + 1)
        {
            j = Window + (2 * removed) + 1;
        }
        else
        {
            return null;
        }

        return (generation * OperationsPerGeneration) + j;
    }
}
