using System.Globalization;

namespace Durable.CrashTest;

/// <summary>
/// One collection type a client churns: members added in order and removed oldest first, so that its churn key always
/// holds a window of consecutive members (<see cref="ChurnSequence"/>); every <see cref="ChurnSequence.AddsPerGeneration"/>
/// adds the generation closes (<see cref="ChurnSequence.Closing"/>: renames, copies, a DEL, an UNLINK or an expiry). A state read
/// back after a restart names the one prefix of the operations that leaves it.
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
    /// <summary>The TTL of a closing PEXPIRE and of the string churn's expiring SET: short, so the key expires between two operations (the client waits it out).</summary>
    public const int ExpireMilliseconds = 20;

    /// <summary>HSET/HDEL, SADD/SREM, ZADD/ZREM, RPUSH/LPOP, each closed by RENAME, COPY, DEL, UNLINK and PEXPIRE; listed by HGETALL, SMEMBERS, ZRANGE, LRANGE.</summary>
    public static IReadOnlyList<ChurnKind> All { get; } =
    [
        new("hash", (key, n) => ["HSET", key, $"f{n}", $"v{n}"], _ => ":1", (key, n) => ["HDEL", key, $"f{n}"], _ => ":1", "HLEN", key => ["HGETALL", key], HashMembers),
        new("set", (key, n) => ["SADD", key, $"m{n}"], _ => ":1", (key, n) => ["SREM", key, $"m{n}"], _ => ":1", "SCARD", key => ["SMEMBERS", key], items => Numbers(items, "m", ordered: false)),
        new("zset", (key, n) => ["ZADD", key, $"{n}", $"m{n}"], _ => ":1", (key, n) => ["ZREM", key, $"m{n}"], _ => ":1", "ZCARD", key => ["ZRANGE", key, "0", "-1"], items => Numbers(items, "m", ordered: true)),
        new("list", (key, n) => ["RPUSH", key, $"e{n}"], n => ":" + ((n % ChurnSequence.AddsPerGeneration) + 1 - ChurnSequence.RemovesBefore(n)).ToString(CultureInfo.InvariantCulture), (key, _) => ["LPOP", key], n => $"$e{n}", "LLEN", key => ["LRANGE", key, "0", "-1"], items => Numbers(items, "e", ordered: true)),
    ];

    public string Key(int client) => $"crash:{client}:churn-{Name}";

    /// <summary>The second key of a generation's closing steps (RENAME and COPY targets).</summary>
    public string RenamedKey(int client) => $"crash:{client}:churn-{Name}-renamed";

    /// <summary>
    /// The command of operation <paramref name="operation"/>, the reply that acknowledges it, and whether it sets a TTL
    /// of <see cref="ExpireMilliseconds"/> (the next operation must wait until the key has expired).
    /// </summary>
    public (string[] Command, string Reply, bool Expires) Operation(int client, long operation)
    {
        (ChurnStep step, long member) = ChurnSequence.Step(operation);
        string key = Key(client);
        string renamed = RenamedKey(client);
        string ttl = ExpireMilliseconds.ToString(CultureInfo.InvariantCulture);
        return step switch
        {
            ChurnStep.Add => (Add(key, member), AddReply(member), false),
            ChurnStep.Remove => (Remove(key, member), RemoveReply(member), false),
            _ => ChurnSequence.Closing(operation).Action switch
            {
                ClosingAction.Rename => (["RENAME", key, renamed], "+OK", false),
                ClosingAction.RenameBack => (["RENAME", renamed, key], "+OK", false),
                ClosingAction.Copy => (["COPY", key, renamed], ":1", false),
                ClosingAction.CopyBack => (["COPY", renamed, key], ":1", false),
                ClosingAction.DeleteKey => (["UNLINK", key], ":1", false),
                ClosingAction.DeleteBoth => (["DEL", key, renamed], ":2", false),
                ClosingAction.ExpireKey => (["PEXPIRE", key, ttl], ":1", true),
                _ => (["PEXPIRE", renamed, ttl], ":1", true),
            },
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
    Closing,
}

/// <summary>What a generation's closing step does to the churn key and its second key (<see cref="ChurnKind.RenamedKey"/>).</summary>
internal enum ClosingAction
{
    Rename,
    RenameBack,
    Copy,
    CopyBack,
    DeleteKey,
    DeleteBoth,
    ExpireKey,
    ExpireRenamed,
}

/// <summary>One closing step, and which of the two keys hold the generation's last window after it.</summary>
internal readonly record struct ClosingStep(ClosingAction Action, bool KeyHolds, bool RenamedHolds);

/// <summary>
/// The operations of one churn key, numbered from 0: in each generation, adds of members 0 .. G-1 (numbered
/// generation * G + n), each add past the first W followed by the removal of the oldest member, then three closing steps
/// that move, copy, delete or expire the last window W (the generation number, modulo 3, picks which). The key holds
/// members [removed, added) of its generation: contiguous, and each such range belongs to exactly one prefix of the
/// operations; during the closing steps either key holds the last window or nothing.
/// </summary>
internal static class ChurnSequence
{
    /// <summary>W: past the compact encodings (128 members), so the window lives in part records, and removals free parts.</summary>
    public const int Window = 300;

    /// <summary>G: adds before the generation closes (its parts deleted or expired) and a new one starts.</summary>
    public const int AddsPerGeneration = 600;

    /// <summary>The adds and removals of a generation: G adds, G - W removals.</summary>
    public const long BodyOperations = (2 * AddsPerGeneration) - Window;

    /// <summary>Operations per generation: the adds and removals, then three closing steps.</summary>
    public const long OperationsPerGeneration = BodyOperations + 3;

    /// <summary>
    /// How generations close, in turn: (RENAME, COPY back, DEL both), so that a copy's parts and its original's are
    /// deleted together; (COPY, UNLINK the original, PEXPIRE the copy), so that an expired copy's parts go (and, where the
    /// original names more than 16 parts, as a churned hash, set or sorted set does, Durable's background reaper deletes them), and the next
    /// RENAME overwrites an expired key; (RENAME, RENAME back, PEXPIRE the key), so that the next generation writes to a
    /// key that has just expired.
    /// </summary>
    private static readonly ClosingStep[][] s_closings =
    [
        [new(ClosingAction.Rename, false, true), new(ClosingAction.CopyBack, true, true), new(ClosingAction.DeleteBoth, false, false)],
        [new(ClosingAction.Copy, true, true), new(ClosingAction.DeleteKey, false, true), new(ClosingAction.ExpireRenamed, false, false)],
        [new(ClosingAction.Rename, false, true), new(ClosingAction.RenameBack, true, false), new(ClosingAction.ExpireKey, false, false)],
    ];

    /// <summary>What operation <paramref name="operation"/> does, and to which member (-1 for a closing step).</summary>
    public static (ChurnStep Step, long Member) Step(long operation)
    {
        long generation = operation / OperationsPerGeneration;
        long j = operation % OperationsPerGeneration;
        long first = generation * AddsPerGeneration;
        if (j >= BodyOperations)
        {
            return (ChurnStep.Closing, -1);
        }

        if (j < Window)
        {
            return (ChurnStep.Add, first + j);
        }

        long t = j - Window;
        return t % 2 == 0 ? (ChurnStep.Add, first + Window + (t / 2)) : (ChurnStep.Remove, first + (t / 2));
    }

    /// <summary>The closing step that operation <paramref name="operation"/> (a <see cref="ChurnStep.Closing"/> one) is.</summary>
    public static ClosingStep Closing(long operation) =>
        s_closings[(int)(operation / OperationsPerGeneration % s_closings.Length)][(int)((operation % OperationsPerGeneration) - BodyOperations)];

    /// <summary>Members removed from its generation before member <paramref name="member"/> is added (an RPUSH's reply is the length after it).</summary>
    public static long RemovesBefore(long member) => Math.Max(0, (member % AddsPerGeneration) - Window);

    /// <summary>
    /// The members [From, To) held after the first <paramref name="operations"/> operations, by the churn key when
    /// <c>InKey</c> and by the second key when <c>InRenamed</c> (a key not named holds nothing; an expired key nothing).
    /// </summary>
    public static (long From, long To, bool InKey, bool InRenamed) State(long operations)
    {
        long generation = operations / OperationsPerGeneration;
        long j = operations % OperationsPerGeneration;
        long first = generation * AddsPerGeneration;
        if (j > BodyOperations)
        {
            ClosingStep done = Closing(operations - 1);
            return (first + AddsPerGeneration - Window, first + AddsPerGeneration, done.KeyHolds, done.RenamedHolds);
        }

        if (j <= Window)
        {
            return (first, first + j, true, false);
        }

        long t = j - Window;
        return (first + (t / 2), first + Window + ((t + 1) / 2), true, false);
    }

    /// <summary>
    /// How many operations leave the churn key holding <paramref name="members"/> and the second key
    /// <paramref name="renamed"/> (each in the order the collection returns them): of the prefixes that do, the largest
    /// at most <paramref name="atMost"/>, else the smallest; null when no prefix leaves them so.
    /// </summary>
    public static long? OperationsFor(List<long> members, List<long> renamed, long atMost)
    {
        if (members.Count == 0 && renamed.Count == 0)
        {
            return atMost / OperationsPerGeneration * OperationsPerGeneration;
        }

        if (!Consecutive(members) || !Consecutive(renamed))
        {
            return null;
        }

        long generation = (renamed.Count > 0 ? renamed[0] : members[0]) / AddsPerGeneration;
        long first = generation * AddsPerGeneration;
        long lastWindowFrom = first + AddsPerGeneration - Window;
        bool IsLastWindow(List<long> held) => held.Count == Window && held[0] == lastWindowFrom;
        if (renamed.Count > 0 || IsLastWindow(members))
        {
            // The end of the adds and removals, or a closing step: each key holds the last window or nothing.
            if ((members.Count > 0 && !IsLastWindow(members)) || (renamed.Count > 0 && !IsLastWindow(renamed)))
            {
                return null;
            }

            long bodyEnd = (generation * OperationsPerGeneration) + BodyOperations;
            List<long> candidates = renamed.Count == 0 ? [bodyEnd] : [];
            for (int step = 0; step < 3; step++)
            {
                ClosingStep closing = Closing(bodyEnd + step);
                if (closing.KeyHolds == members.Count > 0 && closing.RenamedHolds == renamed.Count > 0)
                {
                    candidates.Add(bodyEnd + step + 1);
                }
            }

            return candidates.Count == 0 ? null : candidates.Where(c => c <= atMost).DefaultIfEmpty(candidates[0]).Max();
        }

        long removed = members[0] - first;
        long added = members[^1] + 1 - first;
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

    private static bool Consecutive(List<long> members)
    {
        for (int i = 1; i < members.Count; i++)
        {
            if (members[i] != members[i - 1] + 1)
            {
                return false;
            }
        }

        return true;
    }
}
