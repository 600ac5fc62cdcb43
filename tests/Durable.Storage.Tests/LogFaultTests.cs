using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Durable.Storage.Faster;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// A read of the store's log that fails stops the server (<see cref="FailStopDevice"/>) before FASTER takes the record for
/// absent: without that, a GET of a key on disk answered nil and a DEL 0 once the disk failed (the crash tool's power cuts).
/// </summary>
public sealed class LogFaultTests : IDisposable
{
    private const int Keys = 3000;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ReadOfARecordOnDiskFails_TheStoreStopsBeforeAnsweringNotFound()
    {
        FaultInjectingDevice? device = null;
        ConcurrentQueue<string> stops = new();
        await using FasterStore store = await FasterStore.OpenAsync(
            new StoreOptions
            {
                DataDirectory = _directory,
                MemoryBytes = 1L << 20,
                IndexBytes = 1L << 16,
                SegmentBytes = 1L << 20,
                CompactionIntervalSeconds = 0,
                CheckpointIntervalSeconds = 0,
                OnLogFault = stops.Enqueue,
            },
            NullLogger.Instance,
            wrapWalDevice: null,
            wrapLogDevice: inner => device = new FaultInjectingDevice(inner));
        using IStoreSession session = store.OpenSession();
        for (int i = 0; i < Keys; i++)
        {
            session.Write(0, Encoding.ASCII.GetBytes($"key:{i}"), RecordType.String, new byte[1000], 0);
            session.CompleteCommand();
        }

        Assert.True(store.Kv.Log.HeadAddress > store.Kv.Log.BeginAddress, "key:0 is on disk only");
        ArrayBufferWriter<byte> read = new();
        Assert.True(session.TryRead(0, "key:0"u8, read, out _));
        session.CompleteCommand();
        Assert.Empty(stops);

        device!.FailReads = true;
        _ = session.TryRead(0, "key:1"u8, read, out _);
        session.CompleteCommand();
        string stop = Assert.Single(stops);
        Assert.StartsWith("a read of the store's log failed (errno 5", stop, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
