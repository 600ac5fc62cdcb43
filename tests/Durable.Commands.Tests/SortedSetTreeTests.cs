using System.Buffers;
using Durable.Commands.SortedSets;

namespace Durable.Commands.Tests;

public sealed class SortedSetTreeTests
{
    // Golden bytes: these layouts are on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Root_IsPinned()
    {
        byte[] root = new byte[SortedSetTree.RootSize];
        SortedSetTree.WriteRoot(root, 0x0102030405060708, 1, 0x1122334455, 5, 7, 9);
        Assert.Equal(
            new byte[]
            {
                0xC0, 1, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 18, 0, 0, 0, // descriptor: parts 0..17 (node 8 is part 17)
                1, 1, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, // version, flags, count
                5, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, // buckets, root node, next node
            },
            root);
        Assert.Equal(15u, SortedSetTree.PartOf(7));
    }

    [Fact]
    public void Nodes_ArePinned()
    {
        ArrayBufferWriter<byte> leaf = new();
        SortedSetTree.WriteNode(leaf, [new ScoredMember("ab"u8.ToArray(), 1.5), new ScoredMember("c"u8.ToArray(), -2)], null);
        Assert.Equal(
            new byte[] { 1, 0, 4, 0, 0, 0, 2, (byte)'a', (byte)'b', 8, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 1, (byte)'c', 8, 0, 0, 0, 0, 0, 0, 0, 0xC0 },
            leaf.WrittenSpan.ToArray());

        ArrayBufferWriter<byte> inner = new();
        SortedSetTree.WriteNode(inner, null, [(3, 0x0102, new ScoredMember("x"u8.ToArray(), 0))]);
        Assert.Equal(
            new byte[] { 1, 1, 3, 0, 0, 0, 12, 3, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 1, (byte)'x', 8, 0, 0, 0, 0, 0, 0, 0, 0 },
            inner.WrittenSpan.ToArray());
    }
}
