using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// Evaluates Redis 7 key specs (begin_search index/keyword, find_keys range/keynum) over a command's arguments, as
/// Redis's getKeysUsingKeySpecs does, to tell which spec, and so which flags, covers each key position.
/// </summary>
internal static class KeySpecs
{
    /// <summary>
    /// Whether the command may write the key at argument <paramref name="index"/>: its key spec does not say RO (read
    /// only). True when no spec covers it, so that a caller deciding what a write touched errs on the side of "written".
    /// </summary>
    public static bool MayWrite(CommandDefinition definition, RespArgs args, int index)
    {
        RespNode[] specs = CommandDocs.Instance.Info(definition.FullName)?.Children[8].Children ?? [];
        RespNode? flags = FlagsByPosition(specs, args)?.GetValueOrDefault(index);
        return flags is null || !flags.Children.Any(flag => flag.Text == "RO");
    }

    /// <summary>
    /// Argument position to that spec's flags node; the first spec to claim a position wins. Null when a keynum spec
    /// does not fit the arguments: Redis then finds the keys by the command's getkeys procedure, which gives no flags.
    /// </summary>
    public static Dictionary<int, RespNode>? FlagsByPosition(RespNode[] specs, RespArgs args)
    {
        Dictionary<int, RespNode> result = [];
        foreach (RespNode spec in specs)
        {
            RespNode? flags = spec["flags"];
            if (flags is null || !TryFindFirst(spec["begin_search"], args, out int first))
            {
                continue;
            }

            RespNode? findKeys = spec["find_keys"];
            RespNode? parameters = findKeys?["spec"];
            if (findKeys is null || parameters is null)
            {
                continue;
            }

            int last;
            int step;
            if (findKeys["type"]?.Text == "range")
            {
                long lastKey = parameters["lastkey"]?.Integer ?? 0;
                long limit = parameters["limit"]?.Integer ?? 0;
                step = (int)(parameters["keystep"]?.Integer ?? 1);
                last = lastKey >= 0 ? first + (int)lastKey
                    : limit == 0 ? args.Count + (int)lastKey
                    : first + (int)(((args.Count - first) / limit) + lastKey);
            }
            else if (findKeys["type"]?.Text == "keynum")
            {
                int numberIndex = first + (int)(parameters["keynumidx"]?.Integer ?? 0);
                first += (int)(parameters["firstkey"]?.Integer ?? 1);
                if (numberIndex >= args.Count || !KeyArguments.NumKeysFitSpec(args[numberIndex], args.Count - first, out int count))
                {
                    return null;
                }

                last = first + count - 1;
                step = (int)(parameters["keystep"]?.Integer ?? 1);
            }
            else
            {
                continue;
            }

            for (int i = first; i <= last && i < args.Count && step > 0; i += step)
            {
                result.TryAdd(i, flags);
            }
        }

        return result;
    }

    private static bool TryFindFirst(RespNode? beginSearch, RespArgs args, out int first)
    {
        first = 0;
        RespNode? parameters = beginSearch?["spec"];
        if (beginSearch is null || parameters is null)
        {
            return false;
        }

        if (beginSearch["type"]?.Text == "index")
        {
            first = (int)(parameters["index"]?.Integer ?? 0);
            return first > 0;
        }

        if (beginSearch["type"]?.Text != "keyword" || parameters["keyword"]?.Text is not { } keyword)
        {
            return false;
        }

        byte[] word = System.Text.Encoding.ASCII.GetBytes(keyword);
        long startFrom = parameters["startfrom"]?.Integer ?? 1;
        int start = startFrom > 0 ? (int)startFrom : args.Count + (int)startFrom;
        int end = startFrom > 0 ? args.Count - 1 : 1;
        for (int i = start; ; i += start <= end ? 1 : -1)
        {
            if (i >= args.Count || i < 1)
            {
                return false;
            }

            if (args.Is(i, word))
            {
                first = i + 1;
                return true;
            }

            if (i == end)
            {
                return false;
            }
        }
    }
}
