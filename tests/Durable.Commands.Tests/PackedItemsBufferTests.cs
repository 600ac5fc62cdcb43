using System.Buffers;
using Durable.Commands.Collections;

namespace Durable.Commands.Tests;

public class PackedItemsBufferTests
{
    [Fact]
    public void Edits_LeaveThePayloadAModelListWouldEncodeTo()
    {
        Random random = new(11);
        List<byte[]> model = [];
        PackedItemsBuffer buffer = new(Encode(model), new PartBuffers());
        for (int step = 0; step < 4000; step++)
        {
            // Items from empty to past one LEB128 byte (and, now and then, past the buffer's spare room).
            byte[] item = new byte[random.Next(8) == 0 ? random.Next(100, 400) : random.Next(0, 12)];
            random.NextBytes(item);
            int op = model.Count == 0 ? random.Next(2) : random.Next(7);
            switch (op)
            {
                case 0:
                    buffer.Prepend(item);
                    model.Insert(0, item);
                    break;
                case 1:
                    buffer.Append(item);
                    model.Add(item);
                    break;
                case 2:
                    Assert.Equal(model[0], buffer.RemoveFirst());
                    model.RemoveAt(0);
                    break;
                case 3:
                    Assert.Equal(model[^1], buffer.RemoveLast());
                    model.RemoveAt(model.Count - 1);
                    break;
                case 4:
                    int replaced = random.Next(model.Count);
                    buffer.Replace(OffsetOf(buffer, replaced), item);
                    model[replaced] = item;
                    break;
                case 5:
                    int first = random.Next(model.Count);
                    int count = random.Next(1, Math.Min(3, model.Count - first) + 1);
                    buffer.RemoveAt(OffsetOf(buffer, first), count);
                    model.RemoveRange(first, count);
                    break;
                default:
                    int found = random.Next(model.Count);
                    Assert.Equal(model.FindIndex(m => m.AsSpan().SequenceEqual(model[found])), IndexOf(buffer, buffer.Find(model[found], 1)));
                    break;
            }

            Assert.Equal(Encode(model), buffer.Payload.ToArray());
            Assert.Equal(model.Count, buffer.Count);
        }
    }

    [Fact]
    public void Find_MatchesOnlyTheFirstItemOfAnEntry()
    {
        // Hash entries (field, value): a value equal to the key looked up is not a match.
        PackedItemsBuffer buffer = new(Encode([[1], [2], [2], [3]]), new PartBuffers());
        Assert.Equal(2, IndexOf(buffer, buffer.Find([2], 2)));
        Assert.Equal(-1, buffer.Find([3], 2));
        Assert.Equal(-1, buffer.Find([9], 2));
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 0, 1, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 0 })]
    public void New_RefusesUnknownVersionsAndDamage(byte[] payload) =>
        Assert.Throws<InvalidDataException>(() => new PackedItemsBuffer(payload, new PartBuffers()));

    [Fact]
    public void Find_RefusesAnItemRunningPastTheEnd()
    {
        PackedItemsBuffer buffer = new([1, 0, 1, 0, 0, 0, 5, 0x61], new PartBuffers());
        Assert.Throws<InvalidDataException>(() => buffer.Find([0x61], 1));
    }

    [Fact]
    public void UseAfterItsCommand_Throws()
    {
        // A part kept past its command would share an array the pool has lent again: it must fail, not read or write it.
        PartBuffers buffers = new();
        PackedItemsBuffer kept = new(Encode([[1], [2]]), buffers);
        kept.Append([3]);
        buffers.ReturnAll();
        PackedItemsBuffer next = new(Encode([[4]]), buffers);
        Assert.Equal(1, next.Count);
        Assert.Throws<InvalidOperationException>(() => kept.Count);
        Assert.Throws<InvalidOperationException>(() => kept.Payload.Length);
        Assert.Throws<InvalidOperationException>(() => kept.Find([1], 1));
        Assert.Throws<InvalidOperationException>(() => kept.Append([5]));
        Assert.Throws<InvalidOperationException>(kept.RemoveFirst);
    }

    private static byte[] Encode(List<byte[]> items)
    {
        ArrayBufferWriter<byte> output = new();
        PackedItems.Encode(output, 0, items);
        return output.WrittenSpan.ToArray();
    }

    private static int OffsetOf(PackedItemsBuffer buffer, int index)
    {
        int offset = PackedItemsBuffer.FirstOffset;
        for (int i = 0; i < index; i++)
        {
            buffer.ItemAt(offset, out offset);
        }

        return offset;
    }

    private static int IndexOf(PackedItemsBuffer buffer, int offset)
    {
        if (offset < 0)
        {
            return -1;
        }

        int index = 0;
        for (int at = PackedItemsBuffer.FirstOffset; at != offset; index++)
        {
            buffer.ItemAt(at, out at);
        }

        return index;
    }
}
