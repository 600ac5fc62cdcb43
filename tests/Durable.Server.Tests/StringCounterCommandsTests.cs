using System.Globalization;
using CsCheck;

namespace Durable.Server.Tests;

public sealed class StringCounterCommandsTests(ReferenceServers servers)
{
    /// <summary>Decimal texts of every shape strtold reads: signs, points anywhere, small and very large exponents.</summary>
    private static readonly Gen<string> s_number = Gen.Select(
        Gen.Int[0, 2], Gen.Char["0123456789"].Array[1, 24], Gen.Int[0, 24], Gen.Int[-40, 40], Gen.Int[0, 3],
        (sign, digits, point, exponent, form) =>
        {
            string text = new(digits);
            point = Math.Min(point, text.Length);
            string mantissa = form == 3 ? text : text[..point] + "." + text[point..];
            string scale = form switch
            {
                1 => "e" + exponent.ToString(CultureInfo.InvariantCulture),
                2 => "E" + (exponent * 120).ToString(CultureInfo.InvariantCulture),
                _ => "",
            };
            return (sign == 0 ? "-" : sign == 1 ? "+" : "") + (mantissa == "." ? "0" : mantissa) + scale;
        });

    [Fact]
    public void IncrDecr_Basics_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("INCR", k);
        both.Same("INCR", k);
        both.Same("DECR", k);
        both.Same("DECR", k);
        both.Same("DECR", k);
        both.Same("INCRBY", k, "100");
        both.Same("INCRBY", k, "-1000");
        both.Same("DECRBY", k, "-50");
        both.Same("DECRBY", k, "7");
        both.Same("GET", k);
        both.Same("INCRBY", k, "0");
    }

    [Theory]
    [InlineData("9223372036854775807", "INCR")]
    [InlineData("-9223372036854775808", "DECR")]
    [InlineData("9223372036854775806", "INCR")]
    [InlineData("-9223372036854775807", "DECR")]
    [InlineData("1", "INCRBY", "9223372036854775807")]
    [InlineData("-1", "INCRBY", "-9223372036854775808")]
    [InlineData("-2", "INCRBY", "-9223372036854775807")]
    [InlineData("0", "DECRBY", "-9223372036854775808")]
    [InlineData("0", "DECRBY", "9223372036854775807")]
    [InlineData("-1", "DECRBY", "9223372036854775807")]
    [InlineData("-2", "DECRBY", "9223372036854775807")]
    [InlineData("5", "INCRBY", "9223372036854775808")]
    [InlineData("5", "INCRBY", "1.0")]
    [InlineData("5", "INCRBY", " 1")]
    [InlineData("5", "INCRBY", "+1")]
    [InlineData("5", "INCRBY", "01")]
    [InlineData("5", "INCRBY", "-0")]
    [InlineData("5", "INCRBY", "")]
    [InlineData("5", "DECRBY", "x")]
    [InlineData("", "INCR")]
    [InlineData(" 1", "INCR")]
    [InlineData("1 ", "INCR")]
    [InlineData("+1", "INCR")]
    [InlineData("007", "INCR")]
    [InlineData("-0", "INCR")]
    [InlineData("1.0", "INCR")]
    [InlineData("1e3", "INCR")]
    [InlineData("9223372036854775808", "INCR")]
    [InlineData("abc", "DECRBY", "1")]
    [InlineData("0", "DECR")]
    public void Counters_EdgeValues_MatchRedis(string initial, string command, string? argument = null)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, initial);
        both.Same(argument is null ? [command, k] : [command, k, argument]);
        both.Same("GET", k);
    }

    [Fact]
    public void Counters_KeepExpiry_LikeRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "i", "1", "EX", "100");
        both.Same("INCR", p + "i");
        StringTests.AssertSameTtl(servers, both, p + "i");
        both.Same("SET", p + "f", "1.5", "EX", "100");
        both.Same("INCRBYFLOAT", p + "f", "1");
        StringTests.AssertSameTtl(servers, both, p + "f");
        both.Same("INCRBYFLOAT", p + "new", "1");
        StringTests.AssertSameTtl(servers, both, p + "new");
        both.Same("INCR", p + "new2");
        StringTests.AssertSameTtl(servers, both, p + "new2");
    }

    [Theory]
    [InlineData("10.5", "0.1")]
    [InlineData("0.1", "0.2")]
    [InlineData("1000.1", "0.1")]
    [InlineData("-1000.7", "0.3")]
    [InlineData("123456.789", "0.001")]
    [InlineData("1", "1e-18")]
    [InlineData("1", "1e-17")]
    [InlineData("1", "5e-18")]
    [InlineData("0", "0.000003814697265625")]
    [InlineData("0", "0.000003814697265627")]
    [InlineData("0", "-0.000003814697265625")]
    [InlineData("3", "1e400")]
    [InlineData("1e20", "0.5")]
    [InlineData("5.0e3", "2.0e2")]
    [InlineData("10", "-10")]
    [InlineData("-0", "0")]
    [InlineData("0", "-0")]
    [InlineData("-1e-30", "0")]
    [InlineData("9223372036854775807", "1")]
    [InlineData("18446744073709551617", "0")]
    [InlineData("1.7976931348623157e308", "1e308")]
    [InlineData("1e4932", "1e4932")]
    [InlineData("1.18973149535723176502e4932", "0")]
    [InlineData("1.18973149535723176503e4932", "0")]
    [InlineData("1e-4950", "0")]
    [InlineData("1e-4952", "0")]
    [InlineData("1e-5000", "0")]
    [InlineData("1e5000", "0")]
    [InlineData("0e99999999999", "1")]
    [InlineData("0x1p3", "0x.8")]
    [InlineData("0X1P-3", "1")]
    [InlineData("0x", "1")]
    [InlineData("0x1p", "1")]
    [InlineData("1", "inf")]
    [InlineData("1", "-Infinity")]
    [InlineData("1", "infinit")]
    [InlineData("1", "nan")]
    [InlineData("1", "NaN")]
    [InlineData("1", " 1")]
    [InlineData("1", "1 ")]
    [InlineData("1", "\t1")]
    [InlineData("1", "+1.5")]
    [InlineData("1", "1e")]
    [InlineData("1", "1e+")]
    [InlineData("1", "1.")]
    [InlineData("1", ".5")]
    [InlineData("1", ".")]
    [InlineData("1", "-.e1")]
    [InlineData("1", "1,5")]
    [InlineData("1", "")]
    [InlineData("1", "\0")]
    [InlineData("1", "2\0junk")]
    [InlineData("abc", "1")]
    [InlineData("", "1")]
    [InlineData("1.5", "abc")]
    [InlineData("0.1", "0.1")]
    [InlineData("99999999999999999999999999999", "0.1")]
    [InlineData("1.00000000000000000001", "0")]
    [InlineData("3.14159265358979323846264338327950288", "2.71828182845904523536028747135266249")]
    public void IncrByFloat_LongDoubleResults_MatchRedis(string initial, string increment)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("SET", k, initial);
        both.Same("INCRBYFLOAT", k, increment);
        both.Same("GET", k);
        both.Same("INCRBYFLOAT", k, "0.1");
        both.Same("INCRBYFLOAT", k + "missing", increment);
    }

    [Fact]
    public void IncrByFloat_RandomOperands_MatchRedis()
    {
        Gen.Select(s_number, s_number).Sample((initial, increment) =>
        {
            using ReplyComparison both = servers.Compare();
            string k = servers.NewPrefix() + "k";
            both.Same("SET", k, initial);
            both.Same("INCRBYFLOAT", k, increment);
            both.Same("INCRBYFLOAT", k, increment);
        }, iter: 400);
    }

    [Fact]
    public void IncrByFloat_TooLongText_NotAFloatLikeRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("INCRBYFLOAT", k, "1." + new string('1', 5116));
        both.Same("INCRBYFLOAT", k, "1." + new string('1', 5117));
        both.Same("SET", k, "0." + new string('0', 5000) + "1");
        both.Same("INCRBYFLOAT", k, "1");
    }

    [Fact]
    public void IncrByFloat_RepeatedSmallSteps_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        for (int i = 0; i < 50; i++)
        {
            both.Same("INCRBYFLOAT", k, "0.1");
        }

        for (int i = 0; i < 30; i++)
        {
            both.Same("INCRBYFLOAT", k, "-1234.5678");
        }
    }
}
