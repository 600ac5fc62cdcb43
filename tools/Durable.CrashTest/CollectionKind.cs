namespace Durable.CrashTest;

/// <summary>
/// One collection type the crash test writes: member n of a client goes to collection n / <see cref="MembersPerKey"/>
/// of that type, so collections stay bounded while every acknowledged member can be checked one by one.
/// </summary>
internal sealed record CollectionKind(
    string Name,
    Func<string, long, string[]> Write,
    Func<string, long, string[]> Probe,
    Func<long, string> Present,
    string Absent,
    string CountCommand,
    Func<string, string[]> ListAll,
    int RepliesPerMember)
{
    /// <summary>
    /// Past Redis's small encodings (hash 512 fields, sorted set 128, set 512 integers) and Durable's compact limit, so
    /// that a client's first collection of each type moves to part records under the crash test too.
    /// </summary>
    public const int MembersPerKey = 600;

    /// <summary>HSET, SADD, ZADD, RPUSH: each member checked by HGET, SISMEMBER, ZSCORE, LINDEX; counts by the length command against the full listing.</summary>
    public static IReadOnlyList<CollectionKind> All { get; } =
    [
        new("hash", (key, n) => ["HSET", key, $"f{n}", $"v{n}"], (key, n) => ["HGET", key, $"f{n}"], n => $"$v{n}", "$nil", "HLEN", key => ["HGETALL", key], 2),
        new("set", (key, n) => ["SADD", key, $"m{n}"], (key, n) => ["SISMEMBER", key, $"m{n}"], _ => ":1", ":0", "SCARD", key => ["SMEMBERS", key], 1),
        new("zset", (key, n) => ["ZADD", key, $"{n}", $"m{n}"], (key, n) => ["ZSCORE", key, $"m{n}"], n => $"${n}", "$nil", "ZCARD", key => ["ZRANGE", key, "0", "-1"], 1),
        new("list", (key, n) => ["RPUSH", key, $"e{n}"], (key, n) => ["LINDEX", key, $"{n % MembersPerKey}"], n => $"$e{n}", "$nil", "LLEN", key => ["LRANGE", key, "0", "-1"], 1),
    ];

    public string Key(int client, long member) => $"crash:{client}:{Name}{member / MembersPerKey}";
}
