using System.Text;
using Durable.Protocol;

namespace Durable.Commands.Strings;

/// <summary>
/// The parsed options of SET (from argument 3) or GETEX (from argument 2), with Redis's
/// parseExtendedStringArgumentsOrReply rules: an option may repeat (the last expire wins), conflicting options are a
/// syntax error, and an expire option without a value is a syntax error.
/// </summary>
/// <param name="Flags">The options given.</param>
/// <param name="ExpireIndex">The argument holding the expire time, 0 when none.</param>
internal readonly record struct SetOptions(SetFlags Flags, int ExpireIndex)
{
    private const SetFlags ExpireOrTtl = SetFlags.AnyExpire | SetFlags.KeepTtl | SetFlags.Persist;

    public bool Has(SetFlags flag) => (Flags & flag) != 0;

    /// <summary>
    /// Parses the options; false (nothing written) on a syntax error. <c>forSet</c> is true for SET (NX, XX, GET,
    /// KEEPTTL allowed), false for GETEX (PERSIST allowed).
    /// </summary>
    public static bool TryParse(RespArgs args, bool forSet, out SetOptions options)
    {
        SetFlags flags = SetFlags.None;
        int expireIndex = 0;
        for (int i = forSet ? 3 : 2; i < args.Count; i++)
        {
            SetFlags flag = Match(args[i], forSet);
            SetFlags conflicts = flag switch
            {
                SetFlags.None => SetFlags.None,
                SetFlags.Nx => SetFlags.Xx,
                SetFlags.Xx => SetFlags.Nx,
                SetFlags.Get => SetFlags.None,
                SetFlags.KeepTtl => SetFlags.AnyExpire | SetFlags.Persist,
                SetFlags.Persist => SetFlags.AnyExpire | SetFlags.KeepTtl,
                // Redis: an expire option conflicts with KEEPTTL, PERSIST and the other three, not with itself.
                _ => ExpireOrTtl & ~flag,
            };
            bool needsValue = (flag & SetFlags.AnyExpire) != 0;
            if (flag == SetFlags.None || (flags & conflicts) != 0 || (needsValue && i + 1 == args.Count))
            {
                options = default;
                return false;
            }

            flags |= flag;
            if (needsValue)
            {
                expireIndex = ++i;
            }
        }

        options = new SetOptions(flags, expireIndex);
        return true;
    }

    /// <summary>
    /// Redis getExpireMillisecondsOrReply: the value must be an integer above 0, seconds must not overflow when
    /// scaled, and the absolute time must stay positive. Writes the error and returns false otherwise.
    /// <c>commandName</c> is the lower-case name Redis puts in "invalid expire time in '...' command".
    /// </summary>
    public bool TryGetExpiresAtMs(CommandContext context, RespArgs args, string commandName, out long expiresAtMs)
    {
        bool seconds = Has(SetFlags.Ex | SetFlags.ExAt);
        bool relative = Has(SetFlags.Ex | SetFlags.Px);
        return TryGetExpiresAtMs(context, args[ExpireIndex], seconds, relative, commandName, out expiresAtMs);
    }

    /// <inheritdoc cref="TryGetExpiresAtMs(CommandContext, RespArgs, string, out long)"/>
    public static bool TryGetExpiresAtMs(CommandContext context, ReadOnlySpan<byte> value, bool seconds, bool relative, string commandName, out long expiresAtMs)
    {
        if (!RedisNumber.TryParseInt64(value, out expiresAtMs))
        {
            context.WriteNotInteger();
            return false;
        }

        if (expiresAtMs <= 0 || (seconds && expiresAtMs > long.MaxValue / 1000))
        {
            WriteInvalidExpireTime(context, commandName);
            return false;
        }

        if (seconds)
        {
            expiresAtMs *= 1000;
        }

        if (relative)
        {
            // Redis adds in C and checks for a wrap to a negative value; unchecked reproduces that.
            expiresAtMs = unchecked(expiresAtMs + context.NowMs);
        }

        if (expiresAtMs <= 0)
        {
            WriteInvalidExpireTime(context, commandName);
            return false;
        }

        return true;
    }

    // RespErrors.InvalidExpireTime with its "{0}" replaced by the command name; commandName is a short ASCII literal.
    private static void WriteInvalidExpireTime(CommandContext context, string commandName)
    {
        ReadOnlySpan<byte> template = RespErrors.InvalidExpireTime;
        int at = template.IndexOf("{0}"u8);
        Span<byte> text = stackalloc byte[template.Length + commandName.Length];
        template[..at].CopyTo(text);
        int length = at + Encoding.ASCII.GetBytes(commandName, text[at..]);
        template[(at + 3)..].CopyTo(text[length..]);
        length += template.Length - at - 3;
        context.WriteError(text[..length]);
    }

    private static SetFlags Match(ReadOnlySpan<byte> option, bool forSet)
    {
        if (StringRecords.IsOption(option, "EX"u8))
        {
            return SetFlags.Ex;
        }

        if (StringRecords.IsOption(option, "PX"u8))
        {
            return SetFlags.Px;
        }

        if (StringRecords.IsOption(option, "EXAT"u8))
        {
            return SetFlags.ExAt;
        }

        if (StringRecords.IsOption(option, "PXAT"u8))
        {
            return SetFlags.PxAt;
        }

        if (!forSet)
        {
            return StringRecords.IsOption(option, "PERSIST"u8) ? SetFlags.Persist : SetFlags.None;
        }

        return StringRecords.IsOption(option, "NX"u8) ? SetFlags.Nx
            : StringRecords.IsOption(option, "XX"u8) ? SetFlags.Xx
            : StringRecords.IsOption(option, "GET"u8) ? SetFlags.Get
            : StringRecords.IsOption(option, "KEEPTTL"u8) ? SetFlags.KeepTtl
            : SetFlags.None;
    }
}
