using System.Buffers;
using BenchmarkDotNet.Attributes;
using Durable.Storage;

namespace Durable.Benchmarks.Storage;

/// <summary>
/// <see cref="IStoreSession"/> reads and writes of 100 B values over 64K keys that all fit in the in-memory log
/// (64 MiB). Keys are visited in a scattered order (an odd stride over a power-of-two key space), one per call.
/// Each method returns the payload length read or a found/created flag.
/// </summary>
[MemoryDiagnoser]
public class StoreHotBenchmarks
{
    private const int Keys = 1 << 16;
    private const int KeyLength = 16;
    private const int Stride = 40_503;
    private readonly byte[] _keys = new byte[Keys * KeyLength];
    private readonly byte[] _value = new byte[100];
    private readonly ArrayBufferWriter<byte> _read = new(1024);
    private TempStore _store = null!;
    private IStoreSession _session = null!;
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        _store = await TempStore.OpenAsync(memoryBytes: 64L << 20);
        _session = _store.Store.OpenSession();
        for (int i = 0; i < Keys; i++)
        {
            TempStore.Key(i).CopyTo(_keys, i * KeyLength);
            _session.Write(0, Key(i), RecordType.String, _value, 0);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _session.Dispose();
        await _store.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "read hit, 100 B")]
    public int ReadHot()
    {
        _read.ResetWrittenCount();
        _session.TryRead(0, NextKey(), _read, out StoredRecord record);
        return record.Length;
    }

    [Benchmark(Description = "read, existence only (EXISTS)")]
    public bool ReadNoValue() => _session.TryRead(0, NextKey(), null, out _);

    [Benchmark(Description = "write 100 B over an existing key")]
    public bool WriteHot() => _session.Write(0, NextKey(), RecordType.String, _value, 0);

    private ReadOnlySpan<byte> NextKey()
    {
        _next = (_next + Stride) & (Keys - 1);
        return Key(_next);
    }

    private ReadOnlySpan<byte> Key(int i) => _keys.AsSpan(i * KeyLength, KeyLength);
}
