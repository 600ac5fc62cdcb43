using Durable.Protocol;

namespace Durable.Commands;

/// <summary>Key arguments shared by command families: keys after a numkeys argument, and copies that outlive the request.</summary>
internal static class KeyArguments
{
    /// <summary>
    /// The keys of a command whose keys follow a numkeys argument at <paramref name="numKeysIndex"/> (ZUNION, LMPOP,
    /// SINTERCARD...), with the destination at 1 first when <paramref name="destination"/> (the STORE forms), as Redis
    /// finds them: by the command's key specs when numkeys is an integer from 1 to the arguments after it; otherwise by
    /// the command's getkeys procedure, which reads numkeys with atoi(3) and lists the keys, then the destination, or
    /// nothing when that count does not fit either. Used by COMMAND GETKEYS and for the command's locks (a command
    /// whose numkeys does not parse fails before it touches a key).
    /// </summary>
    public static void FindNumKeys(RespArgs args, int numKeysIndex, bool destination, List<int> keys)
    {
        int first = numKeysIndex + 1;
        if (first > args.Count)
        {
            return;
        }

        int available = args.Count - first;
        bool bySpecs = NumKeysFitSpec(args[numKeysIndex], available, out int count);
        if (!bySpecs)
        {
            count = CStringToInt(args[numKeysIndex]);
        }

        if (count < 1 || count > available)
        {
            return;
        }

        if (destination && bySpecs)
        {
            keys.Add(1);
        }

        for (int i = first; i < first + count; i++)
        {
            keys.Add(i);
        }

        if (destination && !bySpecs)
        {
            keys.Add(1);
        }
    }

    /// <summary>
    /// Redis's getKeysUsingKeySpecs for a keynum spec: numkeys must parse as a whole integer, not negative; the count is
    /// its low 32 bits (a C int), and must be at least one key and no more than the <paramref name="available"/> ones.
    /// </summary>
    public static bool NumKeysFitSpec(ReadOnlySpan<byte> numKeys, int available, out int count)
    {
        count = RedisNumber.TryParseInt64(numKeys, out long value) && value >= 0 ? unchecked((int)value) : 0;
        return count >= 1 && count <= available;
    }

    /// <summary>A key finder for <see cref="FindNumKeys"/>.</summary>
    public static KeyFinder NumKeys(int numKeysIndex, bool destination = false) => (args, keys) => FindNumKeys(args, numKeysIndex, destination, keys);

    /// <summary>Copies <paramref name="count"/> keys from <paramref name="first"/> on, for a blocked command's later retries.</summary>
    public static byte[][] CopyKeys(RespArgs args, int first, int count)
    {
        byte[][] keys = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            keys[i] = args[first + i].ToArray();
        }

        return keys;
    }

    /// <summary>glibc atoi: (int)strtol(text, NULL, 10): leading white space, a sign, digits up to the first other byte; saturates at the long range, then keeps the low 32 bits.</summary>
    private static int CStringToInt(ReadOnlySpan<byte> text)
    {
        int i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
        {
            i++;
        }

        bool negative = i < text.Length && text[i] == (byte)'-';
        if (i < text.Length && text[i] is (byte)'-' or (byte)'+')
        {
            i++;
        }

        ulong magnitude = 0;
        bool saturated = false;
        for (; i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            magnitude = (magnitude * 10) + (ulong)(text[i] - '0');
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                saturated = true;
                break;
            }
        }

        long value = negative
            ? (saturated || magnitude > (ulong)long.MaxValue ? long.MinValue : -(long)magnitude)
            : (saturated || magnitude > long.MaxValue ? long.MaxValue : (long)magnitude);
        return unchecked((int)value);
    }
}
