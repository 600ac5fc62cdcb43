using CsCheck;
using System.Buffers;
using System.Text;

namespace Durable.Protocol.Tests;

public sealed class RespParserTests
{
    private static readonly RespLimits s_limits = new();

    public static TheoryData<string, string[]> ValidFrames => new()
    {
        { "*1\r\n$4\r\nPING\r\n", ["PING"] },
        { "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", ["SET", "k", ""] },
        { "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", ["ECHO", "a\r\nb"] },
        { "PING\r\n", ["PING"] },
        { "SET k \"a b\" 'c d'\n", ["SET", "k", "a b", "c d"] },
        { "ECHO \"\\x41\\n\"\r\n", ["ECHO", "A\n"] },
    };

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void TryParse_WholeFrame_ReturnsArguments(string frame, string[] expected)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(frame);
        RespRequest request = new();
        Assert.Equal(OperationStatus.Done, RespParser.TryParse(bytes, request, s_limits, out int consumed));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(expected, Arguments(request, bytes));
    }

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void TryParse_EveryPrefix_NeedsMoreDataAndConsumesNothing(string frame, string[] expected)
    {
        _ = expected;
        byte[] bytes = Encoding.Latin1.GetBytes(frame);
        RespRequest request = new();
        for (int length = 0; length < bytes.Length; length++)
        {
            OperationStatus status = RespParser.TryParse(bytes.AsSpan(0, length), request, s_limits, out int consumed);
            Assert.True(status == OperationStatus.NeedMoreData, $"prefix of {length} bytes gave {status}");
            Assert.Equal(0, consumed);
            Assert.True(request.MinimumLength > length, "NeedMoreData always asks for more than it saw");
        }
    }

    [Fact]
    public void TryParse_TwoFrames_ConsumesOnlyTheFirst()
    {
        byte[] bytes = "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"u8.ToArray();
        RespRequest request = new();
        Assert.Equal(OperationStatus.Done, RespParser.TryParse(bytes, request, s_limits, out int consumed));
        Assert.Equal(14, consumed);
    }

    [Theory]
    [InlineData("*x\r\n", RespProtocolError.InvalidMultibulkLength)]
    [InlineData("*01\r\n", RespProtocolError.InvalidMultibulkLength)]
    [InlineData("*1\r\n+PING\r\n", RespProtocolError.ExpectedDollar)]
    [InlineData("*1\r\n$-1\r\n", RespProtocolError.InvalidBulkLength)]
    [InlineData("*1\r\n$536870913\r\n", RespProtocolError.InvalidBulkLength)]
    [InlineData("ECHO \"a\r\n", RespProtocolError.UnbalancedQuotes)]
    [InlineData("ECHO 'a'b\r\n", RespProtocolError.UnbalancedQuotes)]
    public void TryParse_Malformed_ReportsRedisError(string frame, RespProtocolError error)
    {
        RespRequest request = new();
        Assert.Equal(OperationStatus.InvalidData, RespParser.TryParse(Encoding.Latin1.GetBytes(frame), request, s_limits, out _));
        Assert.Equal(error, request.Error);
    }

    [Fact]
    public void TryParse_LengthLineWithoutEnd_FailsPastInlineLimit()
    {
        RespRequest request = new();
        byte[] bytes = Encoding.ASCII.GetBytes("*" + new string('1', 70_000));
        Assert.Equal(OperationStatus.InvalidData, RespParser.TryParse(bytes, request, s_limits, out _));
        Assert.Equal(RespProtocolError.TooBigMultibulkCount, request.Error);
    }

    [Theory]
    [InlineData("ECHO 'x'\0\n")]
    [InlineData("\0PING\r\n")]
    [InlineData("*1\0\r\n$4\r\nPING\r\n")]
    [InlineData("*2\r\n$4\r\nECHO\r\n$1\0\r\nx\r\n")]
    public void TryParse_NulBeforeLineEnd_WaitsAsRedisStrchrDoes(string frame)
    {
        // Redis finds a line's end with strchr, which stops at a NUL: the line stays incomplete, whatever follows.
        RespRequest request = new();
        Assert.Equal(OperationStatus.NeedMoreData, RespParser.TryParse(Encoding.Latin1.GetBytes(frame), request, s_limits, out int consumed));
        Assert.Equal(0, consumed);
        byte[] grown = Encoding.Latin1.GetBytes(frame + new string('y', 70_000) + "\r\n");
        Assert.Equal(OperationStatus.InvalidData, RespParser.TryParse(grown, request, s_limits, out _));
        Assert.True(request.Error is RespProtocolError.TooBigInline or RespProtocolError.TooBigMultibulkCount or RespProtocolError.TooBigBulkCount);
    }

    [Fact]
    public void TryParse_WrongByteForDollar_IsReportedOnlyOnceItsLineHasEnded()
    {
        RespRequest request = new();
        Assert.Equal(OperationStatus.NeedMoreData, RespParser.TryParse("*2\r\n$4\r\nECHO\r\n:1"u8, request, s_limits, out _));
        Assert.Equal(OperationStatus.InvalidData, RespParser.TryParse("*2\r\n$4\r\nECHO\r\n:1\r\n"u8, request, s_limits, out _));
        Assert.Equal(RespProtocolError.ExpectedDollar, request.Error);
        Assert.Equal((byte)':', request.UnexpectedByte);
    }

    [Fact]
    public void TryParse_TooManyArguments_IsRejected()
    {
        RespRequest request = new();
        Assert.Equal(OperationStatus.InvalidData, RespParser.TryParse("*2000000\r\n"u8, request, s_limits, out _));
        Assert.Equal(RespProtocolError.InvalidMultibulkLength, request.Error);
    }

    [Fact]
    public void TryParse_RandomBytes_NeverThrows()
    {
        Gen.Byte.Array[0, 64].Sample(AnyOutcomeButAnException);
    }

    [Fact]
    public void TryParse_RandomFramesOfProtocolBytes_NeverThrows()
    {
        // Uniform bytes rarely make a frame; these are drawn from the bytes a frame is made of, so that misplaced CRs,
        // LFs, NULs, signs and quotes land inside length lines and payloads.
        Gen.OneOfConst("*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n"u8.ToArray().Concat("\0 -+:\"'\\"u8.ToArray()).ToArray()).Array[0, 48]
            .Sample(AnyOutcomeButAnException, iter: 20_000);
    }

    [Fact]
    public void TryParse_CarriageReturnWhereDollarBelongs_IsExpectedDollar()
    {
        RespRequest request = new();
        Assert.Equal(OperationStatus.InvalidData, RespParser.TryParse("*2\r\n\r\nECHO\r\n"u8, request, s_limits, out _));
        Assert.Equal(RespProtocolError.ExpectedDollar, request.Error);
        Assert.Equal((byte)'\r', request.UnexpectedByte);
    }

    private static void AnyOutcomeButAnException(byte[] bytes)
    {
        RespRequest request = new();
        OperationStatus status = RespParser.TryParse(bytes, request, s_limits, out int consumed);
        Assert.InRange(consumed, 0, bytes.Length);
        Assert.True(status is OperationStatus.Done or OperationStatus.NeedMoreData or OperationStatus.InvalidData);
    }

    private static string[] Arguments(RespRequest request, byte[] input)
    {
        RespArgs args = request.GetArgs(input);
        string[] result = new string[args.Count];
        for (int i = 0; i < args.Count; i++)
        {
            result[i] = Encoding.Latin1.GetString(args[i]);
        }

        return result;
    }
}
