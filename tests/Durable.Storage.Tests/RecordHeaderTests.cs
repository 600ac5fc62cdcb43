
namespace Durable.Storage.Tests;

public sealed class RecordHeaderTests
{
    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void WriteTo_StringWithExpiry_IsPinned()
    {
        byte[] bytes = new byte[RecordHeader.Size];
        new RecordHeader(RecordType.String, 0x0102030405060708).WriteTo(bytes);
        Assert.Equal(new byte[] { 1, 1, 8, 7, 6, 5, 4, 3, 2, 1 }, bytes);
    }

    // Golden bytes, version 2: the payload's length after the version 1 fields, then the payload, then spare room.
    [Fact]
    public void WriteRoomyTo_PartWithPayloadLength_IsPinned()
    {
        byte[] bytes = new byte[RecordHeader.RoomySize];
        new RecordHeader(RecordType.Part, 0).WriteRoomyTo(bytes, 0x0A0B0C0D);
        Assert.Equal(new byte[] { 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x0D, 0x0C, 0x0B, 0x0A }, bytes);
        Assert.Equal(new RecordHeader(RecordType.Part, 0), RecordHeader.Read(bytes));
    }

    [Fact]
    public void PayloadOf_Version1IsTheRest_Version2LeavesTheRoomOut()
    {
        Assert.Equal(new byte[] { 7, 8 }, RecordHeader.PayloadOf([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8]).ToArray());
        Assert.Equal(new byte[] { 7, 8 }, RecordHeader.PayloadOf([2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 7, 8, 0, 0, 0]).ToArray());
        Assert.Throws<InvalidDataException>(() => RecordHeader.PayloadOf([2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 7, 8]).ToArray());
        Assert.Throws<InvalidDataException>(() => RecordHeader.PayloadOf([2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).ToArray());
    }

    [Fact]
    public void RecordTypeValues_ArePinned()
    {
        Assert.Equal(1, (byte)RecordType.String);
        Assert.Equal(2, (byte)RecordType.Hash);
        Assert.Equal(3, (byte)RecordType.Set);
        Assert.Equal(4, (byte)RecordType.SortedSet);
        Assert.Equal(5, (byte)RecordType.List);
        Assert.Equal(6, (byte)RecordType.Part);
        Assert.Equal(7, (byte)RecordType.Stream);
        Assert.Equal(255, (byte)RecordType.Metadata);
    }

    [Fact]
    public void Read_NewerVersion_IsRefusedWithClearMessage()
    {
        byte[] bytes = [3, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => RecordHeader.Read(bytes));
        Assert.Contains("newer Durable", error.Message, StringComparison.Ordinal);
    }
}
