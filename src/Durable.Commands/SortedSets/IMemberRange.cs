namespace Durable.Commands.SortedSets;

/// <summary>A range of a sorted set given by bounds (scores or members), as the BYSCORE and BYLEX commands take them.</summary>
internal interface IMemberRange
{
    bool AboveMin(ScoredMember member);

    bool BelowMax(ScoredMember member);

    /// <summary>
    /// The ranks [first, end) of the members in range, walking as Redis does: from the first member not below min, while
    /// members stay below max (for lex ranges meaningful when all scores are equal, as the commands require).
    /// </summary>
    (int First, int End) Ranks(SortedSetValue set)
    {
        List<ScoredMember> items = set.Items;
        int first = 0;
        while (first < items.Count && !AboveMin(items[first]))
        {
            first++;
        }

        int end = first;
        while (end < items.Count && BelowMax(items[end]))
        {
            end++;
        }

        return (first, end);
    }
}
