using System.Buffers;
using Durable.Commands.Collections;
using Durable.Commands.Lists;
using Durable.Commands.Server;
using Durable.Storage;

namespace Durable.Commands.Tests;

/// <summary>
/// A chunked list of 3 elements per chunk whose chunk ids wrap past 2^32, edited by random operations, each in its own
/// "command" (open the root, change, save) and compared with a model list; after each, no chunk exists outside the
/// root's range (the store would never delete it).
/// </summary>
public sealed class ChunkedListModelTests : TempStore
{
    [Fact]
    public void RandomOperations_MatchModel_AndLeaveNoChunkOutsideTheRange()
    {
        CommandContext context = new(
            new ServerState(Store, new ServerConfig(), CommandTable.CreateDefault(), TimeProvider.System),
            new ClientState { Id = 1, Address = "test", LocalAddress = "test", CreatedAtMs = 0 });
        using IStoreSession session = context.Session;
        byte[] key = "list"u8.ToArray();
        List<byte[]> model = [];
        Random random = new(42);
        int next = 0;
        int wrapped = 0;
        byte[] NewValue() => BitConverter.GetBytes(next++);

        for (int step = 0; step < 3000; step++)
        {
            if (model.Count == 0)
            {
                Seed(context, key, model, NewValue());
            }

            ChunkedList list = Open(context, key);
            int count = model.Count;
            switch (random.Next(8))
            {
                case 0:
                case 1:
                    bool left = random.Next(2) == 0;
                    byte[] pushed = NewValue();
                    list.Push(left, pushed);
                    model.Insert(left ? 0 : model.Count, pushed);
                    break;
                case 2:
                    bool fromLeft = random.Next(2) == 0;
                    int take = random.Next(1, 8);
                    List<byte[]> expected = fromLeft ? model.Take(take).ToList() : Enumerable.Reverse(model).Take(take).ToList();
                    model.RemoveRange(fromLeft ? 0 : Math.Max(0, count - take), Math.Min(take, count));
                    Assert.Equal(expected, list.Pop(fromLeft, take));
                    break;
                case 3:
                    int index = random.Next(count);
                    Assert.Equal(model[index], list.Get(index));
                    byte[] set = NewValue();
                    list.Set(index, set);
                    model[index] = set;
                    break;
                case 4:
                    int at = random.Next(count + 1);
                    byte[] inserted = NewValue();
                    list.Insert(at, inserted);
                    model.Insert(at, inserted);
                    break;
                case 5:
                    List<long> positions = [.. Enumerable.Range(0, random.Next(1, 5)).Select(_ => (long)random.Next(count)).Distinct().Order()];
                    list.RemoveAt(positions);
                    for (int i = positions.Count - 1; i >= 0; i--)
                    {
                        model.RemoveAt((int)positions[i]);
                    }

                    break;
                case 6 when random.Next(4) == 0:
                    int first = random.Next(Math.Min(count, 4));
                    int last = count - 1 - random.Next(Math.Min(count, 4));
                    list.Trim(first, last);
                    model = first > last ? [] : model.GetRange(first, last - first + 1);
                    break;
                default:
                    int from = random.Next(count);
                    int to = Math.Min(count - 1, from + random.Next(10));
                    Assert.Equal(model.GetRange(from, to - from + 1), list.Range(from, to).ToList());
                    break;
            }

            Assert.True(list.Save(key, 0));
            wrapped += Check(context, key, model) ? 1 : 0;
        }

        Assert.True(wrapped > 20, $"the chunk range spanned the wrap past 2^32 after only {wrapped} operations");
    }

    /// <summary>A one-element chunked list of C = 3 whose head chunk is a few ids before the u32 ids wrap.</summary>
    private static void Seed(CommandContext context, byte[] key, List<byte[]> model, byte[] value)
    {
        ulong generation = PartsDescriptor.NewGeneration();
        uint first = 0xFFFF_FFFD;
        ArrayBufferWriter<byte> chunk = new();
        PackedItems.Encode(chunk, 0, [value]);
        context.Session.WritePart(generation, first, chunk.WrittenSpan);
        byte[] root = new byte[ChunkedList.RootSize];
        ChunkedList.WriteRoot(root, generation, first, 1, 3, 1, 1);
        context.Session.Write(0, key, RecordType.List, root, 0);
        model.Add(value);
    }

    private static ChunkedList Open(CommandContext context, byte[] key)
    {
        ArrayBufferWriter<byte> root = new();
        Assert.True(context.Session.TryRead(0, key, root, out _));
        return ChunkedList.Open(context, root.WrittenSpan);
    }

    /// <summary>Checks the stored list against the model; true when its chunk range wraps past 2^32.</summary>
    private static bool Check(CommandContext context, byte[] key, List<byte[]> model)
    {
        if (model.Count == 0)
        {
            Assert.False(context.Session.TryRead(0, key, null, out _));
            return false;
        }

        ChunkedList list = Open(context, key);
        Assert.Equal(model.Count, list.Count);
        Assert.Equal(model, list.AllItems());
        ArrayBufferWriter<byte> part = new();
        for (uint i = 1; i <= 4; i++)
        {
            Assert.False(context.Session.TryReadPart(list.Generation, unchecked(list.First - i), part), $"chunk {list.First - i:x} before the range");
            Assert.False(context.Session.TryReadPart(list.Generation, unchecked(list.First + list.ChunkCount - 1 + i), part), "chunk after the range");
        }

        return unchecked(list.First + list.ChunkCount - 1) < list.First;
    }
}
