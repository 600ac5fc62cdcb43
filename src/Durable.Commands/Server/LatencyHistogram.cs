using System.Numerics;

namespace Durable.Commands.Server;

/// <summary>
/// A command's latencies, as Redis 7.0 keeps them for INFO latencystats and LATENCY HISTOGRAM: an HdrHistogram of
/// nanoseconds from 1 to 1,000,000,000 with 2 significant digits (256 sub-buckets, values rounded into buckets of
/// 1, 2, 4... ns), the same layout, so percentiles and the log-2 histogram come out as Redis computes them. Recording is
/// lock-free (an atomic add); readers see a snapshot that may miss records in flight.
/// </summary>
internal sealed class LatencyHistogram
{
    public const long MinNanoseconds = 1;
    public const long MaxNanoseconds = 1_000_000_000;

    private const int SubBucketHalfCountMagnitude = 7;
    private const int SubBucketHalfCount = 1 << SubBucketHalfCountMagnitude;
    private const int SubBucketCount = SubBucketHalfCount * 2;
    private const long SubBucketMask = SubBucketCount - 1;
    private const int BucketCount = 23; // 256 << 22 is the first power past 1e9
    private const int CountsLength = (BucketCount + 1) * SubBucketHalfCount;

    private readonly long[] _counts = new long[CountsLength];
    private long _total;

    public long TotalCount => Interlocked.Read(ref _total);

    /// <summary>Redis updateCommandLatencyHistogram: the value is clamped to the histogram's range.</summary>
    public void Record(long nanoseconds)
    {
        long value = Math.Clamp(nanoseconds, MinNanoseconds, MaxNanoseconds);
        Interlocked.Increment(ref _counts[CountsIndex(value)]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>hdr_value_at_percentile: the highest value of the bucket the percentile falls in (the lowest, for 0).</summary>
    public long ValueAtPercentile(double percentile)
    {
        double requested = Math.Min(percentile, 100.0);
        long countAtPercentile = Math.Max((long)((requested / 100 * TotalCount) + 0.5), 1);
        long count = 0;
        long value = 0;
        for (int index = 0; index < CountsLength; index++)
        {
            count += Interlocked.Read(ref _counts[index]);
            if (count >= countAtPercentile)
            {
                value = ValueAtIndex(index);
                break;
            }
        }

        return percentile == 0.0 ? LowestEquivalent(value) : HighestEquivalent(value);
    }

    /// <summary>
    /// Redis fillCommandCDF's log-2 iteration from 1,024 ns: for each level whose count of values at or below its bucket
    /// grew, the bucket's highest value in microseconds and that cumulative count.
    /// </summary>
    public List<(long Microseconds, long Cumulative)> CumulativeByPowersOfTwo()
    {
        List<(long, long)> points = [];
        long total = TotalCount;
        long cumulative = 0;
        long previous = 0;
        int index = 0;
        for (long level = 1024; cumulative < total && level <= MaxNanoseconds * 2; level *= 2)
        {
            long lowest = LowestEquivalent(level);
            for (; index < CountsLength && ValueAtIndex(index) <= lowest; index++)
            {
                cumulative += Interlocked.Read(ref _counts[index]);
            }

            if (cumulative > previous)
            {
                points.Add((HighestEquivalent(level) / 1000, cumulative));
            }

            previous = cumulative;
        }

        return points;
    }

    private static int BucketIndex(long value) => 64 - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask)) - (SubBucketHalfCountMagnitude + 1);

    private static int CountsIndex(long value)
    {
        int bucket = BucketIndex(value);
        int subBucket = (int)(value >> bucket);
        return ((bucket + 1) << SubBucketHalfCountMagnitude) + (subBucket - SubBucketHalfCount);
    }

    private static long ValueAtIndex(int index)
    {
        int bucket = (index >> SubBucketHalfCountMagnitude) - 1;
        int subBucket = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucket < 0)
        {
            subBucket -= SubBucketHalfCount;
            bucket = 0;
        }

        return (long)subBucket << bucket;
    }

    private static long LowestEquivalent(long value)
    {
        int bucket = BucketIndex(value);
        return (value >> bucket) << bucket;
    }

    private static long HighestEquivalent(long value)
    {
        int bucket = BucketIndex(value);
        int subBucket = (int)(value >> bucket);
        int adjusted = subBucket >= SubBucketCount ? bucket + 1 : bucket;
        return LowestEquivalent(value) + (1L << adjusted) - 1;
    }
}
