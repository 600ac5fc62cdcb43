using System.Buffers;
using BenchmarkDotNet.Attributes;
using Durable.Storage;

namespace Durable.Benchmarks.Storage;

/// <summary>
/// Reads with a small memory budget: 32K records of 1000 B (about 33 MB of log) with 1 MiB of log in memory, so
/// almost every read of an older key goes to the log file and is completed inside the adapter (FASTER pending read).
/// The file stays in the OS page cache (FASTER does not use O_DIRECT here), so this measures the pending-read path,
/// not the SSD; the disk itself is measured end to end. Each method returns the payload length read.
/// </summary>
[MemoryDiagnoser]
public class StoreColdReadBenchmarks
{
    private const int Keys = 1 << 15;
    private const int HotKeys = 256;
    private const int KeyLength = 16;
    private const int Stride = 40_503;
    private readonly byte[] _keys = new byte[Keys * KeyLength];
    private readonly ArrayBufferWriter<byte> _read = new(4096);
    private TempStore _store = null!;
    private IStoreSession _session = null!;
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        // As durable-server's Program.cs does: cold reads complete on thread-pool threads, and the default pool
        // (one thread per core) makes a waiting read queue behind whatever else runs (see FASTER-NOTES.md).
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
        _store = await TempStore.OpenAsync(memoryBytes: 1L << 20);
        _session = _store.Store.OpenSession();
        byte[] value = new byte[1000];
        for (int i = 0; i < Keys; i++)
        {
            TempStore.Key(i).CopyTo(_keys, i * KeyLength);
            _session.Write(0, Key(i), RecordType.String, value, 0);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _session.Dispose();
        await _store.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "read 1000 B, in-memory tail")]
    public int ReadRecent()
    {
        // The last HotKeys records written (256 KB) are still in the in-memory part of the log.
        _next = (_next + Stride) & (HotKeys - 1);
        return Read(Keys - HotKeys + _next);
    }

    [Benchmark(Description = "read 1000 B, on disk (page cache)")]
    public int ReadCold()
    {
        // Keys below Keys / 2 were written more than 16 MB before the tail: far outside the 1 MiB in memory.
        _next = (_next + Stride) & ((Keys / 2) - 1);
        return Read(_next);
    }

    private int Read(int i)
    {
        _read.ResetWrittenCount();
        _session.TryRead(0, Key(i), _read, out StoredRecord record);
        return record.Length;
    }

    private ReadOnlySpan<byte> Key(int i) => _keys.AsSpan(i * KeyLength, KeyLength);
}
