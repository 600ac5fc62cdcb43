using Durable.Testing;
using System.Globalization;

namespace Durable.Server.Tests;

/// <summary>Geo commands against redis-server, byte for byte: positions, distances, hashes, searches and what they store.</summary>
public sealed class GeoCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void TheDocumentationsExamples_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string key = p + "Sicily";
        both.Same("GEOADD", key, "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania");
        foreach (string unit in new[] { "m", "km", "MI", "ft" })
        {
            both.Same("GEODIST", key, "Palermo", "Catania", unit);
        }

        both.Same("GEODIST", key, "Palermo", "Catania");
        both.Same("GEOPOS", key, "Palermo", "Catania", "NonExisting");
        both.Same("GEOHASH", key, "Palermo", "Catania", "NonExisting");
        both.Same("GEORADIUS", key, "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH");
        both.Same("GEORADIUSBYMEMBER", key, "Palermo", "200", "km", "WITHDIST", "DESC");
        both.Same("GEOSEARCH", key, "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD", "WITHDIST");
        both.Same("GEOADD", key, "CH", "XX", "13.361389", "38.2", "Palermo", "1", "2", "Nowhere");
        both.Same("ZRANGE", key, "0", "-1", "WITHSCORES");

        // RESP3: coordinates are doubles, distances stay strings.
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        both.Same("GEOPOS", key, "Palermo", "NonExisting");
        both.Same("GEORADIUS", key, "15", "37", "200", "km", "WITHCOORD", "WITHDIST");
        both.Same("GEODIST", key, "Palermo", "NonExisting");
        both.Same("GEOHASH", key, "NonExisting");
    }

    [Theory]
    [InlineData(1, 40)]
    [InlineData(2, 600)]
    public void RandomSearches_MatchRedis(int seed, int members)
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        var random = new Random(seed);
        string key = p + "places";
        for (int i = 0; i < members; i += 20)
        {
            List<string> command = ["GEOADD", key];
            for (int j = i; j < i + 20; j++)
            {
                command.AddRange([Coordinate(random, 10, 12), Coordinate(random, 40, 42), "m" + j]);
            }

            both.Same([.. command]);
        }

        both.Same(["GEOPOS", key, .. Enumerable.Range(0, members).Where(i => i % 7 == 0).Select(i => "m" + i)]);
        both.Same(["GEOHASH", key, .. Enumerable.Range(0, members).Where(i => i % 7 == 0).Select(i => "m" + i)]);
        string[] units = ["m", "km", "mi", "ft"];
        string[] optionChoices = ["WITHDIST", "WITHCOORD", "WITHHASH", "ASC", "DESC"];
        for (int t = 0; t < 25; t++)
        {
            string longitude = Coordinate(random, 10, 12);
            string latitude = Coordinate(random, 40, 42);
            string radius = new[] { "1", "20", "50", "200", "5000" }[random.Next(5)];
            string unit = units[random.Next(units.Length)];
            List<string> options = optionChoices.OrderBy(_ => random.Next()).Take(random.Next(3)).ToList();
            if (random.Next(3) == 0)
            {
                options.AddRange(["COUNT", random.Next(1, 10).ToString(CultureInfo.InvariantCulture)]);
                if (random.Next(3) == 0)
                {
                    options.Add("ANY");
                }
            }

            string member = "m" + random.Next(members);
            both.Same(["GEORADIUS", key, longitude, latitude, radius, unit, .. options]);
            both.Same(["GEORADIUS_RO", key, longitude, latitude, radius, unit, .. options]);
            both.Same(["GEORADIUSBYMEMBER", key, member, radius, unit, .. options]);
            both.Same(["GEORADIUSBYMEMBER_RO", key, member, radius, unit, .. options]);
            both.Same(["GEOSEARCH", key, "FROMLONLAT", longitude, latitude, "BYBOX", radius, "30", unit, .. options]);
            both.Same(["GEOSEARCH", key, "FROMMEMBER", member, "BYRADIUS", radius, unit, .. options]);

            string[] storeOptions = options.Where(o => !o.StartsWith("WITH", StringComparison.Ordinal)).ToArray();
            string[] storeDist = t % 2 == 0 ? ["STOREDIST"] : [];
            both.Same(["GEOSEARCHSTORE", p + "found", key, "FROMMEMBER", member, "BYRADIUS", radius, unit, .. storeOptions, .. storeDist]);
            both.Same("ZRANGE", p + "found", "0", "-1", "WITHSCORES");
            both.Same(["GEORADIUS", key, longitude, latitude, radius, unit, .. storeOptions, t % 2 == 0 ? "STORE" : "STOREDIST", p + "stored"]);
            both.Same("ZRANGE", p + "stored", "0", "-1", "WITHSCORES");
            both.Same("OBJECT", "ENCODING", p + "stored");
        }
    }

    [Fact]
    public void EdgesAndErrors_MatchRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string key = p + "e";
        both.Same("GEOADD", key, "0", "0", "a", "0", "0", "b", "0", "0", "c", "0.0001", "0", "d", "180", "85.05112878", "n", "-180", "-85.05112878", "s");
        string[][] optionSets =
        [
            [], ["DESC"], ["COUNT", "2"], ["COUNT", "2", "ANY"], ["ANY"], ["COUNT", "0"], ["COUNT", "x"], ["COUNT"], ["STORE"],
            ["WITHDIST", "STORE", p + "s"], ["STOREDIST", p + "s", "WITHHASH"], ["bogus"],
        ];
        foreach (string[] options in optionSets)
        {
            both.Same(["GEORADIUS", key, "0", "0", "100", "km", .. options]);
            both.Same(["GEORADIUS_RO", key, "0", "0", "100", "km", .. options]);
            both.Same(["GEOSEARCH", key, "FROMMEMBER", "a", "BYRADIUS", "100", "km", .. options]);
            both.Same(["GEOSEARCHSTORE", p + "s", key, "FROMMEMBER", "a", "BYRADIUS", "100", "km", .. options]);
        }

        foreach (string radius in new[] { "0", "20000", "100000000" })
        {
            both.Same("GEORADIUS", key, "179", "80", radius, "km", "WITHDIST");
            both.Same("GEOSEARCH", key, "FROMLONLAT", "-179.9", "-85", "BYBOX", radius, radius, "km", "WITHDIST");
        }

        both.Same("GEOADD", key, "200", "100", "x");
        both.Same("GEOADD", key, "abc", "1", "x");
        both.Same("GEOADD", key, "1", "2");
        both.Same("GEOADD", key, "NX", "XX", "1", "2", "x");
        both.Same("GEOADD", key, "GT", "1", "2", "x");
        both.Same("GEORADIUS", key, "0", "0", "-1", "km");
        both.Same("GEORADIUS", key, "0", "0", "x", "km");
        both.Same("GEORADIUS", key, "0", "0", "1", "parsec");
        both.Same("GEODIST", key, "a", "d", "yd");
        both.Same("GEODIST", key, "a", "d", "km", "extra");
        both.Same("GEORADIUSBYMEMBER", key, "zz", "1", "km");
        both.Same("GEORADIUSBYMEMBER", p + "missing", "x", "bad", "km", "WITHDIST");
        both.Same("GEORADIUS", p + "missing", "0", "0", "1", "km", "STORE", p + "s");
        both.Same("EXISTS", p + "s");
        both.Same("GeoSearch", key, "BYRADIUS", "1", "km");
        both.Same("GEOSEARCH", key, "FROMMEMBER", "a");
        both.Same("GEOSEARCH", key, "FROMMEMBER", "a", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km");
        both.Same("GEOSEARCH", key, "FROMLONLAT", "0", "0", "BYBOX", "-1", "1", "km");
        both.Same("GEOSEARCH", key, "FROMLONLAT", "0", "0", "BYBOX", "1", "x", "km");
        both.Same("GEOSEARCH", key, "FROMMEMBER", "a", "BYRADIUS", "1", "km", "STOREDIST");
        both.Same("SET", p + "s", "x");
        both.Same("GEOSEARCHSTORE", p + "s", key, "FROMMEMBER", "a", "BYRADIUS", "1000", "km");
        both.Same("ZRANGE", p + "s", "0", "-1", "WITHSCORES");
        both.Same("SET", p + "str", "x");
        both.Same("GEOADD", p + "str", "1", "2", "x");
        both.Same("GEOPOS", p + "str", "x");
        both.Same("GEOHASH", p + "str", "x");
        both.Same("GEODIST", p + "str", "x", "y");
        both.Same("GEOSEARCH", p + "str", "FROMMEMBER", "x", "BYRADIUS", "1", "m");

        // Scores no GEOADD wrote decode as Redis decodes them.
        both.Same("ZADD", p + "z", "-1", "neg", "1e300", "huge", "inf", "inf", "0", "zero", "4503599627370496", "big");
        both.Same("GEOPOS", p + "z", "neg", "huge", "inf", "zero", "big");
        both.Same("GEOHASH", p + "z", "neg", "huge", "inf", "zero", "big");
        both.Same("GEORADIUS", p + "z", "0", "0", "30000", "km", "WITHCOORD", "WITHHASH");
    }

    [Fact]
    public async Task SearchesOfALargeGeoSetOnDisk_MatchRedis_AlsoAfterASigkill()
    {
        // 30,000 places under a 2 MiB budget: the set is a tree of part records mostly on disk; searches walk it from
        // the disk, then again after a SIGKILL and replay.
        string directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
        string key = servers.NewPrefix() + "cold";
        string[][] searches =
        [
            ["GEOSEARCH", key, "FROMLONLAT", "11", "41", "BYRADIUS", "5", "km", "ASC", "WITHDIST"],
            ["GEOSEARCH", key, "FROMLONLAT", "10.2", "40.3", "BYBOX", "20", "8", "km", "WITHHASH"],
            ["GEORADIUS_RO", key, "11.9", "41.9", "3", "km", "COUNT", "5", "DESC", "WITHCOORD"],
            ["GEORADIUSBYMEMBER_RO", key, "m777", "2", "km"],
            ["ZRANGEBYSCORE", key, "3476000000000000", "+inf", "LIMIT", "100", "20", "WITHSCORES"],
            ["GEOPOS", key, "m1", "m29999", "nosuch"],
        ];
        try
        {
            var random = new Random(7);
            using RespTestClient redis = servers.Redis.Connect();
            await using (ServerProcess server = await ServerProcess.StartAsync(directory, "--memory", "2mb"))
            {
                using ReplyComparison both = new(server.Connect(), redis);
                for (int i = 0; i < 30_000; i += 500)
                {
                    List<string> command = ["GEOADD", key];
                    for (int j = i; j < i + 500; j++)
                    {
                        command.AddRange([Coordinate(random, 10, 12), Coordinate(random, 40, 42), "m" + j]);
                    }

                    both.Same([.. command]);
                }

                using RespTestClient probe = server.Connect();
                long readsBefore = probe.InfoNumber("memory", "durable_pending_reads");
                foreach (string[] search in searches)
                {
                    both.Same(search);
                }

                Assert.True(probe.InfoNumber("memory", "durable_pending_reads") > readsBefore, "the searches were meant to read the set from the disk");

                await server.KillAsync();
            }

            await using ServerProcess again = await ServerProcess.StartAsync(directory, "--memory", "2mb");
            using ReplyComparison afterKill = new(again.Connect(), servers.Redis.Connect());
            foreach (string[] search in searches)
            {
                afterKill.Same(search);
            }

            afterKill.Same("ZCARD", key);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static string Coordinate(Random random, double min, double max) =>
        (min + (random.NextDouble() * (max - min))).ToString("F6", CultureInfo.InvariantCulture);
}
