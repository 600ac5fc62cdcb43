namespace Durable.Commands;

/// <summary>Command flags, after Redis's COMMAND INFO flags; they drive locking, LOADING and stats.</summary>
[Flags]
public enum CommandFlags
{
    None = 0,
    Write = 1 << 0,
    ReadOnly = 1 << 1,
    Fast = 1 << 2,
    Admin = 1 << 3,
    NoScript = 1 << 4,
    Loading = 1 << 5,
    Stale = 1 << 6,
    NoAuth = 1 << 7,
    DenyOom = 1 << 8,
    PubSub = 1 << 9,
    Blocking = 1 << 10,
    SkipMonitor = 1 << 11,
    SkipSlowlog = 1 << 12,
    AllowBusy = 1 << 13,
    NoMulti = 1 << 14,
    MayReplicate = 1 << 15,
    NoAsyncLoading = 1 << 16,

    /// <summary>Not a Redis flag: the command takes every key stripe exclusively (FLUSHALL, SWAPDB).</summary>
    LocksAll = 1 << 20,
}
