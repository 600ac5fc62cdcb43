using System.Globalization;
using System.Numerics;
using System.Text;

namespace Durable.Commands.Strings;

/// <summary>
/// An exact software model of the x87 80-bit long double that Redis uses for INCRBYFLOAT on x86-64 Linux:
/// a 64-bit significand, the binary-extended exponent range (subnormals included), round to nearest even.
/// Parsing follows glibc strtold (correctly rounded), addition rounds once, and <see cref="ToFixed17"/> prints
/// like printf("%.17Lf") followed by Redis's trimming, so replies match redis-server byte for byte (doubles or
/// decimal cannot: Redis prints 1000.1 + 0.1 as "1000.19999999999999996").
/// Value = (-1)^negative × significand × 2^exponent. Works on BigInteger and allocates: INCRBYFLOAT only.
/// </summary>
internal readonly struct LongDouble
{
    // Exponent of the significand's lowest bit: smallest subnormal 2^-16445, largest finite (2^64-1)·2^16320.
    private const int MinExponent = -16445;
    private const int MaxExponent = 16320;

    // Redis string2ld copies into a 5120-byte buffer (MAX_LONG_DOUBLE_CHARS) and refuses longer input.
    private const int MaxTextLength = 5 * 1024;

    private static readonly BigInteger s_tenPow17 = BigInteger.Pow(10, 17);

    private readonly BigInteger _significand;

    private LongDouble(bool negative, BigInteger significand, int exponent, bool infinite)
    {
        IsNegative = negative;
        _significand = significand;
        Exponent = exponent;
        IsInfinity = infinite;
    }

    public static LongDouble Zero => default;

    /// <summary>A finite double, exactly (every double is a long double): what Redis's casts to long double give.</summary>
    public static LongDouble FromDouble(double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xF_FFFF_FFFF_FFFF;
        return biased == 0
            ? new LongDouble(bits < 0, fraction, -1074, infinite: false)
            : new LongDouble(bits < 0, fraction | (1L << 52), biased - 1075, infinite: false);
    }

    public bool IsNegative { get; }

    public bool IsInfinity { get; }

    private int Exponent { get; }

    /// <summary>
    /// Redis string2ld: the whole text must be a number strtold accepts (decimal, hexadecimal with a 'p' exponent,
    /// inf or infinity), with no leading space, not NaN, and not overflowing or underflowing to zero. Redis checks
    /// that strtold consumed every byte, so an embedded NUL makes the text invalid.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = Zero;
        if (text.IsEmpty || text.Length >= MaxTextLength)
        {
            return false;
        }

        bool negative = text[0] == (byte)'-';
        ReadOnlySpan<byte> body = text[0] is (byte)'-' or (byte)'+' ? text[1..] : text;
        if (Ascii.EqualsIgnoreCase(body, "inf"u8) || Ascii.EqualsIgnoreCase(body, "infinity"u8))
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, infinite: true);
            return true;
        }

        bool hex = body.Length > 2 && body[0] == (byte)'0' && (body[1] | 0x20) == (byte)'x';
        if (!TryParseDigits(hex ? body[2..] : body, hex, out BigInteger digits, out long exponent))
        {
            return false;
        }

        if (digits.IsZero)
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, infinite: false);
            return true;
        }

        if (hex)
        {
            long top = exponent + (long)digits.GetBitLength();
            if (top > MaxExponent + 64 + 1 || top < MinExponent - 2)
            {
                return false;
            }

            value = Round(negative, digits, BigInteger.One, (int)exponent);
        }
        else
        {
            // Decimal: digits × 10^exponent. Far outside the range it overflows (HUGE_VAL) or underflows to 0; strtold
            // reports ERANGE for both and Redis refuses them. Near the edges the exact rounding below decides.
            long magnitude = exponent + digits.ToString(CultureInfo.InvariantCulture).Length;
            if (magnitude > 4934 || magnitude < -4952)
            {
                return false;
            }

            value = exponent >= 0
                ? Round(negative, digits * BigInteger.Pow(10, (int)exponent), BigInteger.One, 0)
                : Round(negative, digits, BigInteger.Pow(10, (int)-exponent), 0);
        }

        return !value.IsInfinity && !value._significand.IsZero;
    }

    /// <summary>The correctly rounded sum; false when it is NaN or infinite (Redis refuses both).</summary>
    public static bool TryAdd(LongDouble left, LongDouble right, out LongDouble sum)
    {
        sum = Zero;
        if (left.IsInfinity || right.IsInfinity)
        {
            return false;
        }

        int exponent = Math.Min(left.Exponent, right.Exponent);
        BigInteger a = left._significand << (left.Exponent - exponent);
        BigInteger b = right._significand << (right.Exponent - exponent);
        BigInteger total = (left.IsNegative ? -a : a) + (right.IsNegative ? -b : b);
        if (total.IsZero)
        {
            // Round to nearest: x + (-x) is +0, and -0 + -0 is -0.
            sum = new LongDouble(left.IsNegative && right.IsNegative, BigInteger.Zero, 0, infinite: false);
            return true;
        }

        sum = Round(total.Sign < 0, BigInteger.Abs(total), BigInteger.One, exponent);
        return !sum.IsInfinity;
    }

    /// <summary>
    /// printf("%.17Lf") (exact, ties to even as glibc does), then Redis ld2string's LD_STR_HUMAN trimming: trailing
    /// zeros and a trailing dot go, and "-0" becomes "0".
    /// </summary>
    public byte[] ToFixed17()
    {
        BigInteger scaled;
        if (Exponent >= 0)
        {
            scaled = (_significand << Exponent) * s_tenPow17;
        }
        else
        {
            BigInteger numerator = _significand * s_tenPow17;
            int shift = -Exponent;
            scaled = numerator >> shift;
            BigInteger remainder = numerator - (scaled << shift);
            BigInteger half = BigInteger.One << (shift - 1);
            if (remainder > half || (remainder == half && !scaled.IsEven))
            {
                scaled += 1;
            }
        }

        string digits = scaled.ToString(CultureInfo.InvariantCulture).PadLeft(18, '0');
        StringBuilder text = new(digits.Length + 2);
        if (IsNegative)
        {
            text.Append('-');
        }

        text.Append(digits, 0, digits.Length - 17).Append('.').Append(digits, digits.Length - 17, 17);
        int length = text.Length;
        while (text[length - 1] == '0')
        {
            length--;
        }

        if (text[length - 1] == '.')
        {
            length--;
        }

        text.Length = length;
        if (length == 2 && text[0] == '-' && text[1] == '0')
        {
            return "0"u8.ToArray();
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>
    /// Rounds numerator / denominator × 2^exponent (both positive) to a 64-bit significand, to nearest even; below
    /// the normal range the significand gets fewer bits (subnormal), above it the result is infinite.
    /// </summary>
    private static LongDouble Round(bool negative, BigInteger numerator, BigInteger denominator, int exponent)
    {
        long shift = numerator.GetBitLength() - denominator.GetBitLength() - 64;
        BigInteger quotient = Divide(numerator, denominator, shift, out BigInteger remainder, out BigInteger divisor);
        if (quotient.GetBitLength() > 64)
        {
            shift++;
            quotient = Divide(numerator, denominator, shift, out remainder, out divisor);
        }
        else if (quotient.GetBitLength() < 64)
        {
            shift--;
            quotient = Divide(numerator, denominator, shift, out remainder, out divisor);
        }

        if (exponent + shift < MinExponent)
        {
            shift = MinExponent - exponent;
            quotient = Divide(numerator, denominator, shift, out remainder, out divisor);
        }

        BigInteger twice = remainder << 1;
        if (twice > divisor || (twice == divisor && !quotient.IsEven))
        {
            quotient += 1;
            if (quotient.GetBitLength() > 64)
            {
                quotient >>= 1;
                shift++;
            }
        }

        long resultExponent = exponent + shift;
        if (resultExponent > MaxExponent)
        {
            return new LongDouble(negative, BigInteger.Zero, 0, infinite: true);
        }

        return quotient.IsZero
            ? new LongDouble(negative, BigInteger.Zero, 0, infinite: false)
            : new LongDouble(negative, quotient, (int)resultExponent, infinite: false);
    }

    // floor(numerator / (denominator × 2^shift)), with the remainder over the same divisor.
    private static BigInteger Divide(BigInteger numerator, BigInteger denominator, long shift, out BigInteger remainder, out BigInteger divisor)
    {
        if (shift >= 0)
        {
            divisor = denominator << (int)shift;
        }
        else
        {
            divisor = denominator;
            numerator <<= (int)-shift;
        }

        BigInteger quotient = BigInteger.DivRem(numerator, divisor, out remainder);
        return quotient;
    }

    /// <summary>
    /// The strtold grammar after the sign (and "0x" for hex): digits, an optional point and digits (at least one digit
    /// in all), then an optional exponent ('e' decimal, 'p' binary) with at least one digit. The value is digits ×
    /// base^exponent, base 10 for decimal and 2 for hex (each hex fraction digit is 4 binary places).
    /// </summary>
    private static bool TryParseDigits(ReadOnlySpan<byte> body, bool hex, out BigInteger digits, out long exponent)
    {
        digits = BigInteger.Zero;
        exponent = 0;
        int radix = hex ? 16 : 10;
        int count = 0;
        bool point = false;
        int i = 0;
        for (; i < body.Length; i++)
        {
            byte c = body[i];
            int digit = DigitValue(c, hex);
            if (digit >= 0)
            {
                digits = (digits * radix) + digit;
                count++;
                if (point)
                {
                    exponent -= hex ? 4 : 1;
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

        if (count == 0)
        {
            return false;
        }

        if (i == body.Length)
        {
            return true;
        }

        if ((body[i] | 0x20) != (hex ? (byte)'p' : (byte)'e'))
        {
            return false;
        }

        i++;
        bool negativeExponent = i < body.Length && body[i] == (byte)'-';
        if (i < body.Length && body[i] is (byte)'-' or (byte)'+')
        {
            i++;
        }

        if (i == body.Length)
        {
            return false;
        }

        long written = 0;
        for (; i < body.Length; i++)
        {
            uint d = (uint)(body[i] - (byte)'0');
            if (d > 9)
            {
                return false;
            }

            // Saturate: anything this large over- or underflows whatever the digits are.
            written = Math.Min((written * 10) + d, 1_000_000_000L);
        }

        exponent += negativeExponent ? -written : written;
        return true;
    }

    private static int DigitValue(byte c, bool hex)
    {
        if (c is >= (byte)'0' and <= (byte)'9')
        {
            return c - '0';
        }

        int lower = c | 0x20;
        if (hex && lower >= 'a' && lower <= 'f')
        {
            return lower - 'a' + 10;
        }

        return -1;
    }
}
