using System.Buffers.Binary;
using System.Buffers.Text;
using Durable.Protocol;

namespace Durable.Commands.Streams;

/// <summary>
/// A stream entry ID, <c>ms-seq</c>, two unsigned 64-bit numbers ordered as a pair; parsed and printed as Redis 7.0's
/// t_stream.c does (streamGenericParseIDOrReply, string2ull, streamIncrID, streamDecrID).
/// </summary>
internal readonly record struct StreamId(ulong Ms, ulong Seq) : IComparable<StreamId>
{
    /// <summary>Stored size: ms then seq, big-endian, so that byte order is ID order.</summary>
    public const int Size = 16;

    public static readonly StreamId Min = new(0, 0);

    public static readonly StreamId Max = new(ulong.MaxValue, ulong.MaxValue);

    public const string InvalidIdError = "ERR Invalid stream ID specified as stream command argument";

    public int CompareTo(StreamId other) => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);

    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;

    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;

    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;

    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    /// <summary>The next ID (streamIncrID); false past the last possible one.</summary>
    public bool TryIncrement(out StreamId next)
    {
        // Decided before `next` is written: a caller may pass this very variable.
        bool fits = Seq != ulong.MaxValue || Ms != ulong.MaxValue;
        next = Seq != ulong.MaxValue ? new StreamId(Ms, Seq + 1) : new StreamId(unchecked(Ms + 1), 0);
        return fits;
    }

    /// <summary>The previous ID (streamDecrID); false before 0-0.</summary>
    public bool TryDecrement(out StreamId previous)
    {
        bool fits = Seq != 0 || Ms != 0;
        previous = Seq != 0 ? new StreamId(Ms, Seq - 1) : new StreamId(unchecked(Ms - 1), ulong.MaxValue);
        return fits;
    }

    public static StreamId Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Ms);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Seq);
    }

    /// <summary>Little-endian, as the stream's root keeps its IDs.</summary>
    public static StreamId ReadLittleEndian(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));

    public void WriteLittleEndianTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Ms);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Seq);
    }

    /// <summary>"ms-seq" as Redis prints it.</summary>
    public byte[] Format()
    {
        Span<byte> buffer = stackalloc byte[41];
        Utf8Formatter.TryFormat(Ms, buffer, out int written);
        buffer[written++] = (byte)'-';
        Utf8Formatter.TryFormat(Seq, buffer[written..], out int more);
        return buffer[..(written + more)].ToArray();
    }

    public override string ToString() => System.Text.Encoding.ASCII.GetString(Format());

    /// <summary>
    /// Redis streamGenericParseIDOrReply: "ms-seq", "ms" (seq = <paramref name="missingSeq"/>), and unless
    /// <paramref name="strict"/> "-" and "+". With <paramref name="allowAutoSeq"/> (XADD) "ms-*" parses with
    /// <paramref name="seqGiven"/> false. The text is taken as Redis's C string: up to 127 bytes, cut at a NUL.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, ulong missingSeq, bool strict, bool allowAutoSeq, out StreamId id, out bool seqGiven)
    {
        id = default;
        seqGiven = true;
        if (text.Length > 127)
        {
            return false;
        }

        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }

        if (text.Length == 1 && text[0] is (byte)'-' or (byte)'+')
        {
            if (strict)
            {
                return false;
            }

            id = text[0] == (byte)'-' ? Min : Max;
            return true;
        }

        int dash = text.IndexOf((byte)'-');
        ReadOnlySpan<byte> msText = dash >= 0 ? text[..dash] : text;
        if (!TryParseUnsigned(msText, out ulong ms))
        {
            return false;
        }

        ulong seq = missingSeq;
        if (dash >= 0)
        {
            ReadOnlySpan<byte> seqText = text[(dash + 1)..];
            if (allowAutoSeq && seqText.Length == 1 && seqText[0] == (byte)'*')
            {
                seq = 0;
                seqGiven = false;
            }
            else if (!TryParseUnsigned(seqText, out seq))
            {
                return false;
            }
        }

        id = new StreamId(ms, seq);
        return true;
    }

    /// <summary>
    /// Redis string2ull: a strict signed 64-bit integer (string2ll) that is not negative, else C's strtoull whole:
    /// leading white space, an optional sign (a minus negates modulo 2^64), at least one digit, nothing after, no overflow.
    /// </summary>
    internal static bool TryParseUnsigned(ReadOnlySpan<byte> text, out ulong value)
    {
        if (RedisNumber.TryParseInt64(text, out long signed))
        {
            value = (ulong)signed;
            return signed >= 0;
        }

        value = 0;
        int i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
        {
            i++;
        }

        bool negative = false;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
        {
            negative = text[i] == (byte)'-';
            i++;
        }

        if (i == text.Length)
        {
            return false;
        }

        for (; i < text.Length; i++)
        {
            if (text[i] is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            ulong digit = (ulong)(text[i] - '0');
            if (value > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        if (negative)
        {
            value = unchecked(0 - value);
        }

        return true;
    }
}
