using System.Text;

namespace Durable.Protocol;

/// <summary>Case-insensitive ASCII comparisons for command names and option words, without allocating.</summary>
public static class AsciiCase
{
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> word) => Ascii.EqualsIgnoreCase(value, word);

    /// <summary>Writes the upper-case form of an ASCII word into <paramref name="destination"/>; returns the length, or -1 if it does not fit.</summary>
    public static int ToUpper(ReadOnlySpan<byte> value, Span<char> destination)
    {
        if (value.Length > destination.Length)
        {
            return -1;
        }

        for (int i = 0; i < value.Length; i++)
        {
            byte b = value[i];
            destination[i] = (char)(b is >= (byte)'a' and <= (byte)'z' ? b - 32 : b);
        }

        return value.Length;
    }
}
