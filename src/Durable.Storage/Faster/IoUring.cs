using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Durable.Storage.Faster;

/// <summary>
/// A minimal Linux io_uring for reads (no liburing: the two system calls and the rings mapped into memory). Any thread
/// submits through <see cref="TrySubmitRead"/> (under a lock: one ring, one submission queue); one dedicated thread
/// reaps completions and runs each read's <see cref="IReadCompletion.Complete"/>, which may itself submit. At most
/// <see cref="Capacity"/> reads are in flight (the completion queue is twice as large, so it never overflows).
/// Pointers into the rings are raw memory shared with the kernel (<c>unsafe</c> code, as is the block copy of
/// <see cref="DirectReadDevice"/>: beyond the SpanByte pinning it was allowed for, since there is no managed way to
/// share a ring with the kernel), read and written with the acquire/release order the io_uring ABI asks for.
/// </summary>
internal sealed unsafe partial class IoUring : IDisposable
{
    private const long SysIoUringSetup = 425; // the same number on every architecture (the unified syscall table)
    private const long SysIoUringEnter = 426;
    private const uint EnterGetEvents = 1;
    private const uint FeatSingleMmap = 1;
    private const byte OpNop = 0;
    private const byte OpRead = 22;
    private const long OffSqRing = 0;
    private const long OffCqRing = 0x8000000;
    private const long OffSqes = 0x10000000;
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapSharedPopulate = 0x01 | 0x8000;
    private const int EIntr = 4;
    private const int EAgain = 11;
    private const int EBusy = 16;
    private const ulong StopToken = ulong.MaxValue;

    private readonly Lock _gate = new();
    private readonly int _fd;
    private readonly nint _sqRing;
    private readonly nuint _sqRingBytes;
    private readonly nint _cqRing;
    private readonly nuint _cqRingBytes;
    private readonly Sqe* _sqes;
    private readonly nuint _sqesBytes;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint* _sqArray;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private readonly IReadCompletion?[] _inFlight;
    private readonly Stack<int> _freeSlots;
    private readonly Thread _reaper;
    private volatile bool _stopping;
    private int _inFlightCount;
    private bool _disposed;

    /// <summary>Sets up a ring of <paramref name="entries"/> submission entries (a power of two); throws <see cref="Win32Exception"/> when the kernel refuses.</summary>
    public IoUring(uint entries)
    {
        Params p = default;
        long fd = Syscall(SysIoUringSetup, (nint)entries, (nint)(&p), 0, 0, 0, 0);
        if (fd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "io_uring_setup failed");
        }

        _fd = (int)fd;
        try
        {
            _sqRingBytes = p.SqOff.Array + (p.SqEntries * sizeof(uint));
            _cqRingBytes = p.CqOff.Cqes + (p.CqEntries * (uint)sizeof(Cqe));
            bool single = (p.Features & FeatSingleMmap) != 0;
            if (single)
            {
                _sqRingBytes = _cqRingBytes = Math.Max(_sqRingBytes, _cqRingBytes);
            }

            _sqRing = Map(_sqRingBytes, OffSqRing);
            _cqRing = single ? _sqRing : Map(_cqRingBytes, OffCqRing);
            _sqesBytes = p.SqEntries * (nuint)sizeof(Sqe);
            _sqes = (Sqe*)Map(_sqesBytes, OffSqes);
            byte* sq = (byte*)_sqRing;
            byte* cq = (byte*)_cqRing;
            _sqHead = (uint*)(sq + p.SqOff.Head);
            _sqTail = (uint*)(sq + p.SqOff.Tail);
            _sqMask = *(uint*)(sq + p.SqOff.RingMask);
            _sqArray = (uint*)(sq + p.SqOff.Array);
            _cqHead = (uint*)(cq + p.CqOff.Head);
            _cqTail = (uint*)(cq + p.CqOff.Tail);
            _cqMask = *(uint*)(cq + p.CqOff.RingMask);
            _cqes = (Cqe*)(cq + p.CqOff.Cqes);
        }
        catch
        {
            Unmap();
            _ = Close(_fd);
            throw;
        }

        // One slot per submission entry, and no more in flight than that: the completion queue (twice as large) never overflows.
        Capacity = (int)p.SqEntries;
        _inFlight = new IReadCompletion?[Capacity];
        _freeSlots = new Stack<int>(Enumerable.Range(0, Capacity).Reverse());
        _reaper = new Thread(Reap) { IsBackground = true, Name = "io_uring reaper" };
        _reaper.Start();
    }

    /// <summary>Most reads in flight at once; <see cref="TrySubmitRead"/> returns false beyond it.</summary>
    public int Capacity { get; }

    /// <summary>
    /// Queues a read of <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="fd"/> into
    /// <paramref name="destination"/> (which must stay valid until the completion) and submits it to the kernel; false
    /// (nothing queued) when <see cref="Capacity"/> reads are already in flight or the ring is stopping.
    /// </summary>
    public bool TrySubmitRead(int fd, ulong offset, nint destination, uint length, IReadCompletion completion)
    {
        lock (_gate)
        {
            if (_stopping || _freeSlots.Count == 0)
            {
                return false;
            }

            int slot = _freeSlots.Pop();
            _inFlight[slot] = completion;
            _inFlightCount++;
            Queue(OpRead, fd, offset, destination, length, (ulong)slot);
        }

        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopping = true;
            // Wakes the reaper, which leaves once the reads still in flight have completed.
            Queue(OpNop, -1, 0, 0, 0, StopToken);
        }

        _reaper.Join();
        Unmap();
        _ = Close(_fd);
    }

    /// <summary>Fills the next submission entry and submits every entry not yet submitted. The caller holds <see cref="_gate"/>.</summary>
    private void Queue(byte opcode, int fd, ulong offset, nint address, uint length, ulong userData)
    {
        uint tail = *_sqTail;
        uint index = tail & _sqMask;
        Sqe* sqe = _sqes + index;
        *sqe = default;
        sqe->Opcode = opcode;
        sqe->Fd = fd;
        sqe->Offset = offset;
        sqe->Address = (ulong)address;
        sqe->Length = length;
        sqe->UserData = userData;
        _sqArray[index] = index;
        Volatile.Write(ref *_sqTail, tail + 1);
        // Until the kernel has taken every entry (it may take fewer than asked, or none for a moment).
        while (true)
        {
            uint unsubmitted = tail + 1 - Volatile.Read(ref *_sqHead);
            if (unsubmitted == 0)
            {
                return;
            }

            long submitted = Enter(unsubmitted, 0, 0);
            if (submitted > 0)
            {
                continue;
            }

            int error = Marshal.GetLastPInvokeError();
            if (submitted < 0 && error is not (EIntr or EAgain or EBusy))
            {
                throw new Win32Exception(error, "io_uring_enter failed to submit");
            }

            Thread.Yield();
        }
    }

    private void Reap()
    {
        while (true)
        {
            uint head = *_cqHead;
            uint tail = Volatile.Read(ref *_cqTail);
            if (head == tail)
            {
                if (_stopping && Volatile.Read(ref _inFlightCount) == 0)
                {
                    return;
                }

                // Waits for at least one completion; EINTR and the like just loop.
                _ = Enter(0, 1, EnterGetEvents);
                continue;
            }

            Cqe cqe = _cqes[head & _cqMask];
            // The entry is copied: hand it back before running the callback, which may submit again.
            Volatile.Write(ref *_cqHead, head + 1);
            if (cqe.UserData == StopToken)
            {
                continue;
            }

            int slot = (int)cqe.UserData;
            IReadCompletion completion;
            lock (_gate)
            {
                completion = _inFlight[slot]!;
                _inFlight[slot] = null;
                _freeSlots.Push(slot);
                _inFlightCount--;
            }

            completion.Complete(cqe.Result);
        }
    }

    private nint Map(nuint bytes, long offset)
    {
        nint address = Mmap(0, bytes, ProtReadWrite, MapSharedPopulate, _fd, offset);
        if (address == -1)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "mmap of the io_uring rings failed");
        }

        return address;
    }

    private void Unmap()
    {
        if (_sqes is not null)
        {
            _ = Munmap((nint)_sqes, _sqesBytes);
        }

        if (_cqRing != 0 && _cqRing != _sqRing)
        {
            _ = Munmap(_cqRing, _cqRingBytes);
        }

        if (_sqRing != 0)
        {
            _ = Munmap(_sqRing, _sqRingBytes);
        }
    }

    private long Enter(uint toSubmit, uint minComplete, uint flags) => Syscall(SysIoUringEnter, _fd, (nint)toSubmit, (nint)minComplete, (nint)flags, 0, 0);

    // syscall(2) is variadic; every argument is passed as a full register-sized integer, as the kernel reads them.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "close")]
    internal static partial int Close(int fd);

    /// <summary>struct io_uring_params (120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries;
        public uint CqEntries;
        public uint Flags;
        public uint SqThreadCpu;
        public uint SqThreadIdle;
        public uint Features;
        public uint WqFd;
        public fixed uint Reserved[3];
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }

    /// <summary>struct io_sqring_offsets.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SqRingOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Flags;
        public uint Dropped;
        public uint Array;
        public uint Reserved;
        public ulong UserAddress;
    }

    /// <summary>struct io_cqring_offsets.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CqRingOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Overflow;
        public uint Cqes;
        public uint Flags;
        public uint Reserved;
        public ulong UserAddress;
    }

    /// <summary>struct io_uring_sqe (64 bytes), the fields a read uses.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private struct Sqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(8)] public ulong Offset;
        [FieldOffset(16)] public ulong Address;
        [FieldOffset(24)] public uint Length;
        [FieldOffset(32)] public ulong UserData;
    }

    /// <summary>struct io_uring_cqe (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Cqe
    {
        public ulong UserData;
        public int Result;
        public uint Flags;
    }
}
