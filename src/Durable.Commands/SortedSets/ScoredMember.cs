namespace Durable.Commands.SortedSets;

/// <summary>One member of a sorted set with its score; sets are ordered by score, then by member bytes (memcmp).</summary>
internal readonly record struct ScoredMember(byte[] Member, double Score)
{
    /// <summary>Redis's skiplist order: score first (-0 equals 0), then the member bytes as memcmp, shorter first.</summary>
    public static int Compare(double leftScore, ReadOnlySpan<byte> leftMember, double rightScore, ReadOnlySpan<byte> rightMember) =>
        leftScore < rightScore ? -1 : leftScore > rightScore ? 1 : leftMember.SequenceCompareTo(rightMember);
}
