using System.Buffers;
using System.Text;
using Durable.Commands.Streams;

namespace Durable.Commands.Tests;

public sealed class StreamChunkTests
{
    // Golden bytes: these layouts are on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Root_IsPinned()
    {
        byte[] golden =
        [
            0xC0, 1, 8, 7, 6, 5, 4, 3, 2, 1, 3, 0, 0, 0, 2, 0, 0, 0,
            1, 0,
            5, 0, 0, 0, 0, 0, 0, 0,
            9, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
            7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
            8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            6, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0,
            0, 0, 0, 0,
        ];
        Assert.Equal(StreamValue.RootSize, golden.Length);
        StreamValue stream = StreamValue.Open(null!, golden, expiresAtMs: 0);
        Assert.Equal((0x0102030405060708ul, 3u, 2u), (stream.Generation, stream.First, stream.ChunkCount));
        Assert.Equal(5, stream.Length);
        Assert.Equal(new StreamId(9, 2), stream.LastId);
        Assert.Equal(new StreamId(7, 1), stream.FirstId);
        Assert.Equal(new StreamId(8, 0), stream.MaxDeletedId);
        Assert.Equal(6, stream.EntriesAdded);
        Assert.Equal(0, stream.GroupCount);
        Assert.Equal(golden, stream.EncodeRoot());
    }

    [Fact]
    public void Chunk_IsPinned()
    {
        StreamChunk chunk = StreamChunk.Start(Entry(5, 1, "name", "Ann", "age", "33"));
        chunk.Append(Entry(5, 2, "name", "Bob", "age", "34"));
        chunk.Append(Entry(6, 0, "x", "1"));
        Assert.True(chunk.Delete(1));
        Assert.False(chunk.Delete(1));
        ArrayBufferWriter<byte> output = new();
        chunk.Encode(output);
        Assert.Equal(GoldenChunk, Convert.ToHexString(output.WrittenSpan));

        StreamChunk read = StreamChunk.Decode(output.WrittenSpan);
        Assert.Equal(2, read.Live);
        Assert.Equal(chunk.ListpackBytes, read.ListpackBytes);
        Assert.Equal(new StreamId(5, 1), read.MasterId);
        Assert.Equal(["name", "age"], read.MasterFields.Select(Encoding.ASCII.GetString));
        Assert.Equal([new StreamId(5, 1), new StreamId(5, 2), new StreamId(6, 0)], read.Entries.Select(e => e.Id));
        Assert.True(read.Entries[1].Deleted);
        Assert.Equal(["x", "1"], read.Entries[2].Fields.Select(Encoding.ASCII.GetString));
        Assert.Equal(~2, read.Find(new StreamId(5, 3)));
        Assert.Equal(2, read.Find(new StreamId(6, 0)));
    }

    // Redis's listpack of the same node, counted by hand from listpack.c: 7 (header, end) + master entry (count 2,
    // deleted 2, 2 fields 2, "name" 6, "age" 5, terminator 2) + 5-1 same fields (flags 2, deltas 2 + 2, "Ann" 5,
    // 33 2, count 2) + 5-2 alike (2, 2, 2, "Bob" 5, 34 2, 2) + 6-0 other fields (flags 2, deltas 2 + 3: -1 is 13-bit,
    // 1 field 2, "x" 3, 1 2, count 2).
    [Fact]
    public void ListpackBytes_CountAsRedis()
    {
        StreamChunk chunk = StreamChunk.Start(Entry(5, 1, "name", "Ann", "age", "33"));
        Assert.Equal(7 + 2 + 2 + 2 + 6 + 5 + 2 + 2 + 2 + 2 + 5 + 2 + 2, chunk.ListpackBytes);
        chunk.Append(Entry(5, 2, "name", "Bob", "age", "34"));
        Assert.Equal(41 + 2 + 2 + 2 + 5 + 2 + 2, chunk.ListpackBytes);
        chunk.Append(Entry(6, 0, "x", "1"));
        Assert.Equal(56 + 2 + 2 + 3 + 2 + 3 + 2 + 2, chunk.ListpackBytes);
    }

    // PackedItems v1 of 5 items: the master's field names, 5-1 whole, 5-2 a tombstone (flags 1, no fields), 6-0 whole,
    // then the header (version 1, flags 0, 2 live, 3 entries, 72 listpack bytes, master 5-1).
    /// <summary>XADD's append to the encoded node gives the bytes a decoded node gives, and declines where a new node starts.</summary>
    [Fact]
    public void AppendEncoded_MatchesAppendingToTheDecodedNode()
    {
        Server.ServerConfig config = new() { StreamNodeMaxEntries = 5 };
        StreamEntry[] entries =
        [
            Entry(5, 1, "name", "Ann", "age", "33"), Entry(5, 2, "name", "Bob", "age", "34"), Entry(6, 0, "x", "-12345"),
            Entry(7, 0, "name", new string('v', 300), "age", "1"), Entry(9, 9, "name", "Cy", "age", "2"), Entry(10, 0, "a", "b"),
        ];
        StreamChunk decoded = StreamChunk.Start(entries[0]);
        ArrayBufferWriter<byte> output = new();
        decoded.Encode(output);
        byte[] encoded = output.WrittenSpan.ToArray();
        for (int i = 1; i < entries.Length; i++)
        {
            byte[]? appended = StreamChunk.AppendEncoded(encoded, entries[i], config);
            if (!decoded.Takes(entries[i], config))
            {
                Assert.Null(appended);
                Assert.Equal(5, i);
                break;
            }

            decoded.Append(entries[i]);
            output.ResetWrittenCount();
            decoded.Encode(output);
            Assert.Equal(output.WrittenSpan.ToArray(), appended);
            encoded = appended!;
        }
    }

    private const string GoldenChunk =
        "0100050000000A02046E616D650361676522000000000000000500000000000000010004046E616D6503416E6E03616765023333120000" +
        "00000000000500000000000000020100160000000000000006000000000000000000020178013122010002000000030000004800000000" +
        "00000000000000000000050000000000000001";

    private static StreamEntry Entry(ulong ms, ulong seq, params string[] fields) =>
        new(new StreamId(ms, seq), [.. fields.Select(Encoding.ASCII.GetBytes)]);
}
