namespace Durable.Storage.Faster;

/// <summary>
/// How the memory budget (<see cref="StoreOptions.MemoryBytes"/>, <c>--memory</c>) is split between the store's parts:
/// the write-ahead log's buffer (four WAL pages of a log page each: an eighth of the budget), the read cache
/// when on, the hash index (its current size: it grows) and, for the rest, the log's in-memory pages. FASTER fixes the
/// log's circular buffer when the store opens (a power of two of pages), so the buffer is sized for the whole budget
/// and the pages the other parts take are kept empty (FASTER's empty page count), which can change at any time: the
/// log gets what the index does not.
/// </summary>
internal sealed class MemoryBudget
{
    /// <summary>The log keeps at least this many pages in memory, whatever the other parts take (so a tiny budget is exceeded).</summary>
    internal const int MinimumLogPages = 8;

    /// <summary>Pages of the budget: a log page is a 32nd of it (between 32 KiB and 16 MiB), so a record is at most that.</summary>
    private const int PagesPerBudgetBits = 5;

    public MemoryBudget(StoreOptions options)
    {
        BudgetBytes = Math.Max(options.MemoryBytes, 1L << 16);
        int budgetBits = FloorLog2(BudgetBytes);
        PageBits = Math.Clamp(budgetBits - PagesPerBudgetBits, 15, 24);
        long pages = Math.Max(MinimumLogPages, BudgetBytes >> PageBits);
        BufferBits = PageBits + CeilingLog2(pages);
        ReadCacheBits = options.ReadCache
            ? Math.Max(PageBits + 1, FloorLog2(options.ReadCacheBytes > 0 ? options.ReadCacheBytes : BudgetBytes / 8))
            : 0;
        long index = options.IndexBytes > 0 ? options.IndexBytes : BudgetBytes / 16;
        InitialIndexBuckets = 1L << Math.Max(10, FloorLog2(index / 64));
    }

    /// <summary>The budget: log pages, index, read cache and WAL buffer together (unless the log is down to its minimum).</summary>
    public long BudgetBytes { get; }

    /// <summary>Bits of a log page (and a read-cache page).</summary>
    public int PageBits { get; }

    /// <summary>
    /// Bits of a WAL page: a log page. The store accepts records a little smaller than its page
    /// (<see cref="FasterStore.MaxRecordBytes"/>), so that the WAL record of any of them (header, key, payload, and a
    /// batch part's header) fits one WAL entry.
    /// </summary>
    public int WalPageBits => PageBits;

    /// <summary>Bits of the WAL's in-memory buffer: four pages (FasterLog's scan of a recovered log failed with two).</summary>
    public int WalBufferBits => WalPageBits + 2;

    public long WalBufferBytes => 1L << WalBufferBits;

    /// <summary>Bits of the log's circular buffer (FASTER's MemorySizeBits): the budget rounded up to a power of two.</summary>
    public int BufferBits { get; }

    private long BufferPages => 1L << (BufferBits - PageBits);

    /// <summary>Bits of the read cache (0 when it is off).</summary>
    public int ReadCacheBits { get; }

    public long ReadCacheBytes => ReadCacheBits == 0 ? 0 : 1L << ReadCacheBits;

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
        Math.Clamp(((BudgetBytes - WalBufferBytes - ReadCacheBytes - indexBytes) >> PageBits) - SlackPages, MinimumLogPages, BufferPages);

    /// <summary>The most memory the log takes: its pages in use and FASTER's slack.</summary>
    public long LogMemoryLimitBytes(long indexBytes) => (LogPages(indexBytes) + SlackPages) << PageBits;

    /// <summary>Pages of the log's buffer to keep empty with an index of <paramref name="indexBytes"/>.</summary>
    public int EmptyPages(long indexBytes) => (int)(BufferPages - LogPages(indexBytes));

    /// <summary>Whether an index of <paramref name="indexBytes"/> still leaves the log at least its minimum within the budget.</summary>
    public bool Affords(long indexBytes) => ((BudgetBytes - WalBufferBytes - ReadCacheBytes - indexBytes) >> PageBits) - SlackPages >= MinimumLogPages;

    private static int FloorLog2(long value) => value <= 1 ? 0 : 63 - (int)long.LeadingZeroCount(value);

    private static int CeilingLog2(long value) => value <= 1 ? 0 : 64 - (int)long.LeadingZeroCount(value - 1);
}
