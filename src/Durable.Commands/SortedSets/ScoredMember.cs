namespace Durable.Commands.SortedSets;

/// <summary>One member of a sorted set with its score; sets are ordered by score, then by member bytes (memcmp).</summary>
internal readonly record struct ScoredMember(byte[] Member, double Score)
{
    /// <summary>Redis's skiplist order: score first (-0 equals 0), then the member bytes as memcmp, shorter first.</summary>
    public static int Compare(double leftScore, ReadOnlySpan<byte> leftMember, double rightScore, ReadOnlySpan<byte> rightMember) =>
        leftScore < rightScore ? -1 : leftScore > rightScore ? 1 : leftMember.SequenceCompareTo(rightMember);

    /// <summary>The index of (score, member) in <paramref name="items"/> (in order), or the complement of where it would go.</summary>
    public static int Search(List<ScoredMember> items, double score, ReadOnlySpan<byte> member)
    {
        int low = 0;
        int high = items.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            int order = Compare(items[middle].Score, items[middle].Member, score, member);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return ~low;
    }

    /// <summary>A score as a sorted set stores it: 8 bytes, little-endian IEEE 754.</summary>
    public static byte[] ScoreBytes(double score)
    {
        byte[] bytes = new byte[sizeof(double)];
        System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(bytes, score);
        return bytes;
    }

    /// <summary>A member and its stored score (<see cref="ScoreBytes"/>), as payload items hold them.</summary>
    public static ScoredMember FromItems(byte[] member, byte[] score) =>
        new(member, System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(score));
}
