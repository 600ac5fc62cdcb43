using System.IO.Hashing;

namespace Durable.Commands.Sets;

/// <summary>
/// Compares members by their bytes, and looks them up by span without copying them (the dictionaries' alternate
/// lookup). <see cref="StableHash"/> is the same in every process, for SSCAN cursors.
/// </summary>
internal sealed class MemberComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly MemberComparer Instance = new();

    private MemberComparer()
    {
    }

    public static ulong StableHash(ReadOnlySpan<byte> member) => XxHash3.HashToUInt64(member);

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        HashCode hash = default;
        hash.AddBytes(alternate);
        return hash.ToHashCode();
    }

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
