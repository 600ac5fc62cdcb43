using Durable.Commands.Server;

namespace Durable.Commands.Tests;

/// <summary>The latency histogram has HdrHistogram's layout at 2 significant digits, so its numbers are Redis's.</summary>
public class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_AreTheBucketsHighestValue_AsRedisReportsThem()
    {
        LatencyHistogram histogram = new();
        histogram.Record(12_000);
        // redis-server reported geosearch p50=12.031 and strlen p50=5.023, p0=4.992 for such durations.
        Assert.Equal(12_031, histogram.ValueAtPercentile(50));
        LatencyHistogram five = new();
        five.Record(5_000);
        Assert.Equal(5_023, five.ValueAtPercentile(50));
        Assert.Equal(4_992, five.ValueAtPercentile(0));
        LatencyHistogram zero = new();
        zero.Record(0);
        Assert.Equal(1, zero.ValueAtPercentile(0));
        zero.Record(5_000_000_000);
        Assert.Equal(2, zero.TotalCount);
        Assert.InRange(zero.ValueAtPercentile(100), LatencyHistogram.MaxNanoseconds, LatencyHistogram.MaxNanoseconds * 101 / 100);
    }

    [Fact]
    public void Percentiles_OfManyValues_FallInTheirRank()
    {
        LatencyHistogram histogram = new();
        for (int i = 1; i <= 1000; i++)
        {
            histogram.Record(i * 1000L);
        }

        Assert.InRange(histogram.ValueAtPercentile(50), 500_000, 505_000);
        Assert.InRange(histogram.ValueAtPercentile(99), 990_000, 1_000_000);
        Assert.InRange(histogram.ValueAtPercentile(99.9), 999_000, 1_008_000);
    }

    [Fact]
    public void CumulativeByPowersOfTwo_HasRedisKeys()
    {
        // Redis's documented LATENCY HISTOGRAM example: keys 1, 2, 4, 8, 16, 33 (the highest value of 32,768 ns's bucket).
        LatencyHistogram histogram = new();
        foreach (long nanoseconds in new long[] { 1_000, 1_000, 2_000, 3_000, 9_000, 16_000, 30_000 })
        {
            histogram.Record(nanoseconds);
        }

        Assert.Equal(
            [(1L, 2L), (2L, 3L), (4L, 4L), (16L, 6L), (33L, 7L)],
            histogram.CumulativeByPowersOfTwo());
    }
}
