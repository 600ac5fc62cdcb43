using System.Text;
using Durable.Commands.Scripting;

namespace Durable.Commands.Tests;

/// <summary>
/// The formats the function libraries are kept and moved in: the server record (Durable's, versioned, pinned here) and
/// the DUMP payload's pieces of Redis's RDB format (its CRC-64, string encodings and LZF).
/// </summary>
public sealed class FunctionPersistenceFormatTests
{
    // Golden bytes: this layout is on disk. If this test fails, you changed a persisted format: add a version instead.
    [Fact]
    public void LibrariesRecord_IsPinned()
    {
        byte[] bytes = FunctionLibrariesRecord.Encode([Encoding.ASCII.GetBytes("#!lua name=a\nx"), [0xFF]]);
        Assert.Equal([1, 2, 0, 0, 0, 14, 0, 0, 0, .. "#!lua name=a\nx"u8.ToArray(), 1, 0, 0, 0, 0xFF], bytes);
        Assert.Equal("functions"u8.ToArray(), FunctionLibrariesRecord.Name.ToArray());
        List<byte[]> decoded = FunctionLibrariesRecord.Decode(bytes);
        Assert.Equal(2, decoded.Count);
        Assert.Equal("#!lua name=a\nx"u8.ToArray(), decoded[0]);
        Assert.Equal(new byte[] { 0xFF }, decoded[1]);
        Assert.Empty(FunctionLibrariesRecord.Decode([1, 0, 0, 0, 0]));
    }

    [Fact]
    public void LibrariesRecord_OfANewerBuildOrDamaged_IsRefused()
    {
        Assert.Contains("newer Durable", Assert.Throws<InvalidDataException>(() => FunctionLibrariesRecord.Decode([2, 0, 0, 0, 0])).Message);
        Assert.Contains("shorter than its header", Assert.Throws<InvalidDataException>(() => FunctionLibrariesRecord.Decode([1, 0])).Message);
        Assert.Contains("ends inside library 1 of 1", Assert.Throws<InvalidDataException>(() => FunctionLibrariesRecord.Decode([1, 1, 0, 0, 0, 5, 0, 0, 0, 1])).Message);
        Assert.Contains("after its 0 libraries", Assert.Throws<InvalidDataException>(() => FunctionLibrariesRecord.Decode([1, 0, 0, 0, 0, 9])).Message);
    }

    [Fact]
    public void Crc64_IsRedisJones()
    {
        // Redis's crc64 test vector (crc64.c).
        Assert.Equal(0xe9c6d914c4b8d9caUL, RdbPayload.Crc64(0, "123456789"u8));
    }

    [Theory]
    [InlineData("5", "C005")]
    [InlineData("-128", "C080")]
    [InlineData("300", "C12C01")]
    [InlineData("-70000", "C290EEFEFF")]
    [InlineData("012", "03303132")]
    [InlineData("12345678901", "0B3132333435363738393031")]
    public void Strings_AreEncodedAsRedisEncodesThem(string value, string expectedHex)
    {
        byte[] expected = Convert.FromHexString(expectedHex);
        System.Buffers.ArrayBufferWriter<byte> output = new();
        RdbPayload.WriteString(output, Encoding.ASCII.GetBytes(value));
        Assert.Equal(expected, output.WrittenSpan.ToArray());
        int position = 0;
        Assert.Equal(value, Encoding.ASCII.GetString(RdbPayload.ReadString(output.WrittenSpan, ref position)!));
        Assert.Equal(expected.Length, position);
    }

    [Fact]
    public void Lzf_RoundTripsWhatItCompresses()
    {
        const string Text = "redis.register_function('f', function() end)\n";
        Random random = new(42);
        for (int round = 0; round < 300; round++)
        {
            // Text with repeats (what compresses) and random bytes (what does not), of many lengths.
            int length = random.Next(21, 5000);
            byte[] input = new byte[length];
            for (int i = 0; i < length; i++)
            {
                input[i] = round % 3 == 0 ? (byte)random.Next(256) : (byte)Text[(i * 7 / (1 + (round % 5))) % Text.Length];
            }

            System.Buffers.ArrayBufferWriter<byte> output = new();
            RdbPayload.WriteString(output, input);
            int position = 0;
            Assert.Equal(input, RdbPayload.ReadString(output.WrittenSpan, ref position));
            Assert.Equal(output.WrittenCount, position);
        }
    }

    [Fact]
    public void Payload_FooterIsCheckedForVersionAndChecksum()
    {
        System.Buffers.ArrayBufferWriter<byte> payload = new();
        RdbPayload.WriteString(payload, "#!lua name=a\n"u8);
        RdbPayload.Seal(payload);
        byte[] sealedPayload = payload.WrittenSpan.ToArray();
        Assert.True(RdbPayload.Verify(sealedPayload));
        sealedPayload[0] ^= 1;
        Assert.False(RdbPayload.Verify(sealedPayload));
        Assert.False(RdbPayload.Verify(new byte[9]));
    }
}
