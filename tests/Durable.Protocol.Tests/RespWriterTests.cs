using CsCheck;
using System.Buffers;
using System.Text;

namespace Durable.Protocol.Tests;

public sealed class RespWriterTests
{
    [Fact]
    public void Writers_ProduceExactBytes()
    {
        ArrayBufferWriter<byte> w = new();
        RespWriter.WriteSimpleString(w, "OK"u8);
        RespWriter.WriteError(w, "ERR x"u8);
        RespWriter.WriteInteger(w, -42);
        RespWriter.WriteBulkString(w, "ab"u8);
        RespWriter.WriteBulkString(w, ""u8);
        RespWriter.WriteNull(w, RespVersion.Resp2);
        RespWriter.WriteNull(w, RespVersion.Resp3);
        RespWriter.WriteArrayHeader(w, 3);
        RespWriter.WriteMapHeader(w, 2, RespVersion.Resp2);
        RespWriter.WriteMapHeader(w, 2, RespVersion.Resp3);
        RespWriter.WriteDouble(w, "1.5"u8, RespVersion.Resp3);
        RespWriter.WriteBoolean(w, true, RespVersion.Resp3);
        RespWriter.WriteVerbatim(w, "hi"u8, RespVersion.Resp3);
        Assert.Equal("+OK\r\n-ERR x\r\n:-42\r\n$2\r\nab\r\n$0\r\n\r\n$-1\r\n_\r\n*3\r\n*4\r\n%2\r\n,1.5\r\n#t\r\n=6\r\ntxt:hi\r\n", Encoding.ASCII.GetString(w.WrittenSpan));
    }

    [Fact]
    public void WriterThenParser_RoundTripsArbitraryArguments()
    {
        Gen.Byte.Array[0, 40].Array[1, 6].Sample(arguments =>
        {
            ArrayBufferWriter<byte> w = new();
            RespWriter.WriteArrayHeader(w, arguments.Length);
            foreach (byte[] a in arguments)
            {
                RespWriter.WriteBulkString(w, a);
            }

            RespRequest request = new();
            Assert.Equal(OperationStatus.Done, RespParser.TryParse(w.WrittenSpan, request, new RespLimits(), out int consumed));
            Assert.Equal(w.WrittenCount, consumed);
            RespArgs args = request.GetArgs(w.WrittenSpan);
            for (int i = 0; i < arguments.Length; i++)
            {
                Assert.True(args[i].SequenceEqual(arguments[i]));
            }
        });
    }
}
