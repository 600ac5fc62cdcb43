namespace Durable.Storage.Tests;

public sealed class ScanCursorTests
{
    [Theory]
    [InlineData(64L, 0L)]
    [InlineData(4096L, 1L << 20)]
    [InlineData(123_456_784L, 5_000_000_000L)]
    [InlineData((1L << 48) - 8, (1L << 48) - 1)]
    public void Encode_AnyAlignedAddressAndBound_DecodesToTheAddressAndTheRoundedBound(long address, long tail)
    {
        long bound = ScanCursor.RoundUpBound(tail);
        ulong cursor = ScanCursor.Encode(address, bound);

        Assert.True(cursor < 1UL << 63, "clients that read cursors as signed 64-bit numbers can hold it");
        Assert.NotEqual(0UL, cursor);
        Assert.Equal((address, bound), ScanCursor.Decode(cursor));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(4L << 20)]
    [InlineData((4L << 20) + 1)]
    [InlineData(1_000_000_007L)]
    [InlineData(77_777_777_777L)]
    [InlineData(1L << 47)]
    public void RoundUpBound_AnyTail_AtLeastTheTailAndAtMostA64thOr64KiBAbove(long tail)
    {
        long bound = ScanCursor.RoundUpBound(tail);

        Assert.InRange(bound, tail, tail + Math.Max(1L << 16, tail / 64));
        Assert.Equal(bound, ScanCursor.RoundUpBound(bound));
    }

    [Fact]
    public void Decode_ZeroOrMadeUpCursors_StartANewPass()
    {
        Assert.Equal((0L, 0L), ScanCursor.Decode(0));
        // Of the cursors a client might make up, only about one in 128 passes the check.
        int accepted = 0;
        for (ulong cursor = 1; cursor <= 100_000; cursor++)
        {
            if (ScanCursor.Decode(cursor * 7919) != (0L, 0L))
            {
                accepted++;
            }
        }

        Assert.InRange(accepted, 0, 100_000 / 64);
    }
}
