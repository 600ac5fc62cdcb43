using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// Which arguments Redis replaces with "(redacted)" in MONITOR and SLOWLOG: every argument of AUTH, the user and
/// password after HELLO's AUTH, and every argument of ACL SETUSER after the subcommand.
/// </summary>
internal static class Redaction
{
    /// <summary>The first redacted argument; int.MaxValue when none is.</summary>
    public static int RedactedFrom(RespArgs args)
    {
        if (args.Is(0, "AUTH"u8))
        {
            return 1;
        }

        if (args.Is(0, "ACL"u8) && args.Count >= 3 && args.Is(1, "SETUSER"u8))
        {
            return 2;
        }

        if (args.Is(0, "HELLO"u8))
        {
            for (int i = 2; i + 2 < args.Count; i++)
            {
                if (args.Is(i, "AUTH"u8))
                {
                    return i + 1;
                }
            }
        }

        return int.MaxValue;
    }

    /// <summary>How many arguments from <see cref="RedactedFrom"/> on are redacted.</summary>
    public static int RedactedCount(RespArgs args) => args.Is(0, "AUTH"u8) ? args.Count - 1 : args.Is(0, "ACL"u8) ? args.Count - 2 : 2;
}
