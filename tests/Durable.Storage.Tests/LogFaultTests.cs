using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Durable.Storage.Faster;
using FASTER.core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// A read of the store's log that fails stops the server (<see cref="FailStopDevice"/>) before FASTER takes the record for
/// absent: without that, a GET of a key on disk answered nil and a DEL 0 once the disk failed (the crash tool's power cuts).
/// A failed page write stops it too, before FASTER's callback learns of it.
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
            SmallStore.Options(_directory) with { OnLogFault = stops.Enqueue },
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

    [Fact]
    public void FailedWrite_StopsBeforeTheCallerLearnsOfIt_SucceededWrite_DoesNot()
    {
        Directory.CreateDirectory(_directory);
        FaultInjectingDevice faulty = new(Devices.CreateLogDevice(Path.Combine(_directory, "hlog"), preallocateFile: false, deleteOnClose: true));
        List<string> events = [];
        using FailStopDevice device = new(faulty, NullLogger.Instance, stop => Add("stop: " + stop));
        using ManualResetEventSlim done = new();
        // A page-aligned 4 KiB inside a pinned array, as FASTER's page buffers are.
        byte[] buffer = GC.AllocateArray<byte>(2 * 4096, pinned: true);
        nint page = (Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0) + 4095) & ~(nint)4095;

        device.WriteAsync(page, 0, 0, 4096, Completed, null!);
        Assert.True(done.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Equal(["callback: error 0"], events);

        faulty.FailWrites = true;
        done.Reset();
        device.WriteAsync(page, 0, 4096, 4096, Completed, null!);
        Assert.True(done.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Equal(3, events.Count);
        Assert.StartsWith("stop: a write of the store's log failed (errno 5, segment 0, offset 4096)", events[1], StringComparison.Ordinal);
        Assert.Equal("callback: error 5", events[2]);
        GC.KeepAlive(buffer);

        void Completed(uint error, uint bytes, object context)
        {
            Add($"callback: error {error}");
            done.Set();
        }

        void Add(string what)
        {
            lock (events)
            {
                events.Add(what);
            }
        }
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
