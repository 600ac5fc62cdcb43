using System.Buffers;
using BenchmarkDotNet.Attributes;
using Durable.Protocol;

namespace Durable.Benchmarks.Protocol;

/// <summary>
/// <see cref="RespParser.TryParse"/> on one complete frame in a single span: the fast path the session loop takes
/// for almost every command. Each method returns the bytes consumed plus the argument count.
/// </summary>
[MemoryDiagnoser]
public class RespParserBenchmarks
{
    private readonly RespRequest _request = new();
    private readonly RespLimits _limits = new();
    private readonly byte[] _get = RespFrames.Get;
    private readonly byte[] _set100 = RespFrames.Set100;
    private readonly byte[] _mset10 = RespFrames.Mset10;
    private readonly byte[] _inlinePing = RespFrames.InlinePing;

    [Benchmark(Baseline = true, Description = "GET key")]
    public int ParseGet() => Parse(_get);

    [Benchmark(Description = "SET key 100 B")]
    public int ParseSet100() => Parse(_set100);

    [Benchmark(Description = "MSET 10 keys x 100 B")]
    public int ParseMset10() => Parse(_mset10);

    [Benchmark(Description = "inline PING")]
    public int ParseInlinePing() => Parse(_inlinePing);

    private int Parse(ReadOnlySpan<byte> frame)
    {
        OperationStatus status = RespParser.TryParse(frame, _request, _limits, out int consumed);
        return status == OperationStatus.Done ? consumed + _request.Count : -1;
    }
}
