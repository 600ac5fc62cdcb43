using CsCheck;

namespace Durable.Server.Tests;

public sealed class HashCounterCommandsTests(ReferenceServers servers)
{
    [Theory]
    [InlineData(null, "1")]
    [InlineData(null, "-9223372036854775808")]
    [InlineData("9223372036854775807", "1")]
    [InlineData("9223372036854775806", "1")]
    [InlineData("-9223372036854775808", "-1")]
    [InlineData("-9223372036854775807", "-1")]
    [InlineData("-1", "-9223372036854775808")]
    [InlineData("1", "9223372036854775807")]
    [InlineData("-2", "9223372036854775807")]
    [InlineData("5", "9223372036854775808")]
    [InlineData("5", "1.0")]
    [InlineData("5", " 1")]
    [InlineData("5", "+1")]
    [InlineData("5", "01")]
    [InlineData("5", "")]
    [InlineData("", "1")]
    [InlineData(" 1", "1")]
    [InlineData("+1", "1")]
    [InlineData("007", "1")]
    [InlineData("-0", "1")]
    [InlineData("1.0", "1")]
    [InlineData("abc", "x")]
    [InlineData("0", "0")]
    public void HIncrBy_EdgeValues_MatchRedis(string? initial, string increment) => IncrementField("HINCRBY", initial, increment);

    [Theory]
    [InlineData(null, "1.5")]
    [InlineData("10.5", "0.1")]
    [InlineData("1000.1", "0.1")]
    [InlineData("3", "-3")]
    [InlineData("-0", "0")]
    [InlineData("5", "inf")]
    [InlineData("5", "-Infinity")]
    [InlineData("5", "nan")]
    [InlineData("5", "1e4932")]
    [InlineData("1e4932", "1e4932")]
    [InlineData("1e4930", "1e4931")]
    [InlineData("inf", "1")]
    [InlineData("nan", "1")]
    [InlineData("abc", "1")]
    [InlineData(" 1", "1")]
    [InlineData("", "1")]
    [InlineData("0x10", "0x1p-2")]
    [InlineData("5", " 1")]
    [InlineData("5", "")]
    [InlineData("5", "1e")]
    [InlineData("9223372036854775807", "1")]
    [InlineData("1", "5.0e3")]
    [InlineData("1", "1e-4950")]
    [InlineData("1e300", "1")]
    public void HIncrByFloat_EdgeValues_MatchRedis(string? initial, string increment) => IncrementField("HINCRBYFLOAT", initial, increment);

    [Fact]
    public void Counters_ErrorOrder_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "s", "x");
        both.Same("HINCRBY", p + "s", "f", "x");
        both.Same("HINCRBY", p + "s", "f", "1");
        both.Same("HINCRBYFLOAT", p + "s", "f", "x");
        both.Same("HINCRBYFLOAT", p + "s", "f", "inf");
        both.Same("HINCRBYFLOAT", p + "s", "f", "1");
        both.Same("HINCRBY", p + "new", "f", "x");
        both.Same("HINCRBYFLOAT", p + "new", "f", "inf");
        both.Same("EXISTS", p + "new");
        both.Same("HINCRBY", p + "new", "f", "-7");
        both.Same("HINCRBYFLOAT", p + "new", "g", "-7.25");
        both.Same("HGETALL", p + "new");
    }

    [Fact]
    public void HIncrByFloat_RandomNumbers_MatchRedis()
    {
        Gen<string> number = Gen.Select(Gen.Int[0, 2], Gen.Char["0123456789"].Array[1, 20], Gen.Int[0, 20], Gen.Int[-30, 30], Gen.Bool,
            (sign, digits, point, exponent, scaled) =>
            {
                string text = new(digits);
                point = Math.Min(point, text.Length);
                string mantissa = text[..point] + "." + text[point..];
                return (sign == 0 ? "-" : "") + (mantissa == "." ? "0" : mantissa) + (scaled ? "e" + exponent.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
            });
        Gen.Select(number, number).Sample((initial, increment) =>
        {
            using ReplyComparison both = servers.Compare();
            string k = servers.NewPrefix() + "h";
            both.Same("HSET", k, "f", initial);
            both.Same("HINCRBYFLOAT", k, "f", increment);
        }, iter: 300);
    }

    // Field f holds initial (or is missing) next to another field; the increment's reply and the hash after it (a long
    // result converts the hash to a hashtable, whose order is Redis's hash table order).
    private void IncrementField(string command, string? initial, string increment)
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "h";
        both.Same("HSET", k, "other", "1");
        if (initial is not null)
        {
            both.Same("HSET", k, "f", initial);
        }

        both.Same(command, k, "f", increment);
        both.Same("HGET", k, "f");
        both.Same("HSTRLEN", k, "f");
        both.Same("OBJECT", "ENCODING", k);
        HashCommandsTests.AssertSameFields(both, k);
    }
}
