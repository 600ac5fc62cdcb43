using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>
/// Random sequences of set commands over a few keys, sent to Durable and to redis-server, with the same replies.
/// Replies whose order comes from Redis's hash table are compared as sets; SPOP runs on Durable and its effect is
/// mirrored on Redis (SREM of what was popped, then a rebuild where Redis would rebuild); SRANDMEMBER is checked
/// against the members Redis holds. The sequences come from a fixed seed.
/// </summary>
public sealed class SetPropertyTests(ReferenceServers servers)
{
    private const int Sequences = 60;
    private const int CommandsPerSequence = 60;

    private static readonly string[] s_members =
        ["1", "2", "3", "-4", "10", "99", "0", "9223372036854775807", "007", "a", "b", "", "x y", "+5"];

    private static readonly string[] s_keys = ["@0", "@1", "@2"];

    [Fact]
    public void RandomCommandSequences_SameRepliesAsRedis()
    {
        Random random = new(20261128);
        for (int sequence = 0; sequence < Sequences; sequence++)
        {
            using ReplyComparison both = servers.Compare();
            string prefix = servers.NewPrefix();
            List<string> history = [];
            for (int i = 0; i < CommandsPerSequence; i++)
            {
                string[] command = [.. NextCommand(random).Select(a => a.StartsWith('@') ? prefix + a[1..] : a)];
                history.Add(string.Join(' ', command.Select(a => a.Length > 20 ? a[..20] + "..." : a)));
                try
                {
                    Run(both, command);
                }
                catch (Exception exception) when (exception is Xunit.Sdk.XunitException)
                {
                    throw new Xunit.Sdk.XunitException($"after:\n{string.Join('\n', history)}\n{exception.Message}");
                }
            }
        }
    }

    private static void Run(ReplyComparison both, string[] command)
    {
        switch (command[0])
        {
            case "SPOP":
                MirrorPop(both, command);
                break;
            case "SRANDMEMBER":
                CheckRandomMembers(both, command);
                break;
            case "SSCAN":
                string[] first = ["SSCAN", command[1], "0", .. command[2..]];
                if (both.Durable.Call(first)[0] == '-' || both.Redis.Call(first)[0] == '-')
                {
                    both.Same(first);
                    break;
                }

                Assert.Equal(
                    SetReplies.ScanAll(both.Redis, command[1], command[2..]).Distinct().Order(StringComparer.Ordinal),
                    SetReplies.ScanAll(both.Durable, command[1], command[2..]).Order(StringComparer.Ordinal));
                break;
            case "SMEMBERS" or "SINTER" or "SUNION" or "SDIFF":
                SetReplies.SameUnordered(both, command);
                break;
            default:
                both.Same(command);
                break;
        }
    }

    private static void MirrorPop(ReplyComparison both, string[] command)
    {
        string before = both.Redis.Call("SCARD", command[1]);
        string reply = both.Durable.Call(command);
        if (reply[0] is '-' || (reply[0] == '$' && reply.StartsWith("$-1", StringComparison.Ordinal)) || reply.StartsWith("*0\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(both.Redis.Call(command), reply);
            return;
        }

        List<string> popped = reply[0] == '$' ? [reply.Split("\r\n")[1]] : SetReplies.Members(reply);
        long size = long.Parse(before[1..^2], CultureInfo.InvariantCulture);
        long count = command.Length == 3 ? long.Parse(command[2], CultureInfo.InvariantCulture) : 1;
        Assert.Equal(Math.Min(size, count), popped.Count);
        Assert.Equal($":{popped.Count}\r\n", both.Redis.Call(["SREM", command[1], .. popped]));
        if (command.Length == 3 && count < size && (size - count) * 5 <= count)
        {
            // Redis builds a new set of the few remaining members (an intset again when it can be); so does SUNIONSTORE.
            both.Redis.Call("SUNIONSTORE", command[1], command[1]);
        }
    }

    private static void CheckRandomMembers(ReplyComparison both, string[] command)
    {
        string reply = both.Durable.Call(command);
        string expected = both.Redis.Call(command);
        if (reply[0] is '-' || expected.StartsWith("$-1", StringComparison.Ordinal) || expected.StartsWith("*0\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(expected, reply);
            return;
        }

        HashSet<string> members = [.. SetReplies.Members(both.Redis.Call("SMEMBERS", command[1]))];
        List<string> picked = reply[0] == '$' ? [reply.Split("\r\n")[1]] : SetReplies.Members(reply);
        List<string> redisPicked = expected[0] == '$' ? [expected.Split("\r\n")[1]] : SetReplies.Members(expected);
        Assert.Equal(redisPicked.Count, picked.Count);
        Assert.All(picked, member => Assert.Contains(member, members));
        if (command.Length == 3 && !command[2].StartsWith('-'))
        {
            Assert.Equal(picked.Count, picked.Distinct().Count());
        }
    }

    private static string[] NextCommand(Random random)
    {
        string key = Pick(random, s_keys);
        string other = Pick(random, s_keys);
        string third = Pick(random, s_keys);
        string Member() => Pick(random, s_members);
        string Count() => Pick(random, ["0", "1", "2", "3", "5", "20", "-3", "x"]);
        return random.Next(26) switch
        {
            0 or 1 or 2 => ["SADD", key, Member(), Member(), Member()],
            3 => ["SADD", key, .. Numbers(random.Next(1, 300), random.Next(100, 320))],
            4 or 5 => ["SREM", key, Member(), Member()],
            6 => ["SREM", key, .. Numbers(random.Next(1, 300), random.Next(50, 200))],
            7 => ["SISMEMBER", key, Member()],
            8 => ["SMISMEMBER", key, Member(), Member()],
            9 => ["SMEMBERS", key],
            10 => ["SCARD", key],
            11 => ["SMOVE", key, other, Member()],
            12 => [Pick(random, ["SINTER", "SUNION", "SDIFF"]), key, other],
            13 => [Pick(random, ["SINTER", "SUNION", "SDIFF"]), key, other, third],
            14 or 15 => [Pick(random, ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), third, key, other],
            16 => ["SINTERCARD", "2", key, other, "LIMIT", Count()],
            17 => ["SINTERCARD", Pick(random, ["1", "2", "0"]), key, other],
            18 => random.Next(2) == 0 ? ["SSCAN", key] : ["SSCAN", key, "MATCH", Pick(random, ["1*", "*", "a", "?"]), "COUNT", Pick(random, ["1", "3", "100"])],
            19 or 20 => ["OBJECT", "ENCODING", key],
            21 => random.Next(2) == 0 ? ["SPOP", key] : ["SPOP", key, Count()],
            22 => random.Next(2) == 0 ? ["SRANDMEMBER", key] : ["SRANDMEMBER", key, Count()],
            23 => ["TYPE", key],
            24 => random.Next(3) == 0 ? ["SET", key, "string"] : ["DEL", key],
            _ => ["EXISTS", key, other],
        };
    }

    private static string Pick(Random random, string[] choices) => choices[random.Next(choices.Length)];

    private static string[] Numbers(int from, int count) => SetReplies.Numbers(from, from + count - 1);
}
