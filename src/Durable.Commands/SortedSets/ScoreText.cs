using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Durable.Commands.SortedSets;

/// <summary>
/// Scores as Redis 7.0 reads and prints them: strtod(3) parsing (decimal, hexadecimal, inf, infinity; NaN refused) and
/// printf("%.17g") replies, which Redis 7.0 sends for every score in RESP2 bulk strings and RESP3 doubles alike.
/// </summary>
internal static class ScoreText
{
    /// <summary>Large enough for any score <see cref="Format"/> writes ("-1.2345678901234567e-308").</summary>
    public const int MaxLength = 32;

    // Redis double2ll: a listpack stores an integral score within +-LLONG_MAX/2 as an integer.
    private const double ListpackIntegerLimit = long.MaxValue / 2;

    /// <summary>printf("%.17g", value), with "inf" and "-inf" as Redis's addReplyDouble writes them.</summary>
    public static int Format(double value, Span<byte> destination) => FormatSignificant(value, 17, destination);

    /// <summary>printf("%.<paramref name="precision"/>g", value) (lua-cjson's numbers are %.14g), inf and nan as <see cref="Format"/>.</summary>
    public static int FormatSignificant(double value, int precision, Span<byte> destination)
    {
        if (double.IsInfinity(value))
        {
            return Copy(value > 0 ? "inf"u8 : "-inf"u8, destination);
        }

        if (double.IsNaN(value))
        {
            return Copy("nan"u8, destination);
        }

        if (value == 0)
        {
            return Copy(double.IsNegative(value) ? "-0"u8 : "0"u8, destination);
        }

        // "E<n>" is exact and correctly rounded in .NET: n + 1 significant digits, then the decimal exponent.
        string scientific = value.ToString("E" + (precision - 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        bool negative = scientific[0] == '-';
        int start = negative ? 1 : 0;
        string digits = string.Concat(scientific.AsSpan(start, 1), scientific.AsSpan(start + 2, precision - 1));
        int exponent = int.Parse(scientific.AsSpan(scientific.IndexOf('E') + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        StringBuilder text = new(MaxLength);
        if (negative)
        {
            text.Append('-');
        }

        if (exponent < -4 || exponent >= precision)
        {
            string fraction = digits[1..].TrimEnd('0');
            text.Append(digits[0]);
            if (fraction.Length > 0)
            {
                text.Append('.').Append(fraction);
            }

            text.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (exponent >= 0)
        {
            string fraction = digits[(exponent + 1)..].TrimEnd('0');
            text.Append(digits, 0, exponent + 1);
            if (fraction.Length > 0)
            {
                text.Append('.').Append(fraction);
            }
        }
        else
        {
            text.Append("0.").Append('0', -exponent - 1).Append(digits.TrimEnd('0'));
        }

        return Encoding.ASCII.GetBytes(text.ToString(), destination);
    }

    /// <summary>
    /// The text of a score as a listpack holds it (what ZSCAN returns for a listpack sorted set): an integral score
    /// within +-LLONG_MAX/2 as an integer (so 1e17 is "100000000000000000"), anything else as %.17g.
    /// </summary>
    public static int FormatListpack(double value, Span<byte> destination)
    {
        if (value == Math.Floor(value) && Math.Abs(value) <= ListpackIntegerLimit)
        {
            Utf8Formatter.TryFormat((long)value, destination, out int written);
            return written;
        }

        return Format(value, destination);
    }

    /// <summary>
    /// Redis getDoubleFromObject (scores of ZADD and ZINCRBY, WEIGHTS): the whole text is a strtod number, does not
    /// start with a space, is not NaN, and does not overflow to infinity or underflow to zero.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || IsSpace(text[0]))
        {
            return false;
        }

        return TryParseNumber(text, out value, out bool outOfRange) && !(outOfRange && (double.IsInfinity(value) || value == 0));
    }

    /// <summary>
    /// Redis zslParseRange's strtod of one bound (after its '('): leading spaces are skipped, the text ends at its first
    /// NUL byte, the empty text is 0, overflow and underflow are accepted (as inf and 0); NaN is refused.
    /// </summary>
    public static bool TryParseBound(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }

        if (text.IsEmpty)
        {
            return true;
        }

        int i = 0;
        while (i < text.Length && IsSpace(text[i]))
        {
            i++;
        }

        return i < text.Length && TryParseNumber(text[i..], out value, out _);
    }

    /// <summary>
    /// strtod(3) on the start of <paramref name="text"/> (no leading space): returns how many bytes it reads (0: no
    /// number), with overflow as inf and NaN accepted (lua-cjson's decoder reads numbers this way).
    /// </summary>
    public static int ParsePrefix(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        int sign = text.Length > 0 && text[0] is (byte)'-' or (byte)'+' ? 1 : 0;
        ReadOnlySpan<byte> body = text[sign..];
        if (body.Length >= 3 && Ascii.EqualsIgnoreCase(body[..3], "nan"u8))
        {
            value = double.NaN;
            return sign + 3;
        }

        if (body.Length >= 3 && Ascii.EqualsIgnoreCase(body[..3], "inf"u8))
        {
            value = text[0] == (byte)'-' ? double.NegativeInfinity : double.PositiveInfinity;
            return sign + (body.Length >= 8 && Ascii.EqualsIgnoreCase(body[..8], "infinity"u8) ? 8 : 3);
        }

        bool hex = body.Length > 2 && body[0] == (byte)'0' && (body[1] | 0x20) == (byte)'x' && (HexDigit(body[2]) >= 0 || (body[2] == (byte)'.' && body.Length > 3 && HexDigit(body[3]) >= 0));
        int i = hex ? 2 : 0;
        int digits = 0;
        bool point = false;
        for (; i < body.Length; i++)
        {
            if ((hex ? HexDigit(body[i]) : body[i] is >= (byte)'0' and <= (byte)'9' ? 0 : -1) >= 0)
            {
                digits++;
            }
            else if (body[i] == (byte)'.' && !point)
            {
                point = true;
            }
            else
            {
                break;
            }
        }

        if (digits == 0)
        {
            return 0;
        }

        // An exponent counts only with a digit after its letter (and sign).
        if (i < body.Length && (body[i] | 0x20) == (hex ? (byte)'p' : (byte)'e'))
        {
            int j = i + 1;
            if (j < body.Length && body[j] is (byte)'-' or (byte)'+')
            {
                j++;
            }

            if (j < body.Length && body[j] is >= (byte)'0' and <= (byte)'9')
            {
                while (j < body.Length && body[j] is >= (byte)'0' and <= (byte)'9')
                {
                    j++;
                }

                i = j;
            }
        }

        return TryParseNumber(text[..(sign + i)], out value, out _) ? sign + i : 0;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>The whole of <paramref name="text"/> as strtod reads it; false when strtod would stop early or reads NaN.</summary>
    private static bool TryParseNumber(ReadOnlySpan<byte> text, out double value, out bool outOfRange)
    {
        value = 0;
        outOfRange = false;
        bool negative = text[0] == (byte)'-';
        ReadOnlySpan<byte> body = text[0] is (byte)'-' or (byte)'+' ? text[1..] : text;
        if (Ascii.EqualsIgnoreCase(body, "inf"u8) || Ascii.EqualsIgnoreCase(body, "infinity"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        bool parsed = body.Length > 2 && body[0] == (byte)'0' && (body[1] | 0x20) == (byte)'x'
            ? TryParseHex(body[2..], out value, out outOfRange)
            : TryParseDecimal(body, out value, out outOfRange);
        if (negative)
        {
            value = -value;
        }

        return parsed;
    }

    private static bool TryParseDecimal(ReadOnlySpan<byte> body, out double value, out bool outOfRange)
    {
        value = 0;
        outOfRange = false;
        int i = ReadMantissa(body, hex: false, out Mantissa mantissa);
        if (mantissa.Digits == 0 || (i < body.Length && ((body[i] | 0x20) != (byte)'e' || !TryReadExponent(body[(i + 1)..], out _))))
        {
            return false;
        }

        // The text is ASCII digits, a point and an exponent: .NET parses it correctly rounded, to +-inf on overflow.
        value = double.Parse(Encoding.ASCII.GetString(body), NumberStyles.Float, CultureInfo.InvariantCulture);
        outOfRange = double.IsInfinity(value) || (value == 0 && mantissa.Bits != 0);
        return true;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> body, out double value, out bool outOfRange)
    {
        value = 0;
        outOfRange = false;
        int i = ReadMantissa(body, hex: true, out Mantissa mantissa);
        long exponent = mantissa.Exponent;
        if (mantissa.Digits == 0)
        {
            return false;
        }

        if (i < body.Length)
        {
            if ((body[i] | 0x20) != (byte)'p' || !TryReadExponent(body[(i + 1)..], out long written))
            {
                return false;
            }

            exponent += written;
        }

        value = mantissa.Bits == 0 ? 0 : Math.ScaleB((double)mantissa.Bits, (int)Math.Clamp(exponent, -100_000, 100_000));
        outOfRange = double.IsInfinity(value) || (value == 0 && mantissa.Bits != 0);
        return true;
    }

    /// <summary>
    /// Digits with at most one point, up to the first other byte (returns its index). For hex, the value as up to 64
    /// bits times 2^exponent, lower digits folded into a sticky bit; for decimal, Bits is only zero or not.
    /// </summary>
    private static int ReadMantissa(ReadOnlySpan<byte> body, bool hex, out Mantissa mantissa)
    {
        mantissa = default;
        bool point = false;
        int i = 0;
        for (; i < body.Length; i++)
        {
            byte c = body[i];
            int digit = hex ? HexDigit(c) : c is >= (byte)'0' and <= (byte)'9' ? c - '0' : -1;
            if (digit >= 0)
            {
                mantissa.Digits++;
                if (!hex)
                {
                    mantissa.Bits |= (uint)digit;
                }
                else if (mantissa.Bits >> 60 == 0)
                {
                    mantissa.Bits = (mantissa.Bits << 4) | (uint)digit;
                    mantissa.Exponent -= point ? 4 : 0;
                }
                else
                {
                    mantissa.Bits |= digit != 0 ? 1UL : 0;
                    mantissa.Exponent += point ? 0 : 4;
                }
            }
            else if (c == (byte)'.' && !point)
            {
                point = true;
            }
            else
            {
                break;
            }
        }

        return i;
    }

    /// <summary>An exponent: optional sign, then at least one digit, to the end; saturated (anything that large over- or underflows).</summary>
    private static bool TryReadExponent(ReadOnlySpan<byte> text, out long exponent)
    {
        exponent = 0;
        bool negative = !text.IsEmpty && text[0] == (byte)'-';
        int i = !text.IsEmpty && text[0] is (byte)'-' or (byte)'+' ? 1 : 0;
        if (i == text.Length)
        {
            return false;
        }

        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - (byte)'0');
            if (digit > 9)
            {
                return false;
            }

            exponent = Math.Min((exponent * 10) + digit, 100_000);
        }

        exponent = negative ? -exponent : exponent;
        return true;
    }

    private static int HexDigit(byte c)
    {
        if (c is >= (byte)'0' and <= (byte)'9')
        {
            return c - '0';
        }

        int lower = c | 0x20;
        return lower is >= 'a' and <= 'f' ? lower - 'a' + 10 : -1;
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    private struct Mantissa
    {
        public int Digits;
        public ulong Bits;
        public long Exponent;
    }
}
