using System.Runtime.InteropServices;
using System.Text;
using Durable.Storage.Faster;
using FASTER.core;

namespace Durable.Storage.Tests;

/// <summary>
/// The write-ahead log's device writes with O_DIRECT what FASTER hands it aligned, and anything else through FASTER's
/// device; both land in the same segment files, zero fills ahead of the writes never overwrite them, and a truncated
/// segment's file goes with its handle.
/// </summary>
public sealed class DirectWriteDeviceTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task AlignedWritesGoDirect_OthersThroughFaster_BothLandInTheSegmentFile()
    {
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, "wal.log");
        RecordingLogger logger = new();
        using DirectWriteDevice device = new(Devices.CreateLogDevice(path, preallocateFile: false, deleteOnClose: false, recoverDevice: false), logger);
        LightEpoch epoch = new();
        device.Initialize(1L << 20, epoch);
        Assert.True(device.Direct);

        // A pinned buffer with a 4 KiB-aligned start, as FASTER's pages are aligned to its sector size.
        byte[] buffer = GC.AllocateArray<byte>(3 * 4096, pinned: true);
        IntPtr start = Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0);
        int skip = (int)((4096 - (start % 4096)) % 4096);
        IntPtr aligned = start + skip;
        Encoding.ASCII.GetBytes(new string('a', 4096)).CopyTo(buffer, skip);
        Encoding.ASCII.GetBytes(new string('b', 1000)).CopyTo(buffer, skip + 4096 + 8);

        await WriteAsync(device, aligned, 0, 4096);
        Assert.Equal(1, device.DirectWrites);

        // Source off the sector size: FASTER's device writes it.
        await WriteAsync(device, aligned + 4096 + 8, 8192, 512);
        Assert.Equal(1, device.DirectWrites);

        // Through the segment-less overload too: an address past the first segment lands in the second file.
        await WriteAsync(device, aligned, (1L << 20) + 4096, 4096, bySegment: false);
        Assert.Equal(2, device.DirectWrites);
        Assert.True(device.Direct);

        // The first direct write started zeroing the segment ahead of it; the write through FASTER's device kept its bytes.
        byte[] first = await File.ReadAllBytesAsync(path + ".0", TestContext.Current.CancellationToken);
        Assert.InRange(first.Length, 8192 + 512, 1 << 20);
        Assert.All(first[..4096], b => Assert.Equal((byte)'a', b));
        Assert.All(first[4096..8192], b => Assert.Equal(0, b));
        Assert.All(first[8192..8704], b => Assert.Equal((byte)'b', b));
        Assert.All(first[8704..], b => Assert.Equal(0, b));
        byte[] second = await File.ReadAllBytesAsync(path + ".1", TestContext.Current.CancellationToken);
        Assert.All(second[4096..8192], b => Assert.Equal((byte)'a', b));

        // Truncating the first segment closes this device's handle on it: no descriptor of the process still names it.
        device.TruncateUntilSegment(1);
        Assert.False(File.Exists(path + ".0"));
        Assert.DoesNotContain(
            Directory.EnumerateFileSystemEntries("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget ?? ""),
            target => target.StartsWith(path + ".0", StringComparison.Ordinal));
        Assert.False(logger.Has(203));
    }

    [Fact]
    public async Task Store_LogsThroughDirectWrites_AndRecoversWhatTheyWrote()
    {
        StoreOptions options = new() { DataDirectory = _directory, MemoryBytes = 1L << 22, IndexBytes = 1L << 16 };
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using (FasterStore store = await FasterStore.OpenAsync(options, new RecordingLogger()))
        {
            using IStoreSession session = store.OpenSession();
            for (int i = 0; i < 200; i++)
            {
                session.Write(0, Encoding.ASCII.GetBytes($"k{i}"), RecordType.String, Encoding.ASCII.GetBytes($"v{i}"), 0);
                session.CompleteCommand();
                await session.WaitForDurabilityAsync(cancellationToken);
            }

            StoreStatistics statistics = store.GetStatistics();
            Assert.True(statistics.WalDirectIO);
            Assert.InRange(statistics.WalDirectWrites, 1, long.MaxValue);
            // The first write started a fill of the 8 MiB ahead of it, in the background.
            for (int wait = 0; store.GetStatistics().WalZeroFilledBytes < 8 << 20 && wait < 500; wait++)
            {
                await Task.Delay(10, cancellationToken);
            }

            Assert.InRange(store.GetStatistics().WalZeroFilledBytes, 8 << 20, 9 << 20);
        }

        // Closed without a checkpoint: every write comes back from the WAL the direct writes made.
        await using FasterStore reopened = await FasterStore.OpenAsync(options, new RecordingLogger());
        Assert.Equal(200, reopened.KeyCount(0));
    }

    [Fact]
    public async Task Writes_MeetingZeroFillsInFlight_KeepTheirBytes_AndOnlyZerosFollowTheEnd()
    {
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, "wal.log");
        // Fills of 64 KiB in 4 KiB writes, started 48 KiB before the zeroed end: the log's writes keep running into them.
        WalZeroFill zeroFill = new(aheadBytes: 64 << 10, lowWaterBytes: 48 << 10, chunkBytes: 4096);
        using DirectWriteDevice device = new(Devices.CreateLogDevice(path, preallocateFile: false, deleteOnClose: false, recoverDevice: false), new RecordingLogger(), zeroFill);
        device.Initialize(1L << 30, new LightEpoch());

        // The log as FASTER writes it: pages flushed in turn, each flush rewriting the sector the last one ended in, two
        // flushes of neighbouring ranges at times in flight together.
        const int LogBytes = 1 << 20;
        byte[] model = new byte[LogBytes + 8192];
        Random.Shared.NextBytes(model);
        byte[] buffer = GC.AllocateArray<byte>(model.Length + 4096, pinned: true);
        IntPtr start = Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0);
        int skip = (int)((4096 - (start % 4096)) % 4096);
        model.CopyTo(buffer, skip);
        Random random = new(16);
        long end = 0;
        while (end < LogBytes)
        {
            long from = end & ~511L;
            long to = from + (512 * random.Next(1, 17));
            Task<uint> write = WriteAsync(device, start + skip + (int)from, from, (uint)(to - from));
            if (random.Next(4) == 0)
            {
                long next = to + (512 * random.Next(1, 9));
                await Task.WhenAll(write, WriteAsync(device, start + skip + (int)to, to, (uint)(next - to)));
                to = next;
            }
            else
            {
                await write;
            }

            end = to;
        }

        Assert.InRange(zeroFill.FilledBytes, 4096, long.MaxValue);
        Assert.Equal(zeroFill.FilledBytes, device.ZeroFilledBytes);
        byte[] file = await File.ReadAllBytesAsync(path + ".0", TestContext.Current.CancellationToken);
        Assert.InRange(file.Length, end, end + (64 << 10) + 4096);
        Assert.True(file.AsSpan(0, (int)end).SequenceEqual(model.AsSpan(0, (int)end)), "a zero fill overwrote the log's bytes");
        Assert.Equal(-1, file.AsSpan((int)end).IndexOfAnyExcept((byte)0));
    }

    private static Task<uint> WriteAsync(DirectWriteDevice device, IntPtr source, long address, uint length, bool bySegment = true)
    {
        TaskCompletionSource<uint> done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        DeviceIOCompletionCallback callback = (error, bytes, _) =>
        {
            if (error != 0)
            {
                done.SetException(new IOException($"write failed with {error}"));
            }
            else
            {
                done.SetResult(bytes);
            }
        };
        if (bySegment)
        {
            device.WriteAsync(source, (int)(address >> 20), (ulong)(address & ((1L << 20) - 1)), length, callback, null!);
        }
        else
        {
            device.WriteAsync(source, (ulong)address, length, callback, null!);
        }

        return done.Task;
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
