using System.Text;

namespace Durable.Protocol.Tests;

public sealed class RedisNumberTests
{
    [Theory]
    [InlineData("0", true, 0L)]
    [InlineData("-1", true, -1L)]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("-9223372036854775808", true, long.MinValue)]
    [InlineData("9223372036854775808", false, 0L)]
    [InlineData("01", false, 0L)]
    [InlineData("-0", false, 0L)]
    [InlineData("+1", false, 0L)]
    [InlineData(" 1", false, 0L)]
    [InlineData("", false, 0L)]
    [InlineData("1.0", false, 0L)]
    public void TryParseInt64_FollowsString2ll(string text, bool ok, long value)
    {
        Assert.Equal(ok, RedisNumber.TryParseInt64(Encoding.ASCII.GetBytes(text), out long parsed));
        Assert.Equal(value, parsed);
    }
}
