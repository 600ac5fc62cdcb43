namespace Durable.Protocol;

/// <summary>Splits an inline command line into arguments exactly as Redis's sdssplitargs does (quotes, \xHH and C escapes).</summary>
public static class InlineSplitter
{
    /// <summary>
    /// The arguments of <paramref name="line"/> as sdssplitargs gives them, or null where it gives none (unbalanced
    /// quotes); for the other places Redis splits a line so (a function library's shebang).
    /// </summary>
    public static byte[][]? Split(ReadOnlySpan<byte> line)
    {
        RespRequest request = new();
        request.BeginInline();
        if (!TrySplit(line, request))
        {
            return null;
        }

        RespArgs args = request.GetArgs(line);
        byte[][] parts = new byte[args.Count][];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = args[i].ToArray();
        }

        return parts;
    }

    internal static bool TrySplit(ReadOnlySpan<byte> line, RespRequest request)
    {
        int p = 0;
        while (true)
        {
            while (p < line.Length && IsSpace(line[p]))
            {
                p++;
            }

            if (p >= line.Length)
            {
                return true;
            }

            bool inDouble = false;
            bool inSingle = false;
            bool done = false;
            int start = request.InlineLength;
            while (!done)
            {
                if (inDouble)
                {
                    if (p >= line.Length)
                    {
                        return false;
                    }

                    if (line[p] == (byte)'\\' && p + 3 < line.Length && line[p + 1] == (byte)'x' && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        request.AppendInline((byte)((HexValue(line[p + 2]) * 16) + HexValue(line[p + 3])));
                        p += 3;
                    }
                    else if (line[p] == (byte)'\\' && p + 1 < line.Length)
                    {
                        p++;
                        request.AppendInline(line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            byte other => other,
                        });
                    }
                    else if (line[p] == (byte)'"')
                    {
                        // Redis: the closing quote must be followed by a space or nothing.
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        request.AppendInline(line[p]);
                    }
                }
                else if (inSingle)
                {
                    if (p >= line.Length)
                    {
                        return false;
                    }

                    if (line[p] == (byte)'\\' && p + 1 < line.Length && line[p + 1] == (byte)'\'')
                    {
                        p++;
                        request.AppendInline((byte)'\'');
                    }
                    else if (line[p] == (byte)'\'')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1]))
                        {
                            return false;
                        }

                        done = true;
                    }
                    else
                    {
                        request.AppendInline(line[p]);
                    }
                }
                else if (p >= line.Length)
                {
                    done = true;
                }
                else
                {
                    switch (line[p])
                    {
                        case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDouble = true;
                            break;
                        case (byte)'\'':
                            inSingle = true;
                            break;
                        default:
                            request.AppendInline(line[p]);
                            break;
                    }
                }

                if (p < line.Length)
                {
                    p++;
                }
            }

            request.Add(start, request.InlineLength - start);
        }
    }

    // C isspace: space, \t, \n, \v, \f, \r.
    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static bool IsHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F');

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => b - 'A' + 10,
    };
}
