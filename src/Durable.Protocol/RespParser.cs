using System.Buffers;

namespace Durable.Protocol;

/// <summary>
/// Parses one command (a RESP multibulk array or an inline line) from the start of a contiguous span,
/// following Redis's processMultibulkBuffer and processInlineBuffer rules, error texts included.
/// Consumes nothing unless a whole frame is present; allocates nothing.
/// </summary>
public static class RespParser
{
    /// <summary>
    /// Returns <c>Done</c> with <paramref name="consumed"/> set to the frame length (the request may be empty, e.g. <c>*0</c>
    /// or a blank inline line: skip it), <c>NeedMoreData</c> with <see cref="RespRequest.MinimumLength"/> set when known,
    /// or <c>InvalidData</c> with <see cref="RespRequest.Error"/> set.
    /// </summary>
    public static OperationStatus TryParse(ReadOnlySpan<byte> input, RespRequest request, RespLimits limits, out int consumed)
    {
        consumed = 0;
        request.Reset();
        if (input.IsEmpty)
        {
            request.MinimumLength = 1;
            return OperationStatus.NeedMoreData;
        }

        return input[0] == (byte)'*'
            ? TryParseMultibulk(input, request, limits, out consumed)
            : TryParseInline(input, request, limits, out consumed);
    }

    private static OperationStatus TryParseMultibulk(ReadOnlySpan<byte> input, RespRequest request, RespLimits limits, out int consumed)
    {
        consumed = 0;
        OperationStatus status = TryReadLengthLine(input, 0, limits, RespProtocolError.TooBigMultibulkCount, request, out long count, out int pos, out bool parsed);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        if (!parsed || count > limits.MaxArguments)
        {
            request.Error = RespProtocolError.InvalidMultibulkLength;
            return OperationStatus.InvalidData;
        }

        if (count <= 0)
        {
            consumed = pos;
            return OperationStatus.Done;
        }

        for (long i = 0; i < count; i++)
        {
            if (pos >= input.Length)
            {
                request.MinimumLength = pos + 1;
                return OperationStatus.NeedMoreData;
            }

            // Redis looks for the line's end before it looks at the '$'.
            status = TryReadLengthLine(input, pos, limits, RespProtocolError.TooBigBulkCount, request, out long length, out int dataStart, out parsed);
            if (status != OperationStatus.Done)
            {
                return status;
            }

            if (input[pos] != (byte)'$')
            {
                request.Error = RespProtocolError.ExpectedDollar;
                request.UnexpectedByte = input[pos];
                return OperationStatus.InvalidData;
            }

            if (!parsed || length < 0 || length > limits.MaxBulkLength)
            {
                request.Error = RespProtocolError.InvalidBulkLength;
                return OperationStatus.InvalidData;
            }

            // Redis skips the two bytes after the payload without checking that they are CRLF.
            long end = dataStart + length + 2;
            if (end > input.Length)
            {
                request.MinimumLength = end;
                return OperationStatus.NeedMoreData;
            }

            request.Add(dataStart, (int)length);
            pos = (int)end;
        }

        consumed = pos;
        return OperationStatus.Done;
    }

    /// <summary>
    /// Reads the number after the '*' or '$' at <paramref name="start"/> up to CR LF; <paramref name="next"/> is the
    /// position after the LF (Redis skips that byte without checking it).
    /// </summary>
    private static OperationStatus TryReadLengthLine(
        ReadOnlySpan<byte> input, int start, RespLimits limits, RespProtocolError tooBig, RespRequest request,
        out long value, out int next, out bool parsed)
    {
        value = 0;
        next = 0;
        parsed = false;
        int cr = LineEnd(input[start..], (byte)'\r');
        if (cr < 0)
        {
            if (input.Length - start > limits.MaxInlineLength)
            {
                request.Error = tooBig;
                return OperationStatus.InvalidData;
            }

            request.MinimumLength = input.Length + 1;
            return OperationStatus.NeedMoreData;
        }

        if (start + cr + 1 >= input.Length)
        {
            // The CR is there, the LF is not yet.
            request.MinimumLength = start + cr + 2;
            return OperationStatus.NeedMoreData;
        }

        // A CR right at the start leaves no number (and no '$', which the caller reports).
        parsed = cr > 0 && RedisNumber.TryParseInt64(input.Slice(start + 1, cr - 1), out value);
        next = start + cr + 2;
        return OperationStatus.Done;
    }

    /// <summary>
    /// Where <paramref name="end"/> first occurs, as Redis's strchr on its query buffer finds it: a NUL byte before it
    /// hides it (the line counts as incomplete until the buffer outgrows the length limit). -1 when not found.
    /// </summary>
    private static int LineEnd(ReadOnlySpan<byte> input, byte end)
    {
        int found = input.IndexOfAny(end, (byte)0);
        return found >= 0 && input[found] == end ? found : -1;
    }

    private static OperationStatus TryParseInline(ReadOnlySpan<byte> input, RespRequest request, RespLimits limits, out int consumed)
    {
        consumed = 0;
        int newline = LineEnd(input, (byte)'\n');
        if (newline < 0)
        {
            if (input.Length > limits.MaxInlineLength)
            {
                request.Error = RespProtocolError.TooBigInline;
                return OperationStatus.InvalidData;
            }

            request.MinimumLength = input.Length + 1;
            return OperationStatus.NeedMoreData;
        }

        ReadOnlySpan<byte> line = input[..newline];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        request.BeginInline();
        if (!InlineSplitter.TrySplit(line, request))
        {
            request.Error = RespProtocolError.UnbalancedQuotes;
            return OperationStatus.InvalidData;
        }

        consumed = newline + 1;
        return OperationStatus.Done;
    }
}
