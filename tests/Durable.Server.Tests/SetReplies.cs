using System.Globalization;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// Reading set replies, for comparisons where Redis's order comes from its hash table (SMEMBERS of a hashtable set,
/// SSCAN, random commands): such replies are compared as sorted lists of members.
/// </summary>
internal static class SetReplies
{
    /// <summary>The integers from <paramref name="from"/> to <paramref name="to"/> as members.</summary>
    public static string[] Numbers(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>The members of an array or set reply of bulk strings; the reply's type character in <paramref name="type"/>.</summary>
    public static List<string> Members(string reply, out char type)
    {
        int position = 0;
        return ReadAggregate(reply, ref position, out type);
    }

    public static List<string> Members(string reply) => Members(reply, out _);

    /// <summary>
    /// An aggregate of bulk strings with its members sorted (its type and count kept), or an SSCAN-shaped reply with its
    /// cursor dropped and members sorted; any other reply unchanged.
    /// </summary>
    public static string Normalized(string reply)
    {
        if (reply.Length == 0 || reply[0] is not ('*' or '~'))
        {
            return reply;
        }

        int position = 0;
        char type = reply[0];
        int count = int.Parse(ReadLine(reply, ref position), CultureInfo.InvariantCulture);
        List<string> members = [];
        for (int i = 0; i < count; i++)
        {
            if (reply[position] != '$')
            {
                return reply;
            }

            members.Add(ReadBulk(reply, ref position));
            if (i == 0 && count == 2 && reply[position] == '*')
            {
                return "scan:" + string.Join('\n', ReadAggregate(reply, ref position, out _).Order(StringComparer.Ordinal));
            }
        }

        return $"{type}{count}:" + string.Join('\n', members.Order(StringComparer.Ordinal));
    }

    /// <summary>Sends the command to both servers and compares the replies as unordered members.</summary>
    public static void SameUnordered(ReplyComparison both, params string[] command)
    {
        string expected = both.Redis.Call(command);
        string actual = both.Durable.Call(command);
        Assert.True(Normalized(expected) == Normalized(actual), $"{string.Join(' ', command)}\nredis:   {expected}\ndurable: {actual}");
    }

    /// <summary>Every member SSCAN returns from cursor 0 until the cursor comes back to 0 (with repeats, in order).</summary>
    public static List<string> ScanAll(RespTestClient client, string key, params string[] options)
    {
        List<string> members = [];
        string cursor = "0";
        int calls = 0;
        do
        {
            string reply = client.Call(["SSCAN", key, cursor, .. options]);
            int position = 0;
            Assert.Equal("2", ReadLine(reply, ref position));
            cursor = ReadBulk(reply, ref position);
            members.AddRange(ReadAggregate(reply, ref position, out _));
            Assert.True(++calls < 100_000, "SSCAN does not finish");
        }
        while (cursor != "0");

        return members;
    }

    private static List<string> ReadAggregate(string reply, ref int position, out char type)
    {
        type = reply[position];
        Assert.True(type is '*' or '~', $"expected an array or a set at {position} in {reply}");
        int count = int.Parse(ReadLine(reply, ref position), CultureInfo.InvariantCulture);
        List<string> items = new(Math.Max(count, 0));
        for (int i = 0; i < count; i++)
        {
            items.Add(ReadBulk(reply, ref position));
        }

        return items;
    }

    private static string ReadBulk(string reply, ref int position)
    {
        Assert.True(reply[position] == '$', $"expected a bulk string at {position} in {reply}");
        int length = int.Parse(ReadLine(reply, ref position), CultureInfo.InvariantCulture);
        string value = reply.Substring(position, length);
        position += length + 2;
        return value;
    }

    // The line after the type character at position; moves past it.
    private static string ReadLine(string reply, ref int position)
    {
        int end = reply.IndexOf("\r\n", position, StringComparison.Ordinal);
        string line = reply[(position + 1)..end];
        position = end + 2;
        return line;
    }
}
