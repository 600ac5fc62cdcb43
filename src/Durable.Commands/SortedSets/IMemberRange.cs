namespace Durable.Commands.SortedSets;

/// <summary>A range of a sorted set given by bounds (scores or members), as the BYSCORE and BYLEX commands take them.</summary>
internal interface IMemberRange
{
    bool AboveMin(ScoredMember member);

    bool BelowMax(ScoredMember member);
}
