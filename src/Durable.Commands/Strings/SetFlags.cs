namespace Durable.Commands.Strings;

/// <summary>The options of SET and GETEX, after Redis's OBJ_SET_* / OBJ_EX... flags.</summary>
[Flags]
internal enum SetFlags
{
    None = 0,
    Nx = 1 << 0,
    Xx = 1 << 1,
    Ex = 1 << 2,
    Px = 1 << 3,
    KeepTtl = 1 << 4,
    Get = 1 << 5,
    ExAt = 1 << 6,
    PxAt = 1 << 7,
    Persist = 1 << 8,

    /// <summary>Any of the options that carry an expire time.</summary>
    AnyExpire = Ex | Px | ExAt | PxAt,
}
