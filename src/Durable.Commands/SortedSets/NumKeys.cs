using Durable.Protocol;

namespace Durable.Commands.SortedSets;

/// <summary>Key positions of the commands whose keys follow a numkeys argument (ZMPOP, ZUNION, ZUNIONSTORE...).</summary>
internal static class NumKeys
{
    /// <summary>
    /// Keys for a command whose numkeys is at <paramref name="numKeysIndex"/> and whose keys follow it, plus the
    /// destination at 1 when numkeys is at 2. An invalid numkeys gives only the destination: the command replies
    /// with an error without touching any other key.
    /// </summary>
    public static KeyFinder Keys(int numKeysIndex) => (args, keyIndexes) =>
    {
        if (numKeysIndex == 2 && args.Count > 1)
        {
            keyIndexes.Add(1);
        }

        if (numKeysIndex >= args.Count || !RedisNumber.TryParseInt64(args[numKeysIndex], out long count) || count < 1)
        {
            return;
        }

        long last = Math.Min(numKeysIndex + count, args.Count - 1);
        for (int i = numKeysIndex + 1; i <= last; i++)
        {
            keyIndexes.Add(i);
        }
    };
}
