using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>
/// Hashes and sets large enough to be stored bucketed (thousands of entries), driven by random commands against
/// redis-server and an in-memory model, and moved, copied and deleted by the generic key commands.
/// </summary>
public sealed class BucketedCollectionTests(ReferenceServers servers)
{
    private const int Entries = 3000;

    [Fact]
    public void LargeHashAndSet_RandomCommands_SameAsRedis()
    {
        using ReplyComparison both = servers.Compare();
        string prefix = servers.NewPrefix();
        string h = prefix + "h";
        string s = prefix + "s";
        string other = prefix + "other";
        Fill(both, h, s);
        both.Same("OBJECT", "ENCODING", h);
        both.Same("OBJECT", "ENCODING", s);

        Random random = new(20261128);
        for (int i = 0; i < 1500; i++)
        {
            string field = "f" + random.Next(Entries + 500).ToString(CultureInfo.InvariantCulture);
            string member = "m" + random.Next(Entries + 500).ToString(CultureInfo.InvariantCulture);
            switch (random.Next(12))
            {
                case 0: both.Same("HSET", h, field, "v" + i.ToString(CultureInfo.InvariantCulture), "extra" + field, "x"); break;
                case 1: both.Same("HDEL", h, field, "extra" + field); break;
                case 2: both.Same("HGET", h, field); break;
                case 3: both.Same("HINCRBY", h, "counter" + (i % 7).ToString(CultureInfo.InvariantCulture), "3"); break;
                case 4: both.Same("HMGET", h, field, "nope", "f1"); break;
                case 5: both.Same("HEXISTS", h, field); break;
                case 6: both.Same("SADD", s, member, "n" + member); break;
                case 7: both.Same("SREM", s, member); break;
                case 8: both.Same("SISMEMBER", s, member); break;
                case 9: both.Same("SMISMEMBER", s, member, "m1", "zz"); break;
                case 10: both.Same("SMOVE", s, other, member); break;
                default: both.Same("HSETNX", h, field, "nx"); break;
            }
        }

        both.Same("HLEN", h);
        both.Same("SCARD", s);
        both.Same("SCARD", other);
        Assert.Equal(HashReplies.SortedPairs(both.Redis.Call("HGETALL", h)), HashReplies.SortedPairs(both.Durable.Call("HGETALL", h)));
        SetReplies.SameUnordered(both, "SMEMBERS", s);
        SetReplies.SameUnordered(both, "SINTER", s, other);
        SetReplies.SameUnordered(both, "SUNION", s, other);
        Assert.Equal(
            HashReplies.SortedPairs(both.Durable.Call("HGETALL", h)),
            HashReplies.ScanAll(both.Durable, h, "COUNT", "50").Pairs.Order());
        Assert.Equal(SetReplies.Members(both.Durable.Call("SMEMBERS", s)).Order(StringComparer.Ordinal), SetReplies.ScanAll(both.Durable, s).Order(StringComparer.Ordinal));

        // Emptying a bucketed collection deletes its key, as Redis does.
        both.Same("SINTERSTORE", prefix + "copy", s, s);
        both.Same(["SREM", prefix + "copy", .. SetReplies.Members(both.Redis.Call("SMEMBERS", s))]);
        both.Same("EXISTS", prefix + "copy");
    }

    [Fact]
    public void LargeHash_SpopAndRandomPicksComeFromTheCollection()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string prefix = servers.NewPrefix();
        string s = prefix + "s";
        string h = prefix + "h";
        client.Call(["SADD", s, .. Enumerable.Range(0, Entries).Select(i => "m" + i.ToString(CultureInfo.InvariantCulture))]);
        client.Call(["HSET", h, .. Enumerable.Range(0, Entries).SelectMany(i => new[] { "f" + i.ToString(CultureInfo.InvariantCulture), "v" })]);
        HashSet<string> popped = [];
        for (int i = 0; i < 200; i++)
        {
            string member = Bulk(client.Call("SPOP", s));
            Assert.StartsWith("m", member, StringComparison.Ordinal);
            Assert.True(popped.Add(member), "SPOP returned a member twice");
            Assert.StartsWith("f", Bulk(client.Call("HRANDFIELD", h)), StringComparison.Ordinal);
            Assert.StartsWith("m", Bulk(client.Call("SRANDMEMBER", s)), StringComparison.Ordinal);
        }

        Assert.Equal($":{Entries - 200}\r\n", client.Call("SCARD", s));
        Assert.Equal(Entries - 200, SetReplies.Members(client.Call("SMEMBERS", s)).Count);
        List<string> spopped = SetReplies.Members(client.Call("SPOP", s, "150"));
        Assert.Equal(150, spopped.Distinct().Count());
        Assert.DoesNotContain(spopped, popped.Contains);
        Assert.Equal($":{Entries - 350}\r\n", client.Call("SCARD", s));
        Assert.All(spopped, m => Assert.Equal(":0\r\n", client.Call("SISMEMBER", s, m)));

        // Small counts pick distinct members bucket by bucket; each comes from the collection.
        List<string> sampled = SetReplies.Members(client.Call("SRANDMEMBER", s, "20"));
        Assert.Equal(20, sampled.Distinct().Count());
        Assert.All(sampled, m => Assert.Equal(":1\r\n", client.Call("SISMEMBER", s, m)));
        List<object?> pairs = HashReplies.Elements(client.Call("HRANDFIELD", h, "20", "WITHVALUES"));
        Assert.Equal(40, pairs.Count);
        Assert.Equal(20, pairs.Where((_, i) => i % 2 == 0).Distinct().Count());
        Assert.All(pairs.Where((_, i) => i % 2 == 1), v => Assert.Equal("v", v));
    }

    [Fact]
    public void LargeCollections_RenameCopyMoveAndDelete()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string prefix = servers.NewPrefix();
        string h = prefix + "h";
        client.Call(["HSET", h, .. Enumerable.Range(0, Entries).SelectMany(i => new[] { "f" + i.ToString(CultureInfo.InvariantCulture), "v" + i.ToString(CultureInfo.InvariantCulture) })]);
        client.Call(["SADD", prefix + "s", .. Enumerable.Range(0, Entries).Select(i => "m" + i.ToString(CultureInfo.InvariantCulture))]);

        Assert.Equal("+OK\r\n", client.Call("RENAME", h, prefix + "renamed"));
        Assert.Equal("$5\r\nv2999\r\n", client.Call("HGET", prefix + "renamed", "f2999"));
        Assert.Equal(":1\r\n", client.Call("COPY", prefix + "renamed", prefix + "copy"));
        Assert.Equal(":0\r\n", client.Call("HSET", prefix + "copy", "f1", "changed"));
        Assert.Equal(":1\r\n", client.Call("DEL", prefix + "renamed"));
        Assert.Equal("$7\r\nchanged\r\n", client.Call("HGET", prefix + "copy", "f1"));
        Assert.Equal("$5\r\nv2998\r\n", client.Call("HGET", prefix + "copy", "f2998"));
        Assert.Equal($":{Entries}\r\n", client.Call("HLEN", prefix + "copy"));

        Assert.Equal(":1\r\n", client.Call("MOVE", prefix + "s", "3"));
        Assert.Equal("+OK\r\n", client.Call("SELECT", "3"));
        Assert.Equal(":1\r\n", client.Call("SISMEMBER", prefix + "s", "m17"));
        Assert.Equal($":{Entries}\r\n", client.Call("SCARD", prefix + "s"));
        Assert.Equal("+OK\r\n", client.Call("SET", prefix + "s", "now a string"));
        Assert.Equal("+string\r\n", client.Call("TYPE", prefix + "s"));
        Assert.Equal("+OK\r\n", client.Call("SELECT", "0"));

        // SORT reads a bucketed set, and a bucketed hash through GET *->field.
        client.Call(["SADD", prefix + "nums", .. Enumerable.Range(0, 600).Select(i => "n" + i.ToString(CultureInfo.InvariantCulture))]);
        Assert.Equal("*2\r\n$2\r\nn0\r\n$2\r\nn1\r\n", client.Call("SORT", prefix + "nums", "ALPHA", "LIMIT", "0", "2"));
        client.Call(["HSET", prefix + "H", .. Enumerable.Range(0, 600).SelectMany(i => new[] { "n" + i.ToString(CultureInfo.InvariantCulture), (599 - i).ToString(CultureInfo.InvariantCulture) })]);
        client.Call("SADD", prefix + "one", "H");
        Assert.Equal("*1\r\n$3\r\n594\r\n", client.Call("SORT", prefix + "one", "BY", "nosort", "GET", prefix + "*->n5"));
        client.Call("DEL", prefix + "copy");
    }

    private static void Fill(ReplyComparison both, string h, string s)
    {
        for (int start = 0; start < Entries; start += 500)
        {
            IEnumerable<int> range = Enumerable.Range(start, 500);
            both.Same(["HSET", h, .. range.SelectMany(i => new[] { "f" + i.ToString(CultureInfo.InvariantCulture), "value" + i.ToString(CultureInfo.InvariantCulture) })]);
            both.Same(["SADD", s, .. range.Select(i => "m" + i.ToString(CultureInfo.InvariantCulture))]);
        }
    }

    private static string Bulk(string reply)
    {
        Assert.StartsWith("$", reply, StringComparison.Ordinal);
        return reply[(reply.IndexOf('\n', StringComparison.Ordinal) + 1)..^2];
    }
}
