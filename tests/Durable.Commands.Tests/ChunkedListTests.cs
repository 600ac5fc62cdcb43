using Durable.Commands.Lists;

namespace Durable.Commands.Tests;

public sealed class ChunkedListTests
{
    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Root_IsPinned()
    {
        byte[] root = new byte[ChunkedList.RootSize];
        ChunkedList.WriteRoot(root, 0x0102030405060708, 0x7FFF_FFFE, 3, 64, 5, 0x1122334455);
        Assert.Equal(
            new byte[]
            {
                0xC0, 1, 8, 7, 6, 5, 4, 3, 2, 1, 0xFE, 0xFF, 0xFF, 0x7F, 3, 0, 0, 0,
                1, 0, 64, 0, 0, 0, 5, 0, 0, 0, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0,
            },
            root);
        Assert.Equal(0x8000_0000u, ChunkedList.FirstChunkId);
    }
}
