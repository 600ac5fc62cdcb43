using Durable.Testing;

namespace Durable.Server.Tests;

public sealed class SortedSetStatsTests
{
    [Fact]
    public async Task KeyspaceHitsAndMisses_CountedLikeRedis()
    {
        await using TestServer durable = await TestServer.StartAsync();
        await using RedisReference redis = await RedisReference.StartAsync();
        using ReplyComparison both = new(durable.Connect(), redis.Connect());
        using RespTestClient redisInfo = redis.Connect();
        string[] lines =
        [
            "ZADD a 1 x 2 y", "ZADD a XX 3 x", "ZINCRBY a 1 x", "ZINCRBY m 1 x", "ZREM a nope", "ZREM m x", "ZCARD a", "ZCARD m",
            "ZSCORE a x", "ZSCORE m x", "ZMSCORE a x y", "ZMSCORE m x", "ZRANK a x", "ZRANK m x", "ZREVRANK a x", "ZCOUNT a 0 10",
            "ZCOUNT m 0 1", "ZLEXCOUNT a - +", "ZLEXCOUNT m - +", "ZRANGE a 0 -1", "ZRANGE m 0 -1", "ZRANGEBYSCORE a 0 10",
            "ZREVRANGEBYSCORE m 10 0", "ZRANGEBYLEX a - +", "ZREVRANGE a 0 1", "ZRANGESTORE d a 0 -1", "ZRANGESTORE d m 0 -1",
            "ZREMRANGEBYRANK m 0 1", "ZREMRANGEBYSCORE a 100 200", "ZREMRANGEBYLEX a [zz +", "ZPOPMIN m", "ZPOPMAX m 2",
            "ZMPOP 2 m a MIN", "ZRANDMEMBER a", "ZRANDMEMBER m", "ZRANDMEMBER a 2", "ZRANDMEMBER m -2", "ZUNION 2 a m",
            "ZINTER 2 a m", "ZDIFF 2 m a", "ZUNIONSTORE d 2 a m", "ZINTERSTORE d 2 a m", "ZDIFFSTORE d 2 a m", "ZINTERCARD 2 a m",
            "ZSCAN a 0", "ZSCAN m 0", "ZPOPMIN a 0",
        ];
        foreach (string line in lines)
        {
            both.Same(line.Split(' '));
            string info = redisInfo.Call("INFO", "stats");
            string counts = $"keyspace_hits:{durable.State.Stats.KeyspaceHits}\r\nkeyspace_misses:{durable.State.Stats.KeyspaceMisses}\r\n";
            Assert.True(info.Contains(counts, StringComparison.Ordinal), $"{line}: durable {counts}\n{info}");
        }
    }
}
