using Durable.Storage.Persistence;

namespace Durable.Storage.Tests;

public sealed class WalRecordTests
{
    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void EncodeWrite_IsPinned()
    {
        byte[] buffer = new byte[WalRecord.WriteSize(3, 2)];
        int length = WalRecord.EncodeWrite(buffer, [0, (byte)'k', (byte)'1'], RecordType.String, 0x0102030405060708, "hi"u8);
        Assert.Equal(buffer.Length, length);
        Assert.Equal(
            "01-01-03-00-00-00-00-6B-31-01-08-07-06-05-04-03-02-01-68-69-" + Crc("01-01-03-00-00-00-00-6B-31-01-08-07-06-05-04-03-02-01-68-69"),
            BitConverter.ToString(buffer));
    }

    [Fact]
    public void EncodeDeleteFlushMap_ArePinned()
    {
        byte[] buffer = new byte[64];
        int length = WalRecord.EncodeDelete(buffer, [2, (byte)'a']);
        Assert.Equal("01-02-02-61-" + Crc("01-02-02-61"), BitConverter.ToString(buffer, 0, length));
        length = WalRecord.EncodeFlushDatabase(buffer, 5);
        Assert.Equal("01-03-05-" + Crc("01-03-05"), BitConverter.ToString(buffer, 0, length));
        length = WalRecord.EncodeExpire(buffer, [2, (byte)'a'], 0x0102030405060708);
        Assert.Equal("01-05-08-07-06-05-04-03-02-01-02-61-" + Crc("01-05-08-07-06-05-04-03-02-01-02-61"), BitConverter.ToString(buffer, 0, length));
        Assert.True(WalRecord.TryDecode(buffer.AsSpan(0, length), out DecodedWalRecord expire, out _));
        Assert.Equal(0x0102030405060708, expire.ExpiresAtMs);
        length = WalRecord.EncodeDatabaseMap(buffer, [1, 0]);
        Assert.Equal("01-04-01-00-" + Crc("01-04-01-00"), BitConverter.ToString(buffer, 0, length));
        Assert.Equal(1, (byte)WalRecordKind.Write);
        Assert.Equal(4, (byte)WalRecordKind.DatabaseMap);
    }

    [Fact]
    public void TryDecode_RoundTripsWrite()
    {
        byte[] buffer = new byte[WalRecord.WriteSize(2, 3)];
        WalRecord.EncodeWrite(buffer, [7, (byte)'x'], RecordType.String, 42, "abc"u8);
        Assert.True(WalRecord.TryDecode(buffer, out DecodedWalRecord decoded, out _));
        ReadOnlySpan<byte> body = DecodedWalRecord.Body(buffer);
        Assert.Equal(WalRecordKind.Write, decoded.Kind);
        Assert.Equal(new byte[] { 7, (byte)'x' }, body.Slice(decoded.KeyOffset, decoded.KeyLength).ToArray());
        Assert.Equal(42, decoded.ExpiresAtMs);
        Assert.Equal("abc"u8.ToArray(), body[decoded.PayloadOffset..].ToArray());
    }

    [Fact]
    public void TryDecode_AnyFlippedByte_IsDetected()
    {
        byte[] buffer = new byte[WalRecord.WriteSize(2, 3)];
        WalRecord.EncodeWrite(buffer, [7, (byte)'x'], RecordType.String, 42, "abc"u8);
        for (int i = 0; i < buffer.Length; i++)
        {
            byte[] damaged = (byte[])buffer.Clone();
            damaged[i] ^= 0x40;
            Assert.False(WalRecord.TryDecode(damaged, out _, out string? problem));
            Assert.NotNull(problem);
        }
    }

    [Fact]
    public void Batch_IsPinnedAndChecksEveryEntry()
    {
        byte[] buffer = new byte[64];
        int position = WalRecord.BatchHeaderSize;
        foreach (byte key in new byte[] { (byte)'a', (byte)'b' })
        {
            int length = WalRecord.EncodeDelete(buffer.AsSpan(position + 4), [0, key]);
            BitConverter.TryWriteBytes(buffer.AsSpan(position), length);
            position += 4 + length;
        }

        int total = WalRecord.SealBatch(buffer, position, 2);
        string a = "01-02-00-61-" + Crc("01-02-00-61");
        string b = "01-02-00-62-" + Crc("01-02-00-62");
        string body = "01-06-02-00-00-00-08-00-00-00-" + a + "-08-00-00-00-" + b;
        Assert.Equal(body + "-" + Crc(body), BitConverter.ToString(buffer, 0, total));
        Assert.True(WalRecord.TryDecode(buffer.AsSpan(0, total), out DecodedWalRecord decoded, out _));
        Assert.Equal(WalRecordKind.Batch, decoded.Kind);

        // A damaged inner record with a recomputed outer checksum is still caught.
        buffer[13] ^= 1;
        WalRecord.SealBatch(buffer, position, 2);
        Assert.False(WalRecord.TryDecode(buffer.AsSpan(0, total), out _, out string? problem));
        Assert.Contains("batch entry 0", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void BatchPart_IsPinnedAndChecksEveryEntry()
    {
        byte[] buffer = new byte[64];
        int position = WalRecord.BatchPartHeaderSize;
        int length = WalRecord.EncodeDelete(buffer.AsSpan(position + 4), [0, (byte)'a']);
        BitConverter.TryWriteBytes(buffer.AsSpan(position), length);
        position += 4 + length;

        int total = WalRecord.SealBatchPart(buffer, position, 1, 0x0102030405060708, last: true);
        string a = "01-02-00-61-" + Crc("01-02-00-61");
        string body = "01-07-08-07-06-05-04-03-02-01-01-01-00-00-00-08-00-00-00-" + a;
        Assert.Equal(body + "-" + Crc(body), BitConverter.ToString(buffer, 0, total));
        Assert.True(WalRecord.TryDecode(buffer.AsSpan(0, total), out DecodedWalRecord decoded, out _));
        Assert.Equal(WalRecordKind.BatchPart, decoded.Kind);
        // The batch body: count, then the one length-prefixed record.
        Assert.Equal(4 + 4 + 8, WalRecord.BatchPartBody(buffer.AsSpan(0, total), out long id, out bool last).Length);
        Assert.Equal(0x0102030405060708, id);
        Assert.True(last);

        buffer[position - 3] ^= 1;
        WalRecord.SealBatchPart(buffer, position, 1, 0x0102030405060708, last: false);
        Assert.False(WalRecord.TryDecode(buffer.AsSpan(0, total), out _, out string? problem));
        Assert.Contains("batch entry 0", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_NewerVersion_SaysUpgrade()
    {
        byte[] buffer = new byte[16];
        int length = WalRecord.EncodeDelete(buffer, [0, 1]);
        buffer[0] = WalRecord.ValueEditVersion + 1;
        Assert.False(WalRecord.TryDecode(buffer.AsSpan(0, length), out _, out string? problem));
        Assert.Contains("newer", problem, StringComparison.Ordinal);
    }

    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void EncodePartEdit_IsPinned_Version2()
    {
        PartEdit edit = new(0x0102030405060708, 6, 2, new PartEdit.Splice(1, 1, 1, 1), new PartEdit.Splice(4, 0, 4, 2));
        byte[] updated = "aBcdXYef"u8.ToArray();
        byte[] buffer = new byte[WalRecord.PartEditSize(2, edit)];
        Assert.Equal(buffer.Length, WalRecord.EncodePartEdit(buffer, [9, 8], edit, updated));
        string content = "02-08-02-00-00-00-09-08-08-07-06-05-04-03-02-01-06-00-00-00-02-00-00-00-"
            + "01-00-00-00-01-00-00-00-01-00-00-00-42-04-00-00-00-00-00-00-00-02-00-00-00-58-59";
        Assert.Equal(content + "-" + Crc(content), BitConverter.ToString(buffer));
        Assert.Equal(8, (byte)WalRecordKind.PartEdit);

        Assert.True(WalRecord.TryDecode(buffer, out DecodedWalRecord decoded, out _));
        Assert.Equal(WalRecordKind.PartEdit, decoded.Kind);
        ReadOnlySpan<byte> body = DecodedWalRecord.Body(buffer);
        Assert.Equal(new byte[] { 9, 8 }, body.Slice(decoded.KeyOffset, decoded.KeyLength).ToArray());
        System.Buffers.ArrayBufferWriter<byte> applied = new();
        Assert.False(PartEdit.TryApply(body[decoded.PayloadOffset..], "abcdef"u8, applied), "the hash is not that of abcdef");

        // Only a part edit has version 2, and a part edit only version 2.
        byte[] asVersion1 = (byte[])buffer.Clone();
        asVersion1[0] = WalRecord.CurrentVersion;
        WriteCrc(asVersion1);
        Assert.False(WalRecord.TryDecode(asVersion1, out _, out _));
        byte[] deleteAsVersion2 = new byte[16];
        int length = WalRecord.EncodeDelete(deleteAsVersion2, [0, 1]);
        deleteAsVersion2[0] = WalRecord.PartEditVersion;
        WriteCrc(deleteAsVersion2.AsSpan(0, length));
        Assert.False(WalRecord.TryDecode(deleteAsVersion2.AsSpan(0, length), out _, out _));

        // A splice past the old payload's end is malformed, checksum or not.
        byte[] outside = (byte[])buffer.Clone();
        outside[2 + 4 + 2 + 16 + 12 + 1] = 9;
        WriteCrc(outside);
        Assert.False(WalRecord.TryDecode(outside, out _, out string? problem));
        Assert.Contains("part edit", problem, StringComparison.Ordinal);
    }

    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void EncodeValueEdit_IsPinned_Version3()
    {
        PartEdit edit = new(0x0102030405060708, 6, 1, new PartEdit.Splice(6, 0, 6, 2), default);
        byte[] updated = "abcdefXY"u8.ToArray();
        byte[] buffer = new byte[WalRecord.PartEditSize(2, edit)];
        Assert.Equal(buffer.Length, WalRecord.EncodeValueEdit(buffer, [0, 7], edit, updated));
        string content = "03-09-02-00-00-00-00-07-08-07-06-05-04-03-02-01-06-00-00-00-01-00-00-00-"
            + "06-00-00-00-00-00-00-00-02-00-00-00-58-59";
        Assert.Equal(content + "-" + Crc(content), BitConverter.ToString(buffer));
        Assert.Equal(9, (byte)WalRecordKind.ValueEdit);

        Assert.True(WalRecord.TryDecode(buffer, out DecodedWalRecord decoded, out _));
        Assert.Equal(WalRecordKind.ValueEdit, decoded.Kind);
        Assert.Equal(RecordType.String, decoded.Type);
        ReadOnlySpan<byte> body = DecodedWalRecord.Body(buffer);
        Assert.Equal(new byte[] { 0, 7 }, body.Slice(decoded.KeyOffset, decoded.KeyLength).ToArray());

        // Only a value edit has version 3, and a value edit only version 3; a version past it asks for a newer build.
        byte[] asVersion2 = (byte[])buffer.Clone();
        asVersion2[0] = WalRecord.PartEditVersion;
        WriteCrc(asVersion2);
        Assert.False(WalRecord.TryDecode(asVersion2, out _, out _));
        byte[] partEditAsVersion3 = (byte[])buffer.Clone();
        partEditAsVersion3[1] = (byte)WalRecordKind.PartEdit;
        WriteCrc(partEditAsVersion3);
        Assert.False(WalRecord.TryDecode(partEditAsVersion3, out _, out _));
        byte[] newer = (byte[])buffer.Clone();
        newer[0] = 4;
        WriteCrc(newer);
        Assert.False(WalRecord.TryDecode(newer, out _, out string? problem));
        Assert.Contains("upgrade Durable", problem, StringComparison.Ordinal);
    }

    private static void WriteCrc(Span<byte> record) =>
        BitConverter.TryWriteBytes(record[^4..], System.IO.Hashing.Crc32.HashToUInt32(record[..^4]));

    [Fact]
    public void CheckpointCookie_IsPinnedAndVersioned()
    {
        Assert.Equal("01-08-07-06-05-04-03-02-01", BitConverter.ToString(CheckpointCookie.Encode(0x0102030405060708)));
        Assert.Equal(0x0102030405060708, CheckpointCookie.Decode(CheckpointCookie.Encode(0x0102030405060708)));
        byte[] newer = CheckpointCookie.Encode(5);
        newer[0] = 2;
        Assert.Contains("newer Durable", Assert.Throws<InvalidDataException>(() => CheckpointCookie.Decode(newer)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => CheckpointCookie.Decode(null));
    }

    private static string Crc(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex.Replace("-", "", StringComparison.Ordinal));
        return BitConverter.ToString(BitConverter.GetBytes(System.IO.Hashing.Crc32.HashToUInt32(bytes)));
    }
}
