namespace Durable.Server.Tests;

/// <summary>
/// HyperLogLogs against redis-server, byte for byte: every reply, and the value itself (GET), whose sparse opcodes, switch
/// to dense and cached cardinality must come out as Redis's.
/// </summary>
public sealed class HyperLogLogCommandsTests(ReferenceServers servers)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomAdds_GiveRedisBytesAndCounts(int seed)
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        var random = new Random(seed);
        for (int k = 0; k < 8; k++)
        {
            string key = p + "h" + k;
            int universe = new[] { 5, 60, 400, 2500, 12000 }[random.Next(5)];
            int adds = Math.Min(universe, 1500);
            for (int i = 0; i < adds; i += 10)
            {
                string[] command = new string[2 + random.Next(1, 12)];
                command[0] = "PFADD";
                command[1] = key;
                for (int e = 2; e < command.Length; e++)
                {
                    command[e] = "e" + random.Next(universe);
                }

                both.Same(command);
                if (random.Next(20) == 0)
                {
                    both.Same("PFCOUNT", key);
                }
            }

            both.Same("GET", key);
            both.Same("PFCOUNT", key);
            both.Same("GET", key); // the cached cardinality, now valid
            both.Same("PFDEBUG", "ENCODING", key);
            both.Same("PFDEBUG", "DECODE", key);
        }

        for (int i = 0; i < 12; i++)
        {
            string[] sources = Enumerable.Range(0, random.Next(1, 4)).Select(_ => p + "h" + random.Next(10)).ToArray();
            both.Same(["PFCOUNT", .. sources]);
            string destination = p + "m" + random.Next(3);
            both.Same(["PFMERGE", destination, .. sources]);
            both.Same("GET", destination);
            both.Same("PFCOUNT", destination);
        }
    }

    [Fact]
    public void SparseTurnsDenseAtTheConfiguredLength()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("CONFIG", "GET", "hll-sparse-max-bytes");
        try
        {
            foreach (string limit in new[] { "0", "100", "1kb", "30000" })
            {
                both.Same("CONFIG", "SET", "hll-sparse-max-bytes", limit);
                both.Same("CONFIG", "GET", "hll-sparse-max-bytes");
                string key = p + limit;
                for (int i = 0; i < 3000; i += 50)
                {
                    both.Same(["PFADD", key, .. Enumerable.Range(i, 50).Select(e => "x" + e)]);
                    both.Same("PFDEBUG", "ENCODING", key);
                }

                both.Same("GET", key);
                both.Same("PFCOUNT", key);
            }

            both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "-1");
            both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "lots");
        }
        finally
        {
            both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "3000");
        }
    }

    [Fact]
    public void MergeAndCountOfSparseDenseAndMissingKeys_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same(["PFADD", p + "dense", .. Enumerable.Range(0, 3000).Select(e => "d" + e)]);
        both.Same("PFADD", p + "sparse", "a", "b", "c", "d3");
        both.Same("PFADD", p + "empty");
        both.Same("GET", p + "empty");
        both.Same("PFADD", p + "empty");
        both.Same("PFCOUNT", p + "missing");
        both.Same("PFCOUNT", p + "missing", p + "other");
        both.Same("PFCOUNT", p + "sparse", p + "dense", p + "missing");
        both.Same("PFMERGE", p + "new");
        both.Same("GET", p + "new");
        both.Same("PFMERGE", p + "sparse", p + "missing");
        both.Same("GET", p + "sparse");
        both.Same("PFMERGE", p + "sparse", p + "dense");
        both.Same("GET", p + "sparse");
        both.Same("PFMERGE", p + "fromsparse", p + "empty", p + "sparse");
        both.Same("PFDEBUG", "ENCODING", p + "fromsparse");
        both.Same("PFADD", p + "s2", "q");
        both.Same("PFMERGE", p + "s2", p + "empty");
        both.Same("GET", p + "s2");
        both.Same("PFDEBUG", "ENCODING", p + "s2");
    }

    [Fact]
    public void WrongTypesNonHyperLogLogsAndCorruptValues_GetRedisErrors()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        both.Same("RPUSH", p + "list", "a");
        both.Same("SET", p + "text", "not a sketch");
        both.Same("SET", p + "number", "12345678901234567890");
        both.Same("SET", p + "short", "HYLL\u0001");
        both.Same("SET", p + "encoding", "HYLL\u0002\0\0\0\0\0\0\0\0\0\0\u0080\u007f\u00ff");
        both.Same("SET", p + "denselength", "HYLL\0\0\0\0\0\0\0\0\0\0\0\u0080\u007f\u00ff");
        // Sparse opcodes covering 16,387 registers (the last VAL runs past the end), and 12,647 (too few).
        both.Same("SET", p + "long", "HYLL\u0001\0\0\0\0\0\0\0\0\0\0\u0080\u0050\u00db\u00b4\u006f\u0022\u009e");
        both.Same("SET", p + "few", "HYLL\u0001\0\0\0\0\0\0\0\0\0\0\u0080\u0050\u00db\u0060\u0069\u0020");
        both.Same("PFADD", p + "ok", "a");
        foreach (string key in new[] { "list", "text", "number", "short", "encoding", "denselength", "long", "few" })
        {
            both.Same("PFADD", p + key, "a");
            both.Same("PFCOUNT", p + key);
            both.Same("PFCOUNT", p + "ok", p + key);
            both.Same("PFMERGE", p + "dest" + key, p + "ok", p + key);
            both.Same("EXISTS", p + "dest" + key);
            both.Same("PFMERGE", p + key, p + "ok");
            both.Same("PFDEBUG", "DECODE", p + key);
            both.Same("PFDEBUG", "TODENSE", p + key);
            both.Same("GET", p + key);
        }

        both.Same("PFDEBUG", "GETREG", p + "missing");
        both.Same("PFDEBUG", "NOSUCH", p + "missing");
        both.Same("PFDEBUG", "NOSUCH", p + "ok");
        both.Same("PFDEBUG", "DECODE", p + "ok");
        both.Same("PFDEBUG", "TODENSE", p + "ok");
        both.Same("PFDEBUG", "TODENSE", p + "ok");
        both.Same("PFDEBUG", "DECODE", p + "ok");
        both.Same("PFDEBUG", "ENCODING", p + "ok");
        both.Same("GET", p + "ok");
        both.Same("PFADD", p + "ok2", "z");
        both.Same("PFDEBUG", "GETREG", p + "ok2");
        both.Same("GET", p + "ok2");
        both.Same("PFADD");
        both.Same("PFCOUNT");
        both.Same("PFMERGE");
        both.Same("PFDEBUG", "GETREG");
        both.Same("PFSELFTEST", "x");
    }

    [Fact]
    public void Edits_KeepTheTtl_AndPfcountWithAStaleCacheFailsAWatch()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        using ReplyComparison other = servers.Compare();
        both.Same("PFADD", p + "h", "a");
        both.Same("EXPIRE", p + "h", "1000");
        both.Same("PFADD", p + "h", "b", "c");
        both.Same("PFMERGE", p + "h", p + "missing");
        both.Same("PFCOUNT", p + "h");
        both.Same("TTL", p + "h");

        // PFCOUNT stores the count it computed: a change for WATCH. With the cache valid it changes nothing.
        both.Same("PFADD", p + "w", "a", "b");
        both.Same("WATCH", p + "w");
        other.Same("PFCOUNT", p + "w");
        both.Same("MULTI");
        both.Same("GET", p + "w");
        both.Same("EXEC");
        both.Same("WATCH", p + "w");
        other.Same("PFCOUNT", p + "w");
        other.Same("PFADD", p + "w", "a");
        both.Same("MULTI");
        both.Same("PFCOUNT", p + "w");
        both.Same("EXEC");
    }

    [Fact]
    public void SelfTest_Passes()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("PFSELFTEST");
    }
}
