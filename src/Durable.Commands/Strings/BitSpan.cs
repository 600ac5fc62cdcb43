using System.Numerics;
using System.Runtime.InteropServices;

namespace Durable.Commands.Strings;

/// <summary>
/// Bit-level primitives over a bitmap held in a byte span. Bit 0 is the most significant bit of byte 0, as in
/// Redis's SETBIT. Nothing here allocates.
/// </summary>
internal static class BitSpan
{
    /// <summary>Number of set bits (Redis redisPopcount).</summary>
    public static long PopCount(ReadOnlySpan<byte> bytes)
    {
        long count = 0;
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong word in words)
        {
            count += BitOperations.PopCount(word);
        }

        for (int i = words.Length * sizeof(ulong); i < bytes.Length; i++)
        {
            count += BitOperations.PopCount(bytes[i]);
        }

        return count;
    }

    /// <summary>
    /// Position of the first bit equal to <paramref name="bit"/> (Redis redisBitpos): when looking for a 0 and
    /// none is found, the bitmap counts as zero-padded on the right and the result is the bit length; when
    /// looking for a 1 and none is found, -1.
    /// </summary>
    public static long FindFirst(ReadOnlySpan<byte> bytes, int bit)
    {
        byte skip = bit == 1 ? (byte)0 : (byte)0xFF;
        int index = bytes.IndexOfAnyExcept(skip);
        if (index < 0)
        {
            return bit == 1 ? -1 : (long)bytes.Length * 8;
        }

        uint candidate = bit == 1 ? bytes[index] : (uint)(byte)~bytes[index];
        return ((long)index * 8) + BitOperations.LeadingZeroCount(candidate) - 24;
    }

    /// <summary><paramref name="target"/>[i] = <paramref name="target"/>[i] op <paramref name="source"/>[i] for every byte of <paramref name="source"/>.</summary>
    public static void Combine(BitOperator op, Span<byte> target, ReadOnlySpan<byte> source)
    {
        target = target[..source.Length];
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                Vector<byte> a = new(target[i..]);
                Vector<byte> b = new(source[i..]);
                Vector<byte> result = op switch
                {
                    BitOperator.And => a & b,
                    BitOperator.Or => a | b,
                    _ => a ^ b,
                };
                result.CopyTo(target[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            target[i] = op switch
            {
                BitOperator.And => (byte)(target[i] & source[i]),
                BitOperator.Or => (byte)(target[i] | source[i]),
                _ => (byte)(target[i] ^ source[i]),
            };
        }
    }

    /// <summary>Flips every bit of <paramref name="bytes"/> in place.</summary>
    public static void Invert(Span<byte> bytes)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= bytes.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                (~new Vector<byte>(bytes[i..])).CopyTo(bytes[i..]);
            }
        }

        for (; i < bytes.Length; i++)
        {
            bytes[i] = (byte)~bytes[i];
        }
    }
}
