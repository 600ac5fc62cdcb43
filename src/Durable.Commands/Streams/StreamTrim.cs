namespace Durable.Commands.Streams;

/// <summary>
/// A trimming strategy of XADD and XTRIM (Redis streamAddTrimArgs): MAXLEN (<see cref="ByLength"/>) or MINID, exact or
/// <see cref="Approximate"/> (<c>~</c>: whole nodes only), and the most entries one call may remove (<see cref="Limit"/>, 0: no limit).
/// </summary>
internal readonly record struct StreamTrim(bool ByLength, long MaxLength, StreamId MinId, bool Approximate, long Limit);
