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
    NoMandatoryKeys = 1 << 17,

    /// <summary>Redis CMD_PROTECTED (DEBUG): refused unless its enable-*-command setting allows it; not shown by COMMAND INFO.</summary>
    Protected = 1 << 25,

    /// <summary>Not a Redis flag: the command takes every key stripe exclusively (FLUSHALL, SWAPDB).</summary>
    LocksAll = 1 << 20,

    /// <summary>
    /// Not a Redis flag: the dispatcher takes no stripe for the command, which takes the store's hold-and-wait lock and
    /// then stripes itself as it learns its keys (a script, off the socket threads); inside EXEC it runs with every stripe.
    /// </summary>
    LocksItself = 1 << 24,

    /// <summary>
    /// Not a Redis flag: the command reads nothing from the store but its keys' own records (no collection parts, no
    /// scans) and writes nothing, so once the batch's prefetch has read those from disk (or found them in memory) it does
    /// not wait for the disk: a batch of such commands runs on its socket thread (GET, MGET, EXISTS, TTL, PING...).
    /// </summary>
    KeyReadsOnly = 1 << 21,

    /// <summary>Runs at once between MULTI and EXEC instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).</summary>
    RunsInTransaction = 1 << 22,

    /// <summary>
    /// Not a Redis flag: read-only for Redis, yet it may write its key back (PFCOUNT stores the cardinality it
    /// computed in the value), so it takes its keys' stripes exclusively and what it writes fails WATCH. It is not
    /// refused when writes are (MISCONF); it then leaves the value as it was.
    /// </summary>
    WritesBack = 1 << 23,
}
