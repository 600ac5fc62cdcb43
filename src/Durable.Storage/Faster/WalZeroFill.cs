using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Durable.Storage.Faster;

/// <summary>
/// Keeps the space ahead of the write-ahead log's writes allocated and zeroed on disk, so that a commit's write
/// overwrites blocks the file already has instead of extending it. An O_SYNC write that extends a file must also
/// commit the file system's journal (the new size, the new block); one that overwrites needs only its data on the
/// disk: 73-85 us against 135-143 us for a 4 KiB write on this machine's disk (docs/benchmarks.md), and every commit of
/// `appendfsync always` pays it before its replies leave.
/// <para>
/// When a write comes within 6 MiB of the zeroed end of its segment, one background fill (a pool work item) writes
/// zeros from there to 8 MiB past the write, in 1 MiB O_DIRECT writes
/// through the segment's O_SYNC handle. A fill never starts below the end of any write seen, and a write that would
/// overlap a fill in flight waits for it, so zeros never land on data. The segment files are sized by their zeros (the
/// log's own end is where its commits say): recovery reads zeros past the end as it reads the end of a file.
/// </para>
/// </summary>
internal sealed class WalZeroFill
{
    private const int MaxChunkBytes = 1 << 20;
    private const int Alignment = 4096;

    /// <summary>The zeros every fill writes from: one aligned buffer for the process, never freed.</summary>
    private static readonly IntPtr s_zeros = AllocateZeros();

    private readonly long _aheadBytes;
    private readonly long _lowWaterBytes;
    private readonly int _chunkBytes;
    private readonly object _gate = new();
    private readonly Dictionary<int, Segment> _segments = [];
    private long _filledBytes;

    /// <summary>
    /// Fills reach <paramref name="aheadBytes"/> past the furthest write (8 MiB), start when a write ends within
    /// <paramref name="lowWaterBytes"/> of the zeroed end (6 MiB), and write <paramref name="chunkBytes"/> at a time
    /// (1 MiB at most); the tests make them small to make writes meet fills in flight.
    /// </summary>
    public WalZeroFill(long aheadBytes = 8L << 20, long lowWaterBytes = 6L << 20, int chunkBytes = MaxChunkBytes)
    {
        if (lowWaterBytes > aheadBytes || chunkBytes is <= 0 or > MaxChunkBytes || chunkBytes % Alignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(chunkBytes), "A fill's low water is within its reach, and its chunks are whole pages of at most 1 MiB.");
        }

        _aheadBytes = aheadBytes;
        _lowWaterBytes = lowWaterBytes;
        _chunkBytes = chunkBytes;
    }

    /// <summary>Bytes of zeros written ahead of the log so far.</summary>
    public long FilledBytes => Interlocked.Read(ref _filledBytes);

    /// <summary>
    /// Called before the log writes [<paramref name="offset"/>, <paramref name="end"/>) of <paramref name="segment"/>
    /// (a file of <paramref name="segmentBytes"/> at most): waits while a fill in flight overlaps that range and records
    /// the write, so that no later fill starts below its end. With the O_DIRECT <paramref name="handle"/> the write goes
    /// through, it also starts the next fill when the zeroed space ahead runs low; a write through FASTER's device
    /// passes null. A fill writes through that handle, so a segment released meanwhile (its handle closed) ends it.
    /// </summary>
    public void BeforeWrite(int segment, SafeFileHandle? handle, long offset, long end, long segmentBytes)
    {
        Fill? fill = null;
        lock (_gate)
        {
            if (!_segments.TryGetValue(segment, out Segment? state))
            {
                // Whatever the file holds already is the log's or zeros: never fill below its end.
                long length = handle is null ? end : RandomAccess.GetLength(handle);
                state = new Segment { Zeroed = length, Filling = length, Written = length };
                _segments[segment] = state;
                foreach (int old in _segments.Keys.Where(s => s < segment - 1 && !_segments[s].InFlight).ToList())
                {
                    _segments.Remove(old);
                }
            }

            while (state.InFlight && end > state.Zeroed && offset < state.Filling)
            {
                Monitor.Wait(_gate);
            }

            state.Written = Math.Max(state.Written, end);
            if (handle is not null && !state.InFlight && !state.GaveUp && state.Zeroed - state.Written < _lowWaterBytes)
            {
                long from = Math.Max(state.Zeroed, AlignUp(state.Written));
                long to = Math.Min(AlignUp(state.Written + _aheadBytes), segmentBytes);
                if (from < to)
                {
                    state.Zeroed = from;
                    state.Filling = to;
                    fill = new Fill(this, state, handle, from, to);
                }
            }
        }

        if (fill is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(fill, preferLocal: false);
        }
    }

    private static unsafe IntPtr AllocateZeros()
    {
        void* zeros = NativeMemory.AlignedAlloc(MaxChunkBytes, Alignment);
        NativeMemory.Clear(zeros, MaxChunkBytes);
        return (IntPtr)zeros;
    }

    private static long AlignUp(long value) => (value + Alignment - 1) & ~(long)(Alignment - 1);

    private unsafe void Run(Segment state, SafeFileHandle handle, long from, long to)
    {
        long done = from;
        bool failed = false;
        try
        {
            while (done < to)
            {
                int length = (int)Math.Min(_chunkBytes, to - done);
                RandomAccess.Write(handle, new ReadOnlySpan<byte>((void*)s_zeros, length), done);
                done += length;
                Interlocked.Add(ref _filledBytes, length);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // Disk full, an I/O error, or the segment released: the log's own writes report what matters; from here
            // they extend the file, as they did before there were fills.
            failed = true;
        }

        lock (_gate)
        {
            // Zeros or data below done; above it the fill wrote nothing.
            state.Zeroed = done;
            state.Filling = done;
            state.GaveUp |= failed;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The fill state of one segment file (guarded by the gate).</summary>
    private sealed class Segment
    {
        /// <summary>Below this the file holds the log's data or zeros.</summary>
        public long Zeroed { get; set; }

        /// <summary>A fill in flight covers [Zeroed, Filling); equal to Zeroed when none is.</summary>
        public long Filling { get; set; }

        /// <summary>The furthest end of a write of the log seen.</summary>
        public long Written { get; set; }

        /// <summary>A fill of this segment failed: no more are tried.</summary>
        public bool GaveUp { get; set; }

        public bool InFlight => Filling != Zeroed;
    }

    private sealed class Fill(WalZeroFill owner, Segment state, SafeFileHandle handle, long from, long to) : IThreadPoolWorkItem
    {
        public void Execute() => owner.Run(state, handle, from, to);
    }
}
