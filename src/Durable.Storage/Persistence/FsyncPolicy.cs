namespace Durable.Storage.Persistence;

/// <summary>When write-ahead-log records are made durable (Redis appendfsync).</summary>
public enum FsyncPolicy
{
    /// <summary>A write's reply is released only after a group commit has made it durable.</summary>
    Always,

    /// <summary>Commit at most about a second behind; replies do not wait.</summary>
    EverySecond,

    /// <summary>Commit every few seconds (see README); replies do not wait.</summary>
    No,
}

/// <summary>The policies under their Redis names (the values of the appendfsync parameter).</summary>
public static class FsyncPolicyNames
{
    /// <summary>always, everysec or no.</summary>
    public static string RedisName(this FsyncPolicy policy) => policy switch
    {
        FsyncPolicy.Always => "always",
        FsyncPolicy.EverySecond => "everysec",
        _ => "no",
    };

    /// <summary>The policy named <paramref name="name"/> (always, everysec or no; lower case, as the config stores it).</summary>
    public static FsyncPolicy FromRedisName(string name) => name switch
    {
        "always" => FsyncPolicy.Always,
        "everysec" => FsyncPolicy.EverySecond,
        "no" => FsyncPolicy.No,
        _ => throw new ArgumentException($"'{name}' is not an appendfsync policy (always, everysec or no)", nameof(name)),
    };
}
