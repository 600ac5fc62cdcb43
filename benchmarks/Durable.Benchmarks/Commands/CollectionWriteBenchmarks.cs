using BenchmarkDotNet.Attributes;
using Durable.Benchmarks.Protocol;
using Durable.Commands;

namespace Durable.Benchmarks.Commands;

/// <summary>
/// The collection writes of redis-benchmark's -t lpush,lpop,sadd,hset,zadd -r 1000 through
/// <see cref="CommandDispatcher.Execute"/> on a real FASTER store (all in memory, WAL appended), one command per call:
/// each collection starts with the 1,000 members redis-benchmark's -r 1000 reaches (so it is in part records), and each
/// call takes the next of 1,000 prepared commands (ZADD: 2,000, so that each moves its member), as -r picks them. Returns the reply length.
/// </summary>
[MemoryDiagnoser]
public class CollectionWriteBenchmarks
{
    private const int Members = 1000;
    private readonly ParsedCommand _lpush = new(RespFrames.Multibulk("LPUSH", "mylist", "xxx"));
    private readonly ParsedCommand _lpop = new(RespFrames.Multibulk("LPOP", "mylist"));
    private readonly ParsedCommand[] _sadd = Prepare(Members, i => ["SADD", "myset", Element(i)]);
    private readonly ParsedCommand[] _hset = Prepare(Members, i => ["HSET", "myhash", Element(i), "xxx"]);
    // Two rounds of scores, so that every call moves its member (redis-benchmark's -r randomises the score too).
    private readonly ParsedCommand[] _zadd = Prepare(2 * Members, i => ["ZADD", "myzset", (i * 7919L % 1_000_003).ToString("D12"), Element(i % Members)]);
    private DispatchHarness _harness = null!;
    private int _next;
    private int _nextScore;

    [GlobalSetup]
    public async Task Setup()
    {
        _harness = await DispatchHarness.OpenAsync(memoryBytes: 256L << 20);
        for (int i = 0; i < Members; i++)
        {
            Execute(_lpush);
            Execute(_sadd[i]);
            Execute(_hset[i]);
            Execute(new ParsedCommand(RespFrames.Multibulk("ZADD", "myzset", i.ToString("D12"), Element(i))));
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _harness.DisposeAsync();

    [Benchmark(Baseline = true, Description = "SADD existing member")]
    public int SAdd() => Execute(_sadd[Next()]);

    [Benchmark(Description = "HSET existing field, same value")]
    public int HSet() => Execute(_hset[Next()]);

    [Benchmark(Description = "ZADD existing member, new score")]
    public int ZAdd() => Execute(_zadd[_nextScore = (_nextScore + 1) % _zadd.Length]);

    [Benchmark(Description = "LPUSH then LPOP (3 B element)")]
    public int LPushLPop() => Execute(_lpush) + Execute(_lpop);

    private static string Element(int i) => $"element:{i:D12}";

    private static ParsedCommand[] Prepare(int count, Func<int, string[]> args) =>
        [.. Enumerable.Range(0, count).Select(i => new ParsedCommand(RespFrames.Multibulk(args(i))))];

    private int Next() => _next = (_next + 1) % Members;

    private int Execute(ParsedCommand command) => _harness.Execute(command);
}
