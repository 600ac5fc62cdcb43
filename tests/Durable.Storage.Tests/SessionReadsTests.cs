using System.Runtime.InteropServices;
using Durable.Storage.Faster;
using FASTER.core;

namespace Durable.Storage.Tests;

/// <summary>
/// A session's prefetch wait (<see cref="SessionReads"/>, fed by <see cref="SessionReadDevice"/>): it ends only once every
/// read the session issued has run its completion callback, including a read issued again from a callback (as FASTER
/// reads the rest of a longer record, or the next record of a hash chain); reads of other threads are not the session's;
/// and a cancelled wait ends at once while the reads go on.
/// </summary>
public sealed class SessionReadsTests : IDisposable
{
    private static readonly TimeSpan s_delay = TimeSpan.FromMilliseconds(300);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));
    private readonly FaultInjectingDevice _slow;
    private readonly SessionReadDevice _device;
    private readonly byte[] _buffer = GC.AllocateArray<byte>(3 * 4096, pinned: true);
    private readonly IntPtr _aligned;

    public SessionReadsTests()
    {
        Directory.CreateDirectory(_directory);
        _slow = new FaultInjectingDevice(Devices.CreateLogDevice(Path.Combine(_directory, "hlog"), preallocateFile: false, deleteOnClose: false, recoverDevice: false));
        _device = new SessionReadDevice(_slow);
        _device.Initialize(1L << 20, new LightEpoch());
        // FASTER's buffers are sector-aligned; so is this one.
        IntPtr start = Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, 0);
        _aligned = start + (int)((4096 - (start % 4096)) % 4096);
    }

    [Fact]
    public async Task Wait_EndsAfterReadsIssuedFromCompletions()
    {
        await WriteBlockAsync();
        _slow.ReadDelay = s_delay;
        SessionReads reads = new();
        int completed = 0;
        TaskCompletionSource second = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using (SessionReadDevice.Issuing(reads))
        {
            _device.ReadAsync(0, 0, _aligned, 512, (error, bytes, context) =>
            {
                Interlocked.Increment(ref completed);
                // From the completion, as FASTER reads a record again: this read is the same session's.
                _device.ReadAsync(0, 512, _aligned + 512, 512, (_, _, _) =>
                {
                    Interlocked.Increment(ref completed);
                    second.SetResult();
                }, context);
            }, null!);
        }

        ValueTask arrived = reads.WhenArrivedAsync(TestContext.Current.CancellationToken);
        Assert.False(arrived.IsCompleted);
        await arrived;
        Assert.Equal(2, Volatile.Read(ref completed));
        await second.Task;
    }

    [Fact]
    public async Task ReadsOutsideTheSessionsScope_AreNotWaitedFor()
    {
        await WriteBlockAsync();
        _slow.ReadDelay = s_delay;
        SessionReads reads = new();
        TaskCompletionSource other = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using (SessionReadDevice.Issuing(reads))
        {
            // Scopes nest: an inner scope's reads are its own, and the outer scope is back after it.
            using (SessionReadDevice.Issuing(new SessionReads()))
            {
                _device.ReadAsync(0, 0, _aligned, 512, (_, _, _) => { }, null!);
            }
        }

        _device.ReadAsync(0, 512, _aligned + 512, 512, (_, _, _) => other.SetResult(), null!);
        ValueTask arrived = reads.WhenArrivedAsync(TestContext.Current.CancellationToken);
        Assert.True(arrived.IsCompletedSuccessfully);
        await arrived;
        await other.Task;
    }

    [Fact]
    public async Task CancelledWait_EndsAtOnce_AndTheNextWaitWorks()
    {
        await WriteBlockAsync();
        _slow.ReadDelay = TimeSpan.FromSeconds(2);
        SessionReads reads = new();
        TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using (SessionReadDevice.Issuing(reads))
        {
            _device.ReadAsync(0, 0, _aligned, 512, (_, _, _) => done.SetResult(), null!);
        }

        using CancellationTokenSource closing = new();
        ValueTask arrived = reads.WhenArrivedAsync(closing.Token);
        closing.CancelAfter(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await arrived);
        Assert.False(done.Task.IsCompleted);
        await done.Task;

        // The session reads on (as a connection does not, but a test of the wait's reuse can).
        _slow.ReadDelay = s_delay;
        TaskCompletionSource again = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using (SessionReadDevice.Issuing(reads))
        {
            _device.ReadAsync(0, 0, _aligned, 512, (_, _, _) => again.SetResult(), null!);
        }

        await reads.WhenArrivedAsync(TestContext.Current.CancellationToken);
        Assert.True(again.Task.IsCompleted);
    }

    private Task WriteBlockAsync()
    {
        TaskCompletionSource written = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _device.WriteAsync(_aligned, 0, 0, 4096, (error, _, _) =>
        {
            if (error == 0)
            {
                written.SetResult();
            }
            else
            {
                written.SetException(new IOException($"write failed: {error}"));
            }
        }, null!);
        return written.Task;
    }

    public void Dispose()
    {
        _device.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
