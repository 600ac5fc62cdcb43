using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Durable.Protocol;

/// <summary>Number parsing and formatting with Redis's exact rules (string2ll, strtold checks, %.17Lg-style output).</summary>
public static class RedisNumber
{
    /// <summary>Redis string2ll: optional '-', digits, no leading zeros (except "0"), no '+', no spaces, no overflow.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 20)
        {
            return false;
        }

        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }

        bool negative = text[0] == (byte)'-';
        int i = negative ? 1 : 0;
        if (i == text.Length || text[i] < (byte)'1' || text[i] > (byte)'9')
        {
            return false;
        }

        ulong v = 0;
        for (; i < text.Length; i++)
        {
            uint d = (uint)(text[i] - (byte)'0');
            if (d > 9)
            {
                return false;
            }

            if (v > (ulong.MaxValue - d) / 10)
            {
                return false;
            }

            v = (v * 10) + d;
        }

        if (negative)
        {
            if (v > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0 - v);
            return true;
        }

        if (v > long.MaxValue)
        {
            return false;
        }

        value = (long)v;
        return true;
    }

    /// <summary>
    /// Redis getLongDoubleFromObject/strtold rules: the whole text must be a number, no leading space, not NaN.
    /// "inf", "+inf", "-inf" and "infinity" are accepted as strtold accepts them.
    /// </summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 5000 || IsSpace(text[0]))
        {
            return false;
        }

        Span<char> chars = text.Length <= 256 ? stackalloc char[text.Length] : new char[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if (b >= 0x80 || IsSpace(b))
            {
                return false;
            }

            chars[i] = (char)b;
        }

        ReadOnlySpan<char> s = chars;
        ReadOnlySpan<char> unsigned = s[0] is '+' or '-' ? s[1..] : s;
        if (unsigned.Equals("inf", StringComparison.OrdinalIgnoreCase) || unsigned.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = s[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        // strtold accepts hex floats and the like too; decimal forms cover what clients send.
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || double.IsNaN(value))
        {
            return false;
        }

        return true;
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    /// <summary>Formats like Redis's ld2string(LD_STR_HUMAN) used by INCRBYFLOAT: up to 17 significant digits, no exponent, trailing zeros trimmed.</summary>
    public static int FormatHumanDouble(double value, Span<byte> destination)
    {
        if (double.IsPositiveInfinity(value))
        {
            return Copy("inf"u8, destination);
        }

        if (double.IsNegativeInfinity(value))
        {
            return Copy("-inf"u8, destination);
        }

        // %.17Lf then trim trailing zeros and a trailing dot. C# "F17" matches %.17f for doubles.
        string text = value.ToString("F17", CultureInfo.InvariantCulture);
        if (text.Contains('.', StringComparison.Ordinal))
        {
            text = text.TrimEnd('0').TrimEnd('.');
        }

        if (text == "-0")
        {
            text = "0";
        }

        return Encoding.ASCII.GetBytes(text, destination);
    }

    /// <summary>Formats like Redis's %.17g reply for doubles (ZSCORE, INCRBYFLOAT replies in RESP2 use the human form instead).</summary>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        if (double.IsPositiveInfinity(value))
        {
            return Copy("inf"u8, destination);
        }

        if (double.IsNegativeInfinity(value))
        {
            return Copy("-inf"u8, destination);
        }

        if (value == Math.Floor(value) && Math.Abs(value) < 1e17 && Utf8Formatter.TryFormat((long)value, destination, out int written))
        {
            return written;
        }

        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return Encoding.ASCII.GetBytes(text, destination);
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
