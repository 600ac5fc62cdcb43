using Durable.Protocol;

namespace Durable.Commands;

/// <summary>Key arguments shared by command families: keys after a numkeys argument, and copies that outlive the request.</summary>
internal static class KeyArguments
{
    /// <summary>The keys that follow a numkeys argument at <paramref name="numKeysIndex"/> (none when it is not a positive integer).</summary>
    public static void FindNumKeys(RespArgs args, int numKeysIndex, List<int> keys)
    {
        if (numKeysIndex < args.Count && RedisNumber.TryParseInt64(args[numKeysIndex], out long count) && count > 0)
        {
            for (int i = numKeysIndex + 1; i <= numKeysIndex + count && i < args.Count; i++)
            {
                keys.Add(i);
            }
        }
    }

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
}
