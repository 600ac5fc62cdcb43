using Durable.Commands.Collections;

namespace Durable.Commands.Tests;

public sealed class BucketedItemsTests
{
    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Root_IsPinned()
    {
        byte[] root = new byte[BucketedItems.RootSize];
        BucketedItems.WriteRoot(root, 0x0102030405060708, 5, 1, 0x1122334455);
        Assert.Equal(
            new byte[] { 0xC0, 1, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 5, 0, 0, 0, 1, 1, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0 },
            root);
    }

    // Linear hashing: which bucket a hash lives in is on disk too (a changed rule would lose every entry).
    [Fact]
    public void BucketOf_IsPinnedAndASplitOnlyMovesEntriesToTheNewBucket()
    {
        Assert.Equal(0u, BucketedItems.BucketOf(0xFFFF_FFFF_FFFF_FFFF, 1));
        Assert.Equal(5u, BucketedItems.BucketOf(0b1101, 6));
        Assert.Equal(1u, BucketedItems.BucketOf(0b1101, 5));
        Assert.Equal(3u, BucketedItems.BucketOf(0b1011, 4));

        Random random = new(5);
        for (int i = 0; i < 10_000; i++)
        {
            ulong hash = (ulong)random.NextInt64();
            uint buckets = (uint)random.Next(1, 5000);
            uint before = BucketedItems.BucketOf(hash, buckets);
            uint after = BucketedItems.BucketOf(hash, buckets + 1);
            Assert.True(before < buckets && (after == before || after == buckets), $"hash {hash:x} with {buckets} buckets: {before} -> {after}");
        }
    }
}
