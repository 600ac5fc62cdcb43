using System.Buffers;
using Durable.Storage.Faster;
using FASTER.core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Durable.Storage.Tests;

/// <summary>Part records of large collections: the descriptor's format, and the store deleting parts with their record.</summary>
public sealed class PartsTests : IDisposable
{
    private const int Parts = 40;

    // Parts of a list grow both ways from the middle of the id space.
    private const uint First = 0x7FFF_FFF0;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests", Guid.NewGuid().ToString("N"));

    private Task<FasterStore> OpenAsync() => FasterStore.OpenAsync(
        new StoreOptions { DataDirectory = _directory, MemoryBytes = 1L << 20, IndexBytes = 1L << 16, SegmentBytes = 1L << 22 },
        NullLogger.Instance);

    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void Descriptor_IsPinned()
    {
        byte[] bytes = new byte[PartsDescriptor.Size];
        new PartsDescriptor(0x0102030405060708, 0x80000001, 0x0A0B0C0D).WriteTo(bytes);
        Assert.Equal(new byte[] { 0xC0, 1, 8, 7, 6, 5, 4, 3, 2, 1, 1, 0, 0, 0x80, 0x0D, 0x0C, 0x0B, 0x0A }, bytes);

        byte[] key = new byte[PartsDescriptor.PartKeySize];
        PartsDescriptor.WritePartKey(key, 0x0102030405060708, 0x0A0B0C0D);
        Assert.Equal(new byte[] { 0xFF, 0x01, 8, 7, 6, 5, 4, 3, 2, 1, 0x0D, 0x0C, 0x0B, 0x0A }, key);
    }

    [Fact]
    public void Descriptor_OnlyCollectionsWithTheMarkerHaveParts()
    {
        byte[] payload = new byte[PartsDescriptor.Size];
        new PartsDescriptor(7, 2, 3).WriteTo(payload);
        Assert.True(PartsDescriptor.TryRead(RecordType.Hash, payload, out PartsDescriptor read));
        Assert.Equal(new PartsDescriptor(7, 2, 3), read);
        Assert.False(PartsDescriptor.TryRead(RecordType.String, payload, out _));
        Assert.False(PartsDescriptor.TryRead(RecordType.Set, [1, 0, 0, 0, 0, 0], out _));
        payload[1] = 2;
        Assert.Contains("newer Durable", Assert.Throws<InvalidDataException>(() => PartsDescriptor.TryRead(RecordType.Set, payload, out _)).Message);
    }

    [Fact]
    public async Task Delete_TakesThePartsAlong_DeleteKeepingPartsLeavesThem()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        ulong first = WriteCollection(session, "a"u8, 0);
        ulong second = WriteCollection(session, "b"u8, 0);

        Assert.True(session.Delete(0, "a"u8));
        Assert.Equal(0, CountParts(session, first));
        Assert.True(session.DeleteKeepingParts(0, "b"u8));
        Assert.Equal(Parts, CountParts(session, second));
    }

    [Fact]
    public async Task Overwrite_KeepsPartsOnlyForTheSameGeneration()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        ulong generation = WriteCollection(session, "h"u8, 0);

        // The collection updating its own root (same generation) keeps its parts.
        session.Write(0, "h"u8, RecordType.Hash, Root(generation, Parts + 1), 0);
        Assert.Equal(Parts, CountParts(session, generation));

        // Another type over it, or a collection of a new generation, orphans them: they go.
        session.Write(0, "h"u8, RecordType.String, "plain"u8, 0);
        Assert.Equal(0, CountParts(session, generation));
    }

    [Fact]
    public async Task ExpiredCollection_PartsGoWhenItIsReplacedOrDeleted()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        long soon = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 50;
        ulong replaced = WriteCollection(session, "x"u8, soon);
        ulong deleted = WriteCollection(session, "y"u8, soon);
        await Task.Delay(100, TestContext.Current.CancellationToken);

        Assert.False(session.TryRead(0, "x"u8, null, out _));
        session.Write(0, "x"u8, RecordType.String, "new"u8, 0);
        Assert.Equal(0, CountParts(session, replaced));
        Assert.False(session.Delete(0, "y"u8));
        Assert.Equal(0, CountParts(session, deleted));
    }

    [Fact]
    public async Task ExpiredCollection_TheExpiryCycleDeletesItsParts()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        ulong expiring = WriteCollection(session, "e"u8, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 50);
        ulong kept = WriteCollection(session, "k"u8, 0);

        // Nothing touches the key: the store's own expiry cycle (every 100 ms) finds it.
        System.Diagnostics.Stopwatch watch = System.Diagnostics.Stopwatch.StartNew();
        while (CountParts(session, expiring) > 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the expiry cycle did not delete the parts");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(1, store.KeyCount(0));
        Assert.Equal(Parts, CountParts(session, kept));
    }

    [Fact]
    public async Task DeleteOfAPrefetchedColdRoot_StillTakesThePartsAlong()
    {
        await using FasterStore store = await OpenAsync();
        using IStoreSession session = store.OpenSession();
        ulong generation = WriteCollection(session, "cold"u8, 0);
        SmallStore.PushToDisk(session);

        // The root is on disk: the prefetch reads it, and the delete is answered from what the prefetch kept.
        Assert.True(session.BeginPrefetch(0, "cold"u8), "the root was expected on disk");
        await session.CompletePrefetchesAsync(TestContext.Current.CancellationToken);
        Assert.True(session.Delete(0, "cold"u8));
        Assert.Equal(0, CountParts(session, generation));
    }

    [Fact]
    public async Task FlushDatabase_DeletesParts_AndReplayAfterRestartAgrees()
    {
        ulong flushed;
        ulong kept;
        ulong dropped;
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            flushed = WriteCollection(session, "f"u8, 0, db: 1);
            kept = WriteCollection(session, "k"u8, 0);
            dropped = WriteCollection(session, "d"u8, 0);
            session.CompleteCommand();
            session.FlushDatabase(1, lazyFree: false);
            session.CompleteCommand();
            Assert.True(session.Delete(0, "d"u8));
            session.CompleteCommand();
            Assert.Equal(0, CountParts(session, flushed));
        }

        // No checkpoint: everything above comes back from the write-ahead log.
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        Assert.Equal(0, CountParts(again, flushed));
        Assert.Equal(0, CountParts(again, dropped));
        Assert.Equal(Parts, CountParts(again, kept));
        ArrayBufferWriter<byte> part = new();
        Assert.True(again.TryReadPart(kept, First + 5, part));
        Assert.Equal([5, 5, 5], part.WrittenSpan.ToArray());
        Assert.Equal(1, reopened.KeyCount(0));
    }

    [Fact]
    public async Task GrowingPart_IsUpdatedInPlaceWhileItHasRoom_AndComesBackExactAfterRestart()
    {
        ulong generation = PartsDescriptor.NewGeneration();
        byte[] expected = [1];
        await using (FasterStore store = await OpenAsync())
        {
            using IStoreSession session = store.OpenSession();
            session.WritePart(generation, First, expected);
            session.CompleteCommand();
            ArrayBufferWriter<byte> read = new();
            int moved = 0;
            for (int i = 0; i < 200; i++)
            {
                // As a command does: read the part, then write it (a blind upsert), here 2 bytes longer; every tenth write
                // shrinks it by 3 instead (a pop), which must not take the room away.
                read.ResetWrittenCount();
                Assert.True(session.TryReadPart(generation, First, read));
                Assert.Equal(expected, read.WrittenSpan.ToArray());
                expected = i % 10 == 9 ? expected[..^3] : [.. expected, (byte)i, (byte)i];
                long tail = store.Kv.Log.TailAddress;
                session.WritePart(generation, First, expected);
                session.CompleteCommand();
                moved += store.Kv.Log.TailAddress != tail ? 1 : 0;
            }

            // Without room every write that grows the part appends a new record (180 here); with at least 64 spare bytes
            // per record, one in about 32 does.
            Assert.InRange(moved, 1, 12);
        }

        // No checkpoint: the part comes back from the write-ahead log, without its room.
        await using FasterStore reopened = await OpenAsync();
        using IStoreSession again = reopened.OpenSession();
        ArrayBufferWriter<byte> recovered = new();
        Assert.True(again.TryReadPart(generation, First, recovered));
        Assert.Equal(expected, recovered.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task PartOfAnEarlierBuild_Version1_IsReadAndUpdated()
    {
        ulong generation = PartsDescriptor.NewGeneration();
        await using FasterStore store = await OpenAsync();

        // A part as builds before header version 2 stored it: the version 1 header, then the payload filling the value.
        byte[] key = GC.AllocateArray<byte>(PartsDescriptor.PartKeySize, pinned: true);
        PartsDescriptor.WritePartKey(key, generation, First);
        byte[] value = GC.AllocateArray<byte>(RecordHeader.Size + 40, pinned: true);
        new RecordHeader(RecordType.Part, 0).WriteTo(value);
        value.AsSpan(RecordHeader.Size).Fill(7);
        using (ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, SpanByteFunctions<Empty>> raw =
            store.Kv.For(new SpanByteFunctions<Empty>()).NewSession<SpanByteFunctions<Empty>>())
        {
            SpanByte rawKey = SpanByte.FromFixedSpan(key);
            SpanByte rawValue = SpanByte.FromFixedSpan(value);
            raw.Upsert(ref rawKey, ref rawValue);
        }

        using IStoreSession session = store.OpenSession();
        ArrayBufferWriter<byte> read = new();
        Assert.True(session.TryReadPart(generation, First, read));
        Assert.Equal(value[RecordHeader.Size..], read.WrittenSpan.ToArray());

        // Shorter (fits the old record, which becomes version 2 in place), then longer than it (a new record).
        foreach (int length in new[] { 20, 100 })
        {
            byte[] payload = Enumerable.Repeat((byte)length, length).ToArray();
            session.WritePart(generation, First, payload);
            session.CompleteCommand();
            read.ResetWrittenCount();
            Assert.True(session.TryReadPart(generation, First, read));
            Assert.Equal(payload, read.WrittenSpan.ToArray());
        }
    }

    private static ulong WriteCollection(IStoreSession session, ReadOnlySpan<byte> key, long expiresAtMs, int db = 0)
    {
        ulong generation = PartsDescriptor.NewGeneration();
        for (uint part = 0; part < Parts; part++)
        {
            session.WritePart(generation, First + part, [(byte)part, (byte)part, (byte)part]);
        }

        session.Write(db, key, RecordType.Hash, Root(generation, Parts), expiresAtMs);
        session.CompleteCommand();
        return generation;
    }

    // A root: the descriptor, then a byte of the collection's own (which changes without touching the parts).
    private static byte[] Root(ulong generation, int extra)
    {
        byte[] root = new byte[PartsDescriptor.Size + 1];
        new PartsDescriptor(generation, First, Parts).WriteTo(root);
        root[^1] = (byte)extra;
        return root;
    }

    private static int CountParts(IStoreSession session, ulong generation)
    {
        ArrayBufferWriter<byte> part = new();
        int found = 0;
        for (uint id = 0; id < Parts; id++)
        {
            part.ResetWrittenCount();
            found += session.TryReadPart(generation, First + id, part) ? 1 : 0;
        }

        return found;
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
