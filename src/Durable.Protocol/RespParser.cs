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

        if (limits.Unauthenticated && count > RespLimits.UnauthenticatedMaxArguments)
        {
            request.Error = RespProtocolError.UnauthenticatedMultibulkLength;
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

            if (limits.Unauthenticated && length > RespLimits.UnauthenticatedMaxBulkLength)
            {
                request.Error = RespProtocolError.UnauthenticatedBulkLength;
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
    /// position after the LF (Redis skips that byte without checking it). The caller checks the first byte.
    /// </summary>
    private static OperationStatus TryReadLengthLine(
        ReadOnlySpan<byte> input, int start, RespLimits limits, RespProtocolError tooBig, RespRequest request,
        out long value, out int next, out bool parsed)
    {
        value = 0;
        next = 0;
        parsed = false;
        int cr = input[start..].IndexOf((byte)'\r');
        if (cr < 0)
        {
            return Incomplete(input, start, limits, tooBig, request);
        }

        if (start + cr + 1 >= input.Length)
        {
            // The CR is there, the LF is not yet.
            request.MinimumLength = start + cr + 2;
            return OperationStatus.NeedMoreData;
        }

        // A CR right at the start leaves no number (and no '$', which the caller reports).
        parsed = cr > 0 && RedisNumber.TryParseInt64(input.Slice(start + 1, cr - 1), out value);
        if ((!parsed || input[start] is not ((byte)'$' or (byte)'*')) && input.Slice(start, cr).Contains((byte)0))
        {
            // Redis finds the CR with strchr, which stops at a NUL: to Redis this line has not ended. (A well-formed
            // line has no NUL, so only a malformed one pays for this look.)
            return Incomplete(input, start, limits, tooBig, request);
        }

        next = start + cr + 2;
        return OperationStatus.Done;
    }

    // A line whose end Redis cannot see yet: wait for more, unless the buffer already holds more than a line may.
    private static OperationStatus Incomplete(ReadOnlySpan<byte> input, int start, RespLimits limits, RespProtocolError tooBig, RespRequest request)
    {
        if (input.Length - start > limits.MaxInlineLength)
        {
            request.Error = tooBig;
            return OperationStatus.InvalidData;
        }

        request.MinimumLength = input.Length + 1;
        return OperationStatus.NeedMoreData;
    }

    private static OperationStatus TryParseInline(ReadOnlySpan<byte> input, RespRequest request, RespLimits limits, out int consumed)
    {
        consumed = 0;
        int newline = input.IndexOf((byte)'\n');
        if (newline < 0 || input[..newline].Contains((byte)0))
        {
            // (strchr stops at a NUL, so Redis cannot see a line end behind one.)
            return Incomplete(input, 0, limits, RespProtocolError.TooBigInline, request);
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
