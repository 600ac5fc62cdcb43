using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;

namespace Durable.Protocol;

/// <summary>
/// Writes RESP replies into any <see cref="IBufferWriter{T}"/>: the connection's PipeWriter in production,
/// an ArrayBufferWriter in tests. Never flushes. Methods that differ between RESP2 and RESP3 take the version.
/// </summary>
public static class RespWriter
{
    public static void WriteRaw(IBufferWriter<byte> writer, ReadOnlySpan<byte> bytes) => writer.Write(bytes);

    public static void WriteSimpleString(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        Debug.Assert(value.IndexOfAny((byte)'\r', (byte)'\n') < 0, "simple strings never hold CR or LF");
        WriteLine(writer, (byte)'+', value);
    }

    /// <summary>Writes <c>-text\r\n</c>; <paramref name="text"/> carries its own prefix (ERR, WRONGTYPE, ...).</summary>
    public static void WriteError(IBufferWriter<byte> writer, ReadOnlySpan<byte> text)
    {
        Debug.Assert(text.IndexOfAny((byte)'\r', (byte)'\n') < 0, "errors never hold CR or LF");
        WriteLine(writer, (byte)'-', text);
    }

    public static void WriteInteger(IBufferWriter<byte> writer, long value) => WriteNumberLine(writer, (byte)':', value);

    public static void WriteArrayHeader(IBufferWriter<byte> writer, long count) => WriteNumberLine(writer, (byte)'*', count);

    public static void WriteBulkString(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        Span<byte> span = writer.GetSpan(value.Length + 24);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(value.Length, span[1..], out int n);
        int pos = n + 1;
        span[pos++] = (byte)'\r';
        span[pos++] = (byte)'\n';
        value.CopyTo(span[pos..]);
        pos += value.Length;
        span[pos++] = (byte)'\r';
        span[pos++] = (byte)'\n';
        writer.Advance(pos);
    }

    /// <summary>A bulk string holding the decimal form of <paramref name="value"/>.</summary>
    public static void WriteBulkInteger(IBufferWriter<byte> writer, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        WriteBulkString(writer, digits[..n]);
    }

    /// <summary>The null bulk string: <c>$-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public static void WriteNull(IBufferWriter<byte> writer, RespVersion version) =>
        writer.Write(version == RespVersion.Resp3 ? RespConstants.Null3 : RespConstants.NullBulk);

    /// <summary>The null array: <c>*-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public static void WriteNullArray(IBufferWriter<byte> writer, RespVersion version) =>
        writer.Write(version == RespVersion.Resp3 ? RespConstants.Null3 : RespConstants.NullArray);

    /// <summary>A map header: <c>%n</c> in RESP3, an array of 2n in RESP2.</summary>
    public static void WriteMapHeader(IBufferWriter<byte> writer, long pairs, RespVersion version) =>
        WriteNumberLine(writer, version == RespVersion.Resp3 ? (byte)'%' : (byte)'*', version == RespVersion.Resp3 ? pairs : 2 * pairs);

    /// <summary>A set header: <c>~n</c> in RESP3, an array in RESP2.</summary>
    public static void WriteSetHeader(IBufferWriter<byte> writer, long count, RespVersion version) =>
        WriteNumberLine(writer, version == RespVersion.Resp3 ? (byte)'~' : (byte)'*', count);

    /// <summary>A push header (<c>&gt;n</c>) in RESP3, an array in RESP2.</summary>
    public static void WritePushHeader(IBufferWriter<byte> writer, long count, RespVersion version) =>
        WriteNumberLine(writer, version == RespVersion.Resp3 ? (byte)'>' : (byte)'*', count);

    /// <summary>A double: <c>,value</c> in RESP3, a bulk string in RESP2. <paramref name="text"/> is already formatted.</summary>
    public static void WriteDouble(IBufferWriter<byte> writer, ReadOnlySpan<byte> text, RespVersion version)
    {
        if (version == RespVersion.Resp3)
        {
            WriteLine(writer, (byte)',', text);
        }
        else
        {
            WriteBulkString(writer, text);
        }
    }

    /// <summary>A boolean: <c>#t</c>/<c>#f</c> in RESP3, <c>:1</c>/<c>:0</c> in RESP2.</summary>
    public static void WriteBoolean(IBufferWriter<byte> writer, bool value, RespVersion version)
    {
        if (version == RespVersion.Resp3)
        {
            writer.Write(value ? "#t\r\n"u8 : "#f\r\n"u8);
        }
        else
        {
            WriteInteger(writer, value ? 1 : 0);
        }
    }

    /// <summary>A verbatim string (<c>=n\r\ntxt:...</c>) in RESP3, a bulk string in RESP2 (as Redis does for INFO, CLIENT INFO).</summary>
    public static void WriteVerbatim(IBufferWriter<byte> writer, ReadOnlySpan<byte> text, RespVersion version)
    {
        if (version != RespVersion.Resp3)
        {
            WriteBulkString(writer, text);
            return;
        }

        WriteNumberLine(writer, (byte)'=', text.Length + 4);
        writer.Write("txt:"u8);
        writer.Write(text);
        writer.Write(RespConstants.CrLf);
    }

    private static void WriteLine(IBufferWriter<byte> writer, byte prefix, ReadOnlySpan<byte> value)
    {
        Span<byte> span = writer.GetSpan(value.Length + 3);
        span[0] = prefix;
        value.CopyTo(span[1..]);
        span[value.Length + 1] = (byte)'\r';
        span[value.Length + 2] = (byte)'\n';
        writer.Advance(value.Length + 3);
    }

    private static void WriteNumberLine(IBufferWriter<byte> writer, byte prefix, long value)
    {
        Span<byte> span = writer.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        writer.Advance(n + 3);
    }
}
