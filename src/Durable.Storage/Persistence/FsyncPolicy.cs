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
