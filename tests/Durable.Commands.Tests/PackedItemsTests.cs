using System.Buffers;
using Durable.Commands.Collections;

namespace Durable.Commands.Tests;

public class PackedItemsTests
{
    [Fact]
    public void Layout_IsPinned()
    {
        ArrayBufferWriter<byte> output = new();
        PackedItems.Encode(output, PackedItems.LargeEncoding, [[0x61], new byte[200], []]);
        byte[] bytes = output.WrittenSpan.ToArray();
        Assert.Equal(new byte[] { 1, 1, 3, 0, 0, 0, 1, 0x61, 0xC8, 0x01 }, bytes[..10]);
        Assert.Equal(10 + 200 + 1, bytes.Length);
        Assert.Equal(0, bytes[^1]);
        Assert.Equal(bytes.Length, PackedItems.EncodedLength([[0x61], new byte[200], []]));
    }

    [Fact]
    public void Decode_ReturnsWhatWasEncoded()
    {
        Random random = new(3);
        List<byte[]> items = [];
        for (int i = 0; i < 300; i++)
        {
            byte[] item = new byte[random.Next(0, i == 7 ? 70_000 : 300)];
            random.NextBytes(item);
            items.Add(item);
        }

        ArrayBufferWriter<byte> output = new();
        PackedItems.Encode(output, 0, items);
        List<byte[]> decoded = PackedItems.Decode(output.WrittenSpan, out byte flags);
        Assert.Equal(0, flags);
        Assert.Equal(items, decoded);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 0, 1, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 0, 1, 0, 0, 0, 5, 0x61 })]
    [InlineData(new byte[] { 1, 0, 1, 0, 0, 0, 0x80 })]
    [InlineData(new byte[] { 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0 })]
    [InlineData(new byte[] { 1, 0 })]
    public void Decode_RefusesUnknownVersionsAndDamage(byte[] payload) =>
        Assert.Throws<InvalidDataException>(() => PackedItems.Decode(payload, out _));
}
