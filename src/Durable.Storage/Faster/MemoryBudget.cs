using Durable.Storage.Persistence;

namespace Durable.Storage.Faster;

/// <summary>
/// How the memory budget (<see cref="StoreOptions.MemoryBytes"/>, <c>--memory</c>) is split between the store's parts:
/// the write-ahead log's buffer (four WAL pages of a log page each: an eighth of the budget up to 64 MiB, less above), the read cache's table
/// of recent cold reads when on (a 256th), the hash index (its current size: it grows) and, for the rest, the log's in-memory pages. FASTER fixes the
/// log's circular buffer when the store opens (a power of two of pages), so the buffer is sized for the whole budget
/// and the pages the other parts take are kept empty (FASTER's empty page count), which can change at any time: the
/// log gets what the index does not.
/// </summary>
internal sealed class MemoryBudget
{
    /// <summary>The log keeps at least this many pages in memory, whatever the other parts take (so a tiny budget is exceeded).</summary>
    internal const int MinimumLogPages = 8;

    /// <summary>Pages of a small budget: a log page is a 32nd of it, up to <see cref="LargeBudgetPageBits"/>.</summary>
    private const int PagesPerBudgetBits = 5;

    /// <summary>
    /// Pages of a larger budget: a 128th of it, but not less than <see cref="LargeBudgetPageBits"/>. The log's floor (its
    /// minimum and FASTER's slack, 15 pages) and the WAL buffer (4 pages) are 19 pages, 0.59 of the budget at a 32nd: at
    /// 20M keys under 256 MB, the index's overflow buckets (190 MB) on top of that took the process to 1.8x the budget.
    /// At a 128th they are 0.15 of it; the price is the largest record (a page): 2 MiB from 64 MiB to 256 MiB of budget,
    /// 4 MiB at 512 MiB, 8 MiB at 1 GiB, 16 MiB from 2 GiB, where a 32nd gave up to 16 MiB from 512 MiB.
    /// </summary>
    private const int LargePagesPerBudgetBits = 7;

    /// <summary>2 MiB: the page above which the budget is split in 128ths rather than 32nds.</summary>
    private const int LargeBudgetPageBits = 21;

    /// <summary>
    /// Splits the budget of <paramref name="options"/> for a data directory laid out as <paramref name="layout"/> (its
    /// page sizes, fixed when it was created), or, without one, as a new directory would be (<see cref="Propose"/>).
    /// </summary>
    public MemoryBudget(StoreOptions options, DataLayout? layout = null)
    {
        BudgetBytes = Math.Max(options.MemoryBytes, 1L << 16);
        DataLayout sizes = layout ?? Propose(options);
        PageBits = sizes.LogPageBits;
        WalPageBits = sizes.WalPageBits;
        long pages = Math.Max(MinimumLogPages, BudgetBytes >> PageBits);
        BufferBits = PageBits + CeilingLog2(pages);
        ColdReadTableBytes = options.ReadCache ? Math.Clamp(1L << FloorLog2(BudgetBytes / 256), MinimumColdReadTableBytes, MaximumColdReadTableBytes) : 0;
        long index = options.IndexBytes > 0 ? options.IndexBytes : BudgetBytes / 16;
        InitialIndexBuckets = 1L << Math.Max(10, FloorLog2(index / 64));
    }

    private const long MinimumColdReadTableBytes = 8L << 10;
    private const long MaximumColdReadTableBytes = 16L << 20;

    /// <summary>The budget: log pages, index, cold-read table and WAL buffer together (unless the log is down to its minimum).</summary>
    public long BudgetBytes { get; }

    /// <summary>Bits of a log page.</summary>
    public int PageBits { get; }

    /// <summary>
    /// Bits of a WAL page: a log page (at least: directories created before WAL pages followed the log page kept theirs of
    /// 256 KiB or more). The store accepts records a little smaller than its page (<see cref="FasterStore.MaxRecordBytes"/>),
    /// so that the WAL record of any of them (header, key, payload, and a batch part's header) fits one WAL entry.
    /// </summary>
    public int WalPageBits { get; }

    /// <summary>Bits of the WAL's in-memory buffer: four pages (FasterLog's scan of a recovered log failed with two).</summary>
    public int WalBufferBits => WalPageBits + 2;

    public long WalBufferBytes => 1L << WalBufferBits;

    /// <summary>Bits of the log's circular buffer (FASTER's MemorySizeBits): the budget rounded up to a power of two.</summary>
    public int BufferBits { get; }

    private long BufferPages => 1L << (BufferBits - PageBits);

    /// <summary>
    /// Bytes of the read cache's table of recent cold reads (<see cref="RecentColdReads"/>; 0 when the read cache is off):
    /// a 256th of the budget, a power of two between 8 KiB and 16 MiB, so one slot per 2 KiB of budget: its window is
    /// about half as many cold reads as the log's pages hold records of 1 KiB.
    /// </summary>
    public long ColdReadTableBytes { get; }

    /// <summary>Buckets of the index when a data directory is created (<c>--index</c>, or a 16th of the budget).</summary>
    public long InitialIndexBuckets { get; }

    /// <summary>
    /// Pages FASTER holds beyond the in-use pages its empty page count leaves: the tail page, the page allocated ahead
    /// of it, and up to four pages freed at the head and pooled for reuse (measured: 7 while data streamed to disk, at
    /// 4 MiB and at 64 MiB).
    /// </summary>
    internal const int SlackPages = 7;

    /// <summary>
    /// Pages the log keeps in use once an index of <paramref name="indexBytes"/> is counted: the pages of the budget the
    /// other parts leave, less <see cref="SlackPages"/> (at least <see cref="MinimumLogPages"/>).
    /// </summary>
    public long LogPages(long indexBytes) =>
        Math.Clamp(((BudgetBytes - WalBufferBytes - ColdReadTableBytes - indexBytes) >> PageBits) - SlackPages, MinimumLogPages, BufferPages);

    /// <summary>The most memory the log takes: its pages in use and FASTER's slack.</summary>
    public long LogMemoryLimitBytes(long indexBytes) => (LogPages(indexBytes) + SlackPages) << PageBits;

    /// <summary>Pages of the log's buffer to keep empty with an index of <paramref name="indexBytes"/>.</summary>
    public int EmptyPages(long indexBytes) => (int)(BufferPages - LogPages(indexBytes));

    /// <summary>Whether an index of <paramref name="indexBytes"/> still leaves the log at least its minimum within the budget.</summary>
    public bool Affords(long indexBytes) => ((BudgetBytes - WalBufferBytes - ColdReadTableBytes - indexBytes) >> PageBits) - SlackPages >= MinimumLogPages;

    /// <summary>
    /// The layout a data directory created with <paramref name="options"/> gets: a log page is a 32nd of the budget up to
    /// 2 MiB, then a 128th of it, at least 2 MiB (between 32 KiB and 16 MiB), a WAL page as large, segments of
    /// <c>segment-size</c> (at least a page). A data directory keeps the sizes it was created with (<see cref="DataLayout"/>).
    /// </summary>
    public static DataLayout Propose(StoreOptions options)
    {
        int budgetBits = FloorLog2(Math.Max(options.MemoryBytes, 1L << 16));
        int small = budgetBits - PagesPerBudgetBits;
        return Layout(options, small <= LargeBudgetPageBits ? small : Math.Max(LargeBudgetPageBits, budgetBits - LargePagesPerBudgetBits));
    }

    /// <summary>
    /// The layout of a data directory written before directories recorded theirs (<see cref="DataLayout"/>): pages were
    /// a 32nd of the budget then, whatever its size.
    /// </summary>
    public static DataLayout ProposeUnrecorded(StoreOptions options) =>
        Layout(options, FloorLog2(Math.Max(options.MemoryBytes, 1L << 16)) - PagesPerBudgetBits);

    private static DataLayout Layout(StoreOptions options, int pageBits)
    {
        pageBits = Math.Clamp(pageBits, 15, 24);
        return new DataLayout(pageBits, Math.Max(pageBits, FloorLog2(options.SegmentBytes)), pageBits);
    }

    private static int FloorLog2(long value) => value <= 1 ? 0 : 63 - (int)long.LeadingZeroCount(value);

    private static int CeilingLog2(long value) => value <= 1 ? 0 : 64 - (int)long.LeadingZeroCount(value - 1);
}
