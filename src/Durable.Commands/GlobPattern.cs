namespace Durable.Commands;

/// <summary>Redis's stringmatchlen: glob matching with *, ?, [abc], [^a-z], \ escapes; byte-wise, case-sensitive unless asked.</summary>
public static class GlobPattern
{
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false) =>
        Match(pattern, text, ignoreCase, 0);

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase, int nesting)
    {
        // Redis caps recursion to protect itself from patterns like "a*a*a*...b".
        if (nesting > 1000)
        {
            return false;
        }

        while (pattern.Length > 0 && text.Length > 0)
        {
            switch (pattern[0])
            {
                case (byte)'*':
                    while (pattern.Length > 1 && pattern[1] == (byte)'*')
                    {
                        pattern = pattern[1..];
                    }

                    if (pattern.Length == 1)
                    {
                        return true;
                    }

                    while (text.Length > 0)
                    {
                        if (Match(pattern[1..], text, ignoreCase, nesting + 1))
                        {
                            return true;
                        }

                        text = text[1..];
                    }

                    return false;
                case (byte)'?':
                    text = text[1..];
                    break;
                case (byte)'[':
                    {
                        pattern = pattern[1..];
                        bool not = pattern.Length > 0 && pattern[0] == (byte)'^';
                        if (not)
                        {
                            pattern = pattern[1..];
                        }

                        bool match = false;
                        while (true)
                        {
                            if (pattern.Length >= 2 && pattern[0] == (byte)'\\')
                            {
                                pattern = pattern[1..];
                                if (pattern[0] == text[0])
                                {
                                    match = true;
                                }
                            }
                            else if (pattern.Length == 0)
                            {
                                break;
                            }
                            else if (pattern[0] == (byte)']')
                            {
                                break;
                            }
                            else if (pattern.Length >= 3 && pattern[1] == (byte)'-')
                            {
                                int start = pattern[0];
                                int end = pattern[2];
                                int c = text[0];
                                if (start > end)
                                {
                                    (start, end) = (end, start);
                                }

                                if (ignoreCase)
                                {
                                    start = Lower(start);
                                    end = Lower(end);
                                    c = Lower(c);
                                }

                                pattern = pattern[2..];
                                if (c >= start && c <= end)
                                {
                                    match = true;
                                }
                            }
                            else if (Same(pattern[0], text[0], ignoreCase))
                            {
                                match = true;
                            }

                            pattern = pattern[1..];
                        }

                        if (pattern.Length == 0)
                        {
                            // Redis: an unterminated class ends at the pattern's end (the last char was consumed).
                            pattern = [];
                        }

                        if (not)
                        {
                            match = !match;
                        }

                        if (!match)
                        {
                            return false;
                        }

                        text = text[1..];
                        break;
                    }

                case (byte)'\\' when pattern.Length >= 2:
                    pattern = pattern[1..];
                    if (!Same(pattern[0], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    break;
                default:
                    if (!Same(pattern[0], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    break;
            }

            if (pattern.Length > 0)
            {
                pattern = pattern[1..];
            }

            if (text.Length == 0)
            {
                while (pattern.Length > 0 && pattern[0] == (byte)'*')
                {
                    pattern = pattern[1..];
                }

                break;
            }
        }

        return pattern.Length == 0 && text.Length == 0;
    }

    private static bool Same(byte a, byte b, bool ignoreCase) => ignoreCase ? Lower(a) == Lower(b) : a == b;

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c + 32 : c;
}
