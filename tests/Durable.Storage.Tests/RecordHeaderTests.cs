
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

    [Fact]
    public void RecordTypeValues_ArePinned()
    {
        Assert.Equal(1, (byte)RecordType.String);
        Assert.Equal(2, (byte)RecordType.Hash);
        Assert.Equal(3, (byte)RecordType.Set);
        Assert.Equal(4, (byte)RecordType.SortedSet);
        Assert.Equal(5, (byte)RecordType.List);
        Assert.Equal(6, (byte)RecordType.Part);
        Assert.Equal(255, (byte)RecordType.Metadata);
    }

    [Fact]
    public void Read_NewerVersion_IsRefusedWithClearMessage()
    {
        byte[] bytes = [2, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => RecordHeader.Read(bytes));
        Assert.Contains("newer Durable", error.Message, StringComparison.Ordinal);
    }
}
