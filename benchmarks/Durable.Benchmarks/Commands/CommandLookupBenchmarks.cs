using BenchmarkDotNet.Attributes;
using Durable.Commands;

namespace Durable.Benchmarks.Commands;

/// <summary>
/// <see cref="CommandTable.Find(ReadOnlySpan{byte})"/>: the name as the client sent it, upper-cased into a stack
/// buffer and looked up through the frozen dictionary's span lookup. Each method returns the definition found.
/// </summary>
[MemoryDiagnoser]
public class CommandLookupBenchmarks
{
    private readonly CommandTable _table = CommandTable.CreateDefault();
    private readonly byte[] _get = "GET"u8.ToArray();
    private readonly byte[] _getLower = "get"u8.ToArray();
    private readonly byte[] _client = "CLIENT"u8.ToArray();
    private readonly byte[] _unknown = "NOSUCHCOMMAND"u8.ToArray();

    [Benchmark(Baseline = true, Description = "GET")]
    public object? FindGet() => _table.Find(_get);

    [Benchmark(Description = "get (lower case)")]
    public object? FindGetLowerCase() => _table.Find(_getLower);

    [Benchmark(Description = "CLIENT (container)")]
    public object? FindClient() => _table.Find(_client);

    [Benchmark(Description = "unknown name")]
    public object? FindUnknown() => _table.Find(_unknown);
}
