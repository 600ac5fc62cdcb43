using System.Buffers;
using BenchmarkDotNet.Attributes;
using Durable.Benchmarks.Protocol;
using Durable.Commands;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Benchmarks.Commands;

/// <summary>
/// One command through <see cref="CommandDispatcher.Execute"/> against a real FASTER store (all in memory), with the
/// reply going to an <see cref="ArrayBufferWriter{T}"/>: lookup, arity check, key locks, handler, statistics. No sockets.
/// Frames are parsed once in setup unless the method says otherwise. Each method returns the reply length.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private const int Keys = 1 << 16;
    private readonly RespLimits _limits = new();
    private readonly ParsedCommand _get = new(RespFrames.Multibulk("GET", "key:000000000042"));
    private readonly ParsedCommand _getMissing = new(RespFrames.Multibulk("GET", "missing:000000000042"));
    private readonly ParsedCommand _set100 = new(RespFrames.Multibulk("SET", "key:000000000042", new string('x', 100)));
    private readonly RespRequest _request = new();
    private DispatchHarness _harness = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _harness = await DispatchHarness.OpenAsync(memoryBytes: 64L << 20);
        byte[] value = new byte[100];
        for (int i = 0; i < Keys; i++)
        {
            _harness.Context.Session.Write(0, TempStore.Key(i), RecordType.String, value, 0);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _harness.DisposeAsync();

    [Benchmark(Baseline = true, Description = "GET hit, 100 B")]
    public int Get() => Execute(_get);

    [Benchmark(Description = "GET miss")]
    public int GetMissing() => Execute(_getMissing);

    [Benchmark(Description = "SET 100 B, existing key")]
    public int Set100() => Execute(_set100);

    [Benchmark(Description = "parse + GET hit (session loop path)")]
    public int ParseAndGet()
    {
        _harness.Reply.ResetWrittenCount();
        ReadOnlySpan<byte> frame = _get.Frame;
        RespParser.TryParse(frame, _request, _limits, out _);
        _harness.Dispatcher.Execute(_harness.Context, _request.GetArgs(frame));
        return _harness.Reply.WrittenCount;
    }

    private int Execute(ParsedCommand command) => _harness.Execute(command);
}
