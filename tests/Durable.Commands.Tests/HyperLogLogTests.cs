using System.Security.Cryptography;
using System.Text;
using Durable.Commands.HyperLogLogs;

namespace Durable.Commands.Tests;

/// <summary>
/// The HyperLogLog string format is Redis's, and values move between Durable and Redis (GET, SET): pinned here by the
/// bytes redis-server 7.0.15 gives for the same adds.
/// </summary>
public class HyperLogLogTests
{
    [Fact]
    public void SparseValue_IsPinned()
    {
        using HyperLogLog hll = HyperLogLog.CreateEmpty();
        Assert.Equal(Convert.FromHexString("48594c4c010000000000000000000000" + "7fff"), hll.Bytes.ToArray());
        foreach (string element in new[] { "a", "b", "c" })
        {
            Assert.Equal(1, hll.Add(Encoding.ASCII.GetBytes(element), 3000));
        }

        hll.InvalidateCachedCardinality();
        Assert.Equal(Convert.FromHexString("48594c4c01000000000000000000008060f38050b1844bfb80425a"), hll.Bytes.ToArray());
        Assert.Equal(0, hll.Add("a"u8, 3000));
    }

    [Fact]
    public void DenseValue_IsPinned_AndItsCountIsRedis()
    {
        using HyperLogLog hll = HyperLogLog.CreateEmpty();
        for (int i = 0; i < 3000; i++)
        {
            hll.Add(Encoding.ASCII.GetBytes("x" + i), 3000);
        }

        hll.InvalidateCachedCardinality();
        Assert.False(hll.IsSparse);
        Assert.Equal(HyperLogLog.DenseSize, hll.Bytes.Length);
        Assert.Equal("ec4194075a0d43a08702d73a1098740d362ad99889ba391fa8993aca1bf991be", Convert.ToHexStringLower(SHA256.HashData(hll.Bytes)));
        Assert.True(hll.TryCount(out ulong count));
        Assert.Equal(2985UL, count);
    }

    [Fact]
    public void DenseRegisters_ReadBackAsWritten_WithoutTouchingTheirNeighbours()
    {
        byte[] registers = new byte[HyperLogLog.DenseSize - HyperLogLog.HeaderSize];
        int[] expected = new int[HyperLogLog.RegisterCount];
        var random = new Random(5);
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                expected[i] = random.Next(64);
                HyperLogLog.WriteRegister(registers, i, expected[i]);
            }

            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], HyperLogLog.ReadRegister(registers, i));
            }
        }

        // Register 1 is the top 2 bits of byte 0 and the low 4 of byte 1 (Redis's layout).
        Array.Clear(registers);
        HyperLogLog.WriteRegister(registers, 1, 0b111111);
        Assert.Equal(new byte[] { 0b1100_0000, 0b0000_1111, 0 }, registers[..3]);
    }

    [Fact]
    public void SparseAndDense_AgreeAndStayWithinTheStandardError()
    {
        using HyperLogLog sparse = HyperLogLog.CreateEmpty();
        using HyperLogLog dense = HyperLogLog.CreateEmpty();
        Assert.True(dense.ToDense());
        byte[] element = new byte[8];
        for (int n = 1; n <= 200_000; n++)
        {
            BitConverter.TryWriteBytes(element, (long)n * 7919);
            sparse.Add(element, 3000);
            dense.Add(element, 3000);
            if (n is 10 or 100 or 1000 or 10_000 or 200_000)
            {
                Assert.True(sparse.TryCount(out ulong fromSparse));
                Assert.True(dense.TryCount(out ulong fromDense));
                Assert.Equal(fromDense, fromSparse);
                Assert.InRange((double)fromDense, n * 0.95, n * 1.05);
            }
        }
    }

    [Fact]
    public void CorruptSparseRegisters_AreRefused()
    {
        // XZERO 4316, VAL 14, XZERO 12067, VAL 8 x3: 16,387 registers.
        byte[] tooMany = Convert.FromHexString("48594c4c01000000000000000000008050dbb46f229e");
        Assert.True(HyperLogLog.IsValid(tooMany));
        Assert.False(HyperLogLog.TryMerge(tooMany, new byte[HyperLogLog.RegisterCount]));
        using HyperLogLog hll = HyperLogLog.Load(tooMany);
        Assert.False(hll.TryCount(out _));
        Assert.False(hll.ToDense());
        Assert.True(hll.IsSparse);
        Assert.False(HyperLogLog.IsValid("HYLL\0\0\0\0\0\0\0\0\0\0\0\0\0\0"u8));
        Assert.False(HyperLogLog.IsValid(Convert.FromHexString("48594c58010000000000000000000080" + "7fff")));
    }
}
