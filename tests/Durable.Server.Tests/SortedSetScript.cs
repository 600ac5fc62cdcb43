namespace Durable.Server.Tests;

/// <summary>
/// Runs command lines against Durable and redis-server and compares every reply. A line is split on spaces; "{name}"
/// becomes a key of the test's own prefix, '' an empty argument, and \s a space inside an argument. A line starting
/// with "~ " compares the replies as unordered (see <see cref="Unordered"/>): for replies in hash-table or random order.
/// </summary>
internal static class SortedSetScript
{
    public static void Run(ReferenceServers servers, bool resp3, params string[] lines)
    {
        using ReplyComparison both = servers.Compare();
        Run(both, servers.NewPrefix(), resp3, lines);
    }

    public static void Run(ReplyComparison both, string prefix, bool resp3, params string[] lines)
    {
        if (resp3)
        {
            both.Durable.Call("HELLO", "3");
            both.Redis.Call("HELLO", "3");
        }

        foreach (string line in lines)
        {
            if (line.StartsWith("~ ", StringComparison.Ordinal))
            {
                string[] command = Parse(line[2..], prefix);
                string expected = both.Redis.Call(command);
                string actual = both.Durable.Call(command);
                Assert.True(Unordered(expected) == Unordered(actual), $"{line}\nredis:   {expected}\ndurable: {actual}");
            }
            else
            {
                both.Same(Parse(line, prefix));
            }
        }
    }

    /// <summary>
    /// A reply with the order of its arrays' elements removed: an array of scalars is sorted in (member, score) pairs
    /// when its length is even, else element by element; an array of arrays is sorted by each child's text.
    /// </summary>
    public static string Unordered(string reply)
    {
        int position = 0;
        return Normalize(reply, ref position);
    }

    private static string Normalize(string reply, ref int position)
    {
        int end = reply.IndexOf("\r\n", position, StringComparison.Ordinal);
        string line = reply[position..end];
        position = end + 2;
        char type = line[0];
        if (type is '$' or '=')
        {
            int length = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            if (length < 0)
            {
                return line;
            }

            string body = reply.Substring(position, length);
            position += length + 2;
            return "$" + body;
        }

        if (type is not ('*' or '~' or '%'))
        {
            return line;
        }

        int count = int.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) * (type == '%' ? 2 : 1);
        List<string> children = [];
        bool nested = false;
        for (int i = 0; i < count; i++)
        {
            nested |= reply[position] is '*' or '~' or '%';
            children.Add(Normalize(reply, ref position));
        }

        if (!nested && children.Count % 2 == 0)
        {
            children = [.. children.Chunk(2).Select(pair => string.Join("|", pair))];
        }

        children.Sort(StringComparer.Ordinal);
        return type + "[" + string.Join(",", children) + "]";
    }

    public static string[] Parse(string line, string prefix) =>
        [.. line.Split(' ').Select(token => token == "''" ? "" : Expand(token, prefix).Replace("\\s", " ", StringComparison.Ordinal))];

    private static string Expand(string token, string prefix)
    {
        int open = token.IndexOf('{', StringComparison.Ordinal);
        int close = token.IndexOf('}', StringComparison.Ordinal);
        return open >= 0 && close > open ? token[..open] + prefix + token[(open + 1)..close] + token[(close + 1)..] : token;
    }
}
