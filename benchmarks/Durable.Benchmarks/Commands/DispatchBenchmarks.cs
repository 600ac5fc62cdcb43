using System.Buffers;
using BenchmarkDotNet.Attributes;
using Durable.Benchmarks.Protocol;
using Durable.Commands;
using Durable.Commands.Server;
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
    private readonly ArrayBufferWriter<byte> _reply = new(64 * 1024);
    private readonly RespLimits _limits = new();
    private readonly Parsed _get = new(RespFrames.Multibulk("GET", "key:000000000042"));
    private readonly Parsed _getMissing = new(RespFrames.Multibulk("GET", "missing:000000000042"));
    private readonly Parsed _set100 = new(RespFrames.Multibulk("SET", "key:000000000042", new string('x', 100)));
    private readonly RespRequest _request = new();
    private TempStore _store = null!;
    private IStoreSession _session = null!;
    private CommandContext _context = null!;
    private CommandDispatcher _dispatcher = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _store = await TempStore.OpenAsync(memoryBytes: 64L << 20);
        CommandTable table = CommandTable.CreateDefault();
        ServerState server = new(_store.Store, new ServerConfig(), table, TimeProvider.System);
        ClientState client = new() { Id = 1, Address = "127.0.0.1:50000", LocalAddress = "127.0.0.1:6379", CreatedAtMs = server.StartedAtMs };
        _context = new CommandContext(server, client) { Reply = _reply };
        _session = _context.Session;
        _dispatcher = new CommandDispatcher(table);
        byte[] value = new byte[100];
        for (int i = 0; i < Keys; i++)
        {
            _session.Write(0, TempStore.Key(i), RecordType.String, value, 0);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _session.Dispose();
        await _store.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "GET hit, 100 B")]
    public int Get() => Execute(_get);

    [Benchmark(Description = "GET miss")]
    public int GetMissing() => Execute(_getMissing);

    [Benchmark(Description = "SET 100 B, existing key")]
    public int Set100() => Execute(_set100);

    [Benchmark(Description = "parse + GET hit (session loop path)")]
    public int ParseAndGet()
    {
        _reply.ResetWrittenCount();
        ReadOnlySpan<byte> frame = _get.Frame;
        RespParser.TryParse(frame, _request, _limits, out _);
        _dispatcher.Execute(_context, _request.GetArgs(frame));
        return _reply.WrittenCount;
    }

    private int Execute(Parsed command)
    {
        _reply.ResetWrittenCount();
        _dispatcher.Execute(_context, command.Request.GetArgs(command.Frame));
        return _reply.WrittenCount;
    }

    /// <summary>A frame and its parse result, kept together so the arguments can be viewed again on every call.</summary>
    private sealed class Parsed
    {
        public Parsed(byte[] frame)
        {
            Frame = frame;
            RespParser.TryParse(frame, Request, new RespLimits(), out _);
        }

        public byte[] Frame { get; }

        public RespRequest Request { get; } = new();
    }
}
