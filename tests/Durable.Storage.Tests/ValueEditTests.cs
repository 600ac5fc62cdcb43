using System.Buffers;
using Durable.Storage.Faster;
using Durable.Storage.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>
/// Long strings changed in place are logged as their changes (<see cref="WalRecordKind.ValueEdit"/>): an APPEND to a long
/// string costs the WAL what it appends, not the whole value, and replay rebuilds the string, its expiry kept.
/// </summary>
public sealed class ValueEditTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private StoreOptions Options => new() { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 };

    [Fact]
    public async Task AppendsToALongString_AreLoggedAsTheirChanges_AndComeBackAfterACrash()
    {
        long expiresAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3_600_000;
        byte[] value = [.. Enumerable.Range(0, 8000).Select(i => (byte)i)];
        long walBefore;
        long walAfter;
        await using (FasterStore store = await FasterStore.OpenAsync(Options, NullLogger.Instance))
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "log"u8, RecordType.String, value, expiresAtMs);
            session.CompleteCommand();
            walBefore = store.GetStatistics().WalBytes;
            for (int i = 0; i < 200; i++)
            {
                // An append, and every tenth time a byte flipped in the middle (as SETBIT does).
                value = [.. value, .. Enumerable.Range(0, 50).Select(j => (byte)(i + j))];
                if (i % 10 == 0)
                {
                    value[4000 + i] ^= 0xFF;
                }

                session.Write(0, "log"u8, RecordType.String, value, expiresAtMs);
                session.CompleteCommand();
            }

            walAfter = store.GetStatistics().WalBytes;
        }

        // Whole values would be over 2.6 MB; the changes are 200 x (50 bytes and some 60 of framing), plus the few
        // writes that do not happen in place (the record moved to a new one with more room).
        Assert.InRange(walAfter - walBefore, 1, 200_000);
        await using FasterStore reopened = await FasterStore.OpenAsync(Options, NullLogger.Instance);
        using IStoreSession again = reopened.OpenSession();
        ArrayBufferWriter<byte> recovered = new();
        Assert.True(again.TryRead(0, "log"u8, recovered, out StoredRecord record));
        Assert.Equal(value, recovered.WrittenSpan.ToArray());
        Assert.Equal(expiresAtMs, record.ExpiresAtMs);
        Assert.Equal(RecordType.String, record.Type);
    }

    [Fact]
    public async Task ANewExpiryOrType_IsLoggedWhole()
    {
        byte[] value = [.. Enumerable.Range(0, 6000).Select(i => (byte)(i * 3))];
        long expiresAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3_600_000;
        await using (FasterStore store = await FasterStore.OpenAsync(Options, NullLogger.Instance))
        {
            using IStoreSession session = store.OpenSession();
            session.Write(0, "k"u8, RecordType.String, value, 0);
            session.CompleteCommand();
            value[10] ^= 1;
            long walBefore = store.GetStatistics().WalBytes;
            session.Write(0, "k"u8, RecordType.String, value, expiresAtMs);
            session.CompleteCommand();
            Assert.True(store.GetStatistics().WalBytes - walBefore > value.Length, "a new expiry is not an edit");

            value[20] ^= 1;
            walBefore = store.GetStatistics().WalBytes;
            session.Write(0, "k"u8, RecordType.String, value, expiresAtMs);
            session.CompleteCommand();
            Assert.InRange(store.GetStatistics().WalBytes - walBefore, 1, 200);
        }

        await using FasterStore reopened = await FasterStore.OpenAsync(Options, NullLogger.Instance);
        using IStoreSession again = reopened.OpenSession();
        ArrayBufferWriter<byte> recovered = new();
        Assert.True(again.TryRead(0, "k"u8, recovered, out StoredRecord record));
        Assert.Equal(value, recovered.WrittenSpan.ToArray());
        Assert.Equal(expiresAtMs, record.ExpiresAtMs);
    }

    [Fact]
    public async Task Replay_FromAnyStateOfTheChain_EndsWithTheLastState_AndTouchesNoOtherType()
    {
        // A string through six states, one of them repeated; the edits between them are replayed over each state the key
        // could hold when the replay starts (a checkpoint may hold any of them), twice over; then over a hash whose
        // payload happens to be the first state, which they must leave alone.
        List<byte[]> states = [[.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 5))]];
        Random random = new(9);
        for (int i = 0; i < 5; i++)
        {
            byte[] last = states[^1];
            states.Add(i == 3 ? states[1] : [.. last, .. Enumerable.Range(0, random.Next(1, 90)).Select(_ => (byte)random.Next())]);
        }

        byte[] storedKey = [0, .. "s"u8];
        List<byte[]> records = [];
        for (int i = 1; i < states.Count; i++)
        {
            PartEdit edit = PartEdit.Find(states[i - 1], states[i]);
            byte[] record = new byte[WalRecord.PartEditSize(storedKey.Length, edit)];
            Assert.Equal(record.Length, WalRecord.EncodeValueEdit(record, storedKey, edit, states[i]));
            records.Add(record);
        }

        long expiresAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3_600_000;
        await using FasterStore store = await FasterStore.OpenAsync(Options, NullLogger.Instance);
        using IStoreSession session = store.OpenSession();
        FasterStoreSession replaying = (FasterStoreSession)session;
        ArrayBufferWriter<byte> read = new();
        for (int start = 0; start < states.Count; start++)
        {
            session.Write(0, "s"u8, RecordType.String, states[start], expiresAtMs);
            session.CompleteCommand();
            for (int pass = 0; pass < 2; pass++)
            {
                ReplayAll(replaying, records);
                read.ResetWrittenCount();
                Assert.True(session.TryRead(0, "s"u8, read, out StoredRecord record));
                Assert.True(states[^1].AsSpan().SequenceEqual(read.WrittenSpan), $"replay from state {start}, pass {pass}");
                Assert.Equal(expiresAtMs, record.ExpiresAtMs);
            }
        }

        session.Write(0, "s"u8, RecordType.Hash, states[0], 0);
        session.CompleteCommand();
        ReplayAll(replaying, records);
        read.ResetWrittenCount();
        Assert.True(session.TryRead(0, "s"u8, read, out StoredRecord hash));
        Assert.Equal(RecordType.Hash, hash.Type);
        Assert.True(states[0].AsSpan().SequenceEqual(read.WrittenSpan), "an edit of a string leaves another type alone");
    }

    private static void ReplayAll(FasterStoreSession replaying, List<byte[]> records)
    {
        foreach (byte[] record in records)
        {
            Assert.True(WalRecord.TryDecode(record, out DecodedWalRecord decoded, out _));
            replaying.Replay(record, decoded, new byte[16]);
        }

        replaying.FinishReplayWrites();
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
