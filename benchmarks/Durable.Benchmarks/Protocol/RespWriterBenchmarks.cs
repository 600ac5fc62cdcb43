using System.Buffers;
using BenchmarkDotNet.Attributes;
using Durable.Protocol;

namespace Durable.Benchmarks.Protocol;

/// <summary>
/// <see cref="RespWriter"/> into a reused <see cref="ArrayBufferWriter{T}"/>, as handlers write replies.
/// Each method returns the bytes written.
/// </summary>
[MemoryDiagnoser]
public class RespWriterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _writer = new(64 * 1024);
    private readonly byte[] _value100 = new byte[100];
    private readonly byte[] _value4096 = new byte[4096];

    [Benchmark(Baseline = true, Description = "bulk 100 B")]
    public int WriteBulk100()
    {
        _writer.ResetWrittenCount();
        RespWriter.WriteBulkString(_writer, _value100);
        return _writer.WrittenCount;
    }

    [Benchmark(Description = "bulk 4096 B")]
    public int WriteBulk4096()
    {
        _writer.ResetWrittenCount();
        RespWriter.WriteBulkString(_writer, _value4096);
        return _writer.WrittenCount;
    }

    [Benchmark(Description = "integer")]
    public int WriteInteger()
    {
        _writer.ResetWrittenCount();
        RespWriter.WriteInteger(_writer, 1_234_567_890);
        return _writer.WrittenCount;
    }

    [Benchmark(Description = "null bulk")]
    public int WriteNull()
    {
        _writer.ResetWrittenCount();
        RespWriter.WriteNull(_writer, RespVersion.Resp2);
        return _writer.WrittenCount;
    }

    [Benchmark(Description = "array of 10 x bulk 100 B (MGET reply)")]
    public int WriteArray10()
    {
        _writer.ResetWrittenCount();
        RespWriter.WriteArrayHeader(_writer, 10);
        for (int i = 0; i < 10; i++)
        {
            RespWriter.WriteBulkString(_writer, _value100);
        }

        return _writer.WrittenCount;
    }
}
