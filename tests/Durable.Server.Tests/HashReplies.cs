using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>
/// Reads RESP replies of the hash tests into values: bulk and simple strings as string, integers as long, nulls as
/// null, arrays, sets and maps as List (a map flattened to key, value...). For replies whose order is Redis's hash
/// table order, which the tests compare as sets.
/// </summary>
internal static class HashReplies
{
    public static object? Parse(string reply)
    {
        int position = 0;
        object? value = Read(reply, ref position);
        Assert.Equal(reply.Length, position);
        return value;
    }

    /// <summary>The elements of an aggregate reply (nested aggregates as lists).</summary>
    public static List<object?> Elements(string reply) =>
        Parse(reply) as List<object?> ?? throw new InvalidOperationException("not an aggregate reply: " + reply);

    /// <summary>The strings of a flat aggregate reply.</summary>
    public static List<string> Strings(string reply) => [.. Elements(reply).Select(e => (string)e!)];

    /// <summary>Field, value pairs of a flat field, value... reply, sorted by field.</summary>
    public static List<(string Field, string Value)> SortedPairs(string reply)
    {
        List<string> items = Strings(reply);
        return [.. Enumerable.Range(0, items.Count / 2).Select(i => (items[2 * i], items[(2 * i) + 1])).OrderBy(p => p.Item1, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Runs HSCAN to the end and returns every field, value pair it produced (repeats included) and the number of calls.
    /// </summary>
    public static (List<(string Field, string Value)> Pairs, int Calls) ScanAll(Durable.Testing.RespTestClient client, string key, params string[] options)
    {
        List<(string, string)> pairs = [];
        string cursor = "0";
        int calls = 0;
        do
        {
            List<object?> reply = Elements(client.Call(["HSCAN", key, cursor, .. options]));
            calls++;
            cursor = (string)reply[0]!;
            List<object?> items = (List<object?>)reply[1]!;
            for (int i = 0; i < items.Count; i += 2)
            {
                pairs.Add(((string)items[i]!, (string)items[i + 1]!));
            }
        }
        while (cursor != "0");

        return (pairs, calls);
    }

    private static object? Read(string reply, ref int position)
    {
        char type = reply[position];
        int end = reply.IndexOf("\r\n", position, StringComparison.Ordinal);
        string header = reply[(position + 1)..end];
        position = end + 2;
        switch (type)
        {
            case '$' or '=':
                int length = int.Parse(header, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return null;
                }

                string text = reply.Substring(position, length);
                position += length + 2;
                return text;
            case '*' or '~' or '%':
                int count = int.Parse(header, CultureInfo.InvariantCulture) * (type == '%' ? 2 : 1);
                if (count < 0)
                {
                    return null;
                }

                List<object?> items = new(count);
                for (int i = 0; i < count; i++)
                {
                    items.Add(Read(reply, ref position));
                }

                return items;
            case ':':
                return long.Parse(header, CultureInfo.InvariantCulture);
            case '_':
                return null;
            case '-':
                throw new InvalidOperationException("error reply: " + header);
            default:
                return header;
        }
    }
}
