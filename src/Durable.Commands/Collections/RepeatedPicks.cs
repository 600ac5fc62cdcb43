namespace Durable.Commands.Collections;

/// <summary>
/// The limit on replies of random picks that may repeat (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER with a negative count):
/// such a reply grows with a number the client chose, not with the collection, and is built in the output buffer
/// before it is flushed, so one larger than proto-max-bulk-len is refused (Redis would build it, however large).
/// </summary>
internal static class RepeatedPicks
{
    /// <summary>An upper bound on what a reply element adds to its payload (RESP type, length and CRLFs).</summary>
    public const int OverheadPerItem = 24;

    /// <summary>
    /// True when <paramref name="picks"/> picks of at most <paramref name="largestPickBytes"/> bytes each (payload and
    /// overhead) fit; otherwise writes the error, naming the picks as <paramref name="unit"/>, and returns false.
    /// </summary>
    public static bool Fit(CommandContext context, string command, string unit, long picks, long largestPickBytes)
    {
        long limit = context.Server.Config.ProtoMaxBulkLength;
        if (picks <= limit / Math.Max(1, largestPickBytes))
        {
            return true;
        }

        context.WriteError($"ERR {command} reply of {picks} {unit} would exceed proto-max-bulk-len ({limit} bytes)");
        return false;
    }
}
