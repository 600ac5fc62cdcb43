using System.IO.Hashing;
using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

public sealed class KeyCountsFileTests
{
    private static KeyCountsSnapshot Sample()
    {
        long[] keys = new long[256];
        long[] expiring = new long[256];
        keys[0] = 3;
        expiring[0] = 1;
        keys[7] = 0x0102030405060708;
        return new KeyCountsSnapshot(9, keys, expiring);
    }

    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Encode_IsPinned()
    {
        const string Content = "01-09-00-00-00-00-00-00-00-02-00-" +
            "00-03-00-00-00-00-00-00-00-01-00-00-00-00-00-00-00-" +
            "07-08-07-06-05-04-03-02-01-00-00-00-00-00-00-00-00";
        byte[] content = [.. Content.Split('-').Select(h => Convert.ToByte(h, 16))];
        Assert.Equal(Content + "-" + BitConverter.ToString(Crc32.Hash(content)), BitConverter.ToString(KeyCountsFile.Encode(Sample())));
    }

    [Fact]
    public void TryDecode_RoundTrips()
    {
        Assert.True(KeyCountsFile.TryDecode(KeyCountsFile.Encode(Sample()), out KeyCountsSnapshot? decoded, out _));
        Assert.Equal(9, decoded!.Version);
        Assert.Equal(Sample().Keys, decoded.Keys);
        Assert.Equal(Sample().Expiring, decoded.Expiring);
    }

    [Fact]
    public void TryDecode_DamagedTruncatedOrNewer_IsRefusedWithReason()
    {
        byte[] bytes = KeyCountsFile.Encode(Sample());
        for (int i = 0; i < bytes.Length; i++)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x10;
            Assert.False(KeyCountsFile.TryDecode(damaged, out _, out string? problem), $"flipped byte {i}");
            Assert.NotNull(problem);
        }

        Assert.False(KeyCountsFile.TryDecode(bytes.AsSpan(0, bytes.Length - 1), out _, out _));
        byte[] newer = (byte[])bytes.Clone();
        newer[0] = 2;
        Assert.False(KeyCountsFile.TryDecode(newer, out _, out string? reason));
        Assert.Contains("format version 2", reason);
    }
}
