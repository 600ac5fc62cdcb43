using System.Buffers;
using CsCheck;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// Part edits in the WAL (<see cref="PartEdit"/>): found by comparing a part's payload before and after a write, applied
/// by replay only to the payload they were made from, so that a replay starting before a checkpoint that already holds
/// some of them still ends with the part exactly as the last one left it.
/// </summary>
public sealed class PartEditTests : IDisposable
{
    private const uint Part = 0x8000_0001;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Find_ThenApply_MakesTheNewPayloadOfTheOld()
    {
        // Changes as a collection makes them: a count patched in place, an entry spliced in or out, both, or anything.
        Gen<(byte[] Old, byte[] New)> change = Gen.Byte.Array[0, 1500].SelectMany(old => Gen.Select(
            Gen.Int[0, 3], Gen.Int[0, Math.Max(0, old.Length)], Gen.Int[0, 40], Gen.Byte.Array[0, 40], Gen.Byte.Array[0, 1500],
            (kind, at, removed, inserted, other) => (old, kind switch
            {
                0 => Patched(old, at),
                1 => Spliced(old, at, removed, inserted),
                2 => Spliced(Patched(old, 2), at, removed, inserted),
                _ => other,
            })));
        change.Sample(pair =>
        {
            PartEdit edit = PartEdit.Find(pair.Old, pair.New);
            byte[] body = new byte[edit.FixedSize + edit.InsertedBytes];
            Assert.Equal(body.Length, edit.WriteTo(body, pair.New));
            Assert.True(PartEdit.IsWellFormed(body));
            ArrayBufferWriter<byte> applied = new();
            Assert.True(PartEdit.TryApply(body, pair.Old, applied));
            Assert.Equal(pair.New, applied.WrittenSpan.ToArray());
            Assert.Equal(edit.Count == 0, pair.Old.AsSpan().SequenceEqual(pair.New));
        });
    }

    [Fact]
    public void Find_ACountAndAnEntry_CarriesOnlyWhatChanged()
    {
        byte[] old = [.. Enumerable.Range(0, 1000).Select(i => (byte)i)];
        byte[] updated = Spliced(Patched(old, 2), 600, 30, []);
        PartEdit edit = PartEdit.Find(old, updated);
        Assert.Equal(2, edit.Count);
        Assert.Equal(new PartEdit.Splice(2, 1, 2, 1), edit.First);
        Assert.Equal(new PartEdit.Splice(600, 30, 600, 0), edit.Second);
        Assert.Equal(1, edit.InsertedBytes);
    }

    [Fact]
    public void TryApply_ToAnotherPayload_WritesNothing()
    {
        byte[] old = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];
        byte[] updated = Spliced(old, 100, 5, [1, 2, 3]);
        PartEdit edit = PartEdit.Find(old, updated);
        byte[] body = new byte[edit.FixedSize + edit.InsertedBytes];
        edit.WriteTo(body, updated);
        ArrayBufferWriter<byte> applied = new();
        Assert.False(PartEdit.TryApply(body, updated, applied));
        Assert.False(PartEdit.TryApply(body, Patched(old, 250), applied));
        Assert.Equal(0, applied.WrittenCount);
    }

    [Fact]
    public async Task Replay_FromAnyStateOfTheChain_EndsWithTheLastState()
    {
        // A part through eight states, some of them repeated (a member moved away and back); the edits between them are
        // replayed over each state the part could hold when the replay starts (the checkpoint may hold any of them, or
        // the part may not exist yet), and twice over.
        List<byte[]> states = [[.. Enumerable.Range(0, 900).Select(i => (byte)(i * 7))]];
        Random random = new(5);
        for (int i = 0; i < 7; i++)
        {
            byte[] last = states[^1];
            states.Add(i == 4 ? states[2] : Spliced(Patched(last, 2), random.Next(last.Length), random.Next(20), [.. Enumerable.Range(0, random.Next(30)).Select(_ => (byte)random.Next())]));
        }

        ulong generation = PartsDescriptor.NewGeneration();
        byte[] partKey = new byte[PartsDescriptor.PartKeySize];
        PartsDescriptor.WritePartKey(partKey, generation, Part);
        List<byte[]> records = [];
        for (int i = 1; i < states.Count; i++)
        {
            PartEdit edit = PartEdit.Find(states[i - 1], states[i]);
            byte[] record = new byte[WalRecord.PartEditSize(partKey.Length, edit)];
            Assert.Equal(record.Length, WalRecord.EncodePartEdit(record, partKey, edit, states[i]));
            records.Add(record);
        }

        await using FasterStore store = await FasterStore.OpenAsync(
            new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 },
            NullLogger.Instance);
        using IStoreSession session = store.OpenSession();
        FasterStoreSession replaying = (FasterStoreSession)session;
        ArrayBufferWriter<byte> read = new();
        for (int start = 0; start < states.Count; start++)
        {
            session.WritePart(generation, Part, states[start]);
            session.CompleteCommand();
            for (int pass = 0; pass < 2; pass++)
            {
                foreach (byte[] record in records)
                {
                    Assert.True(WalRecord.TryDecode(record, out DecodedWalRecord decoded, out _));
                    replaying.Replay(record, decoded, new byte[16]);
                }

                replaying.FinishReplayWrites();
                read.ResetWrittenCount();
                Assert.True(session.TryReadPart(generation, Part, read));
                Assert.True(states[^1].AsSpan().SequenceEqual(read.WrittenSpan), $"replay from state {start}, pass {pass}");
            }
        }

        session.DeletePart(generation, Part);
        session.CompleteCommand();
        foreach (byte[] record in records)
        {
            Assert.True(WalRecord.TryDecode(record, out DecodedWalRecord decoded, out _));
            replaying.Replay(record, decoded, new byte[16]);
        }

        replaying.FinishReplayWrites();
        Assert.False(session.TryReadPart(generation, Part, read), "an edit of a part that is gone creates nothing");
    }

    [Fact]
    public async Task Replay_EditsOfManyPartsOnDisk_EachEndsWithItsLastState()
    {
        // 2,000 parts of about 900 bytes under a 1 MiB budget: most are on disk. Replay reads the parts of a window of
        // edits together and applies the edits afterwards, in WAL order; a part edited again within a few records (its
        // earlier edit not applied yet) must still end as its last edit left it.
        const int PartCount = 2000;
        ulong generation = PartsDescriptor.NewGeneration();
        Random random = new(11);
        byte[][] state = [.. Enumerable.Range(0, PartCount).Select(p => Enumerable.Range(0, 900).Select(i => (byte)(i + p)).ToArray())];
        await using FasterStore store = await FasterStore.OpenAsync(
            new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 },
            NullLogger.Instance);
        using IStoreSession session = store.OpenSession();
        for (uint p = 0; p < PartCount; p++)
        {
            session.WritePart(generation, p, state[p]);
            session.CompleteCommand();
        }

        List<byte[]> records = [];
        byte[] partKey = new byte[PartsDescriptor.PartKeySize];
        uint previous = 0;
        for (int i = 0; i < 1500; i++)
        {
            uint p = i % 5 == 0 ? previous : (uint)random.Next(PartCount);
            byte[] next = Spliced(Patched(state[p], 1), random.Next(state[p].Length), random.Next(10), [(byte)i, (byte)(i >> 8)]);
            PartEdit edit = PartEdit.Find(state[p], next);
            PartsDescriptor.WritePartKey(partKey, generation, p);
            byte[] record = new byte[WalRecord.PartEditSize(partKey.Length, edit)];
            WalRecord.EncodePartEdit(record, partKey, edit, next);
            records.Add(record);
            state[p] = next;
            previous = p;
        }

        FasterStoreSession replaying = (FasterStoreSession)session;
        long readsBefore = store.GetStatistics().PendingReads;
        foreach (byte[] record in records)
        {
            Assert.True(WalRecord.TryDecode(record, out DecodedWalRecord decoded, out _));
            replaying.Replay(record, decoded, new byte[16]);
        }

        replaying.FinishReplayWrites();
        Assert.True(store.GetStatistics().PendingReads - readsBefore > 500, "the PartCount were meant to be read from the disk");
        ArrayBufferWriter<byte> read = new();
        for (uint p = 0; p < PartCount; p++)
        {
            read.ResetWrittenCount();
            Assert.True(session.TryReadPart(generation, p, read));
            Assert.True(state[p].AsSpan().SequenceEqual(read.WrittenSpan), $"part {p}");
        }
    }

    [Fact]
    public async Task WriteOfAPartRead_IsLoggedAsItsChange_AndComesBackAfterACrash()
    {
        ulong generation = PartsDescriptor.NewGeneration();
        byte[] expected = [.. Enumerable.Range(0, 1000).Select(i => (byte)i)];
        long walBefore;
        long walAfter;
        StoreOptions options = new() { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 };
        await using (FasterStore store = await FasterStore.OpenAsync(options, NullLogger.Instance))
        {
            using IStoreSession session = store.OpenSession();
            session.WritePart(generation, Part, expected);
            session.CompleteCommand();
            ArrayBufferWriter<byte> read = new();
            walBefore = store.GetStatistics().WalBytes;
            for (int i = 0; i < 100; i++)
            {
                read.ResetWrittenCount();
                Assert.True(session.TryReadPart(generation, Part, read));
                expected = Spliced(Patched(expected, 2), (i * 37) % expected.Length, 12, [(byte)i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
                session.WritePart(generation, Part, expected);
                session.CompleteCommand();
            }

            walAfter = store.GetStatistics().WalBytes;
        }

        // A whole part per write would be over 100 KB.
        Assert.InRange(walAfter - walBefore, 1, 100 * 120);
        await using FasterStore reopened = await FasterStore.OpenAsync(options, NullLogger.Instance);
        using IStoreSession again = reopened.OpenSession();
        ArrayBufferWriter<byte> recovered = new();
        Assert.True(again.TryReadPart(generation, Part, recovered));
        Assert.Equal(expected, recovered.WrittenSpan.ToArray());
    }

    private static byte[] Patched(byte[] payload, int at)
    {
        byte[] patched = (byte[])payload.Clone();
        if (at < patched.Length)
        {
            patched[at]++;
        }

        return patched;
    }

    private static byte[] Spliced(byte[] payload, int at, int removed, byte[] inserted)
    {
        at = Math.Min(at, payload.Length);
        removed = Math.Min(removed, payload.Length - at);
        return [.. payload.AsSpan(0, at), .. inserted, .. payload.AsSpan(at + removed)];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
