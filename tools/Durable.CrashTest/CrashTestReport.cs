namespace Durable.CrashTest;

/// <summary>What a crash-test run found. <see cref="Passed"/> is true when no acknowledged write was lost or altered.</summary>
internal sealed class CrashTestReport
{
    public int Rounds { get; set; }

    /// <summary>Starts killed while the server recovered (<see cref="CrashTestOptions.RecoveryKillPercent"/>).</summary>
    public int InterruptedStarts { get; set; }
    public long AcknowledgedSets { get; set; }
    public long AcknowledgedIncrements { get; set; }
    public long AcknowledgedMembers { get; set; }

    /// <summary>GETs of earlier acknowledged keys during the load.</summary>
    public long Reads { get; set; }

    /// <summary>GETs during the load that found an acknowledged key missing or holding another value.</summary>
    public long WrongReads { get; set; }

    /// <summary>Acknowledged operations on the churn keys (adds, removals of the oldest member, closing RENAMEs, COPYs, DELs and PEXPIREs, <see cref="ChurnSequence"/>; and the string churn's SETs and DELs, <see cref="StringChurn"/>).</summary>
    public long AcknowledgedChurnOperations { get; set; }

    /// <summary>Acknowledged operations of the database churn (SETs and HSETs in database 1, SWAPDB 1 2, FLUSHDB; <see cref="DatabaseChurn"/>).</summary>
    public long AcknowledgedDatabaseOperations { get; set; }

    /// <summary>Acknowledged collection members (HSET, SADD, ZADD, RPUSH) missing after a restart, and acknowledged churn operations undone.</summary>
    public long LostMembers { get; set; }

    /// <summary>Collections whose length (HLEN, SCARD, ZCARD, LLEN) differs from what listing them returns, and churn keys in a state no prefix of their operations leaves.</summary>
    public long InconsistentCollections { get; set; }

    /// <summary>Acknowledged SETs whose key was missing after a restart, and acknowledged string and database churn operations undone.</summary>
    public long LostWrites { get; set; }

    /// <summary>Counters below their acknowledged value.</summary>
    public long LostIncrements { get; set; }

    /// <summary>Counters above acknowledged + in flight: an increment applied twice.</summary>
    public long DoubleAppliedIncrements { get; set; }

    /// <summary>Keys or members holding a value no client ever sent, or present although no client wrote them (or after a missing one).</summary>
    public long ForeignValues { get; set; }

    /// <summary>Clients and rounds where an acknowledged SET was lost although a later SET of the same client survived.</summary>
    public long Holes { get; set; }

    /// <summary>Keys that lost their TTL, or gained one.</summary>
    public long WrongTimesToLive { get; set; }

    /// <summary>Rounds where DBSIZE or a full SCAN counted other keys than the writers found.</summary>
    public long WrongKeyCounts { get; set; }

    /// <summary>
    /// Durable only: records left after the final FLUSHALL besides the database map, once the background reaper is done:
    /// parts of a dropped collection that nothing will ever delete (<see cref="CrashTestRunner"/>, VerifyNoOrphanedRecords).
    /// </summary>
    public long OrphanedRecords { get; set; }

    /// <summary>Largest number of acknowledged writes lost by one client in one round.</summary>
    public long WorstLossPerClient { get; private set; }

    /// <summary>Where <see cref="WorstLossPerClient"/> was: the round, and the first and last writes lost.</summary>
    public string WorstLoss { get; private set; } = "";

    /// <summary>Notes <paramref name="lost"/> acknowledged writes lost in one round by one client, <paramref name="first"/> to <paramref name="last"/>.</summary>
    public void NoteLoss(long lost, string first, string last)
    {
        if (lost > WorstLossPerClient)
        {
            WorstLossPerClient = lost;
            WorstLoss = $" (after kill {Rounds}: {first} .. {last})";
        }
    }

    /// <summary>
    /// Notes that of <paramref name="acknowledged"/> operations of a sequence (<paramref name="sequence"/>) only the first
    /// <paramref name="survived"/> did (as lost writes); <paramref name="problem"/> is reported unless the policy is lossy.
    /// </summary>
    public void NoteLostOperations(string sequence, long survived, long acknowledged, bool lossy, string problem)
    {
        if (survived >= acknowledged)
        {
            return;
        }

        long lost = acknowledged - survived;
        LostWrites += lost;
        NoteLoss(lost, $"{sequence} operation {survived}", $"operation {acknowledged - 1}");
        if (!lossy)
        {
            Problems.Add(problem);
        }
    }

    public List<string> Problems { get; } = [];

    public bool Passed(long allowedLossPerClient) =>
        DoubleAppliedIncrements == 0 && ForeignValues == 0 && Holes == 0 && WrongReads == 0 && InconsistentCollections == 0 && WrongTimesToLive == 0 && WrongKeyCounts == 0 && OrphanedRecords == 0 &&
        (allowedLossPerClient == 0 ? LostWrites == 0 && LostIncrements == 0 && LostMembers == 0 : WorstLossPerClient <= allowedLossPerClient);

    public override string ToString() =>
        $"{Rounds} kills{(InterruptedStarts > 0 ? $" (and {InterruptedStarts} while starting)" : string.Empty)}, {AcknowledgedSets} acknowledged SETs, {AcknowledgedIncrements} INCRs, {AcknowledgedMembers} collection members and {AcknowledgedChurnOperations} churn operations, {AcknowledgedDatabaseOperations} database operations, {Reads} reads during the load: " +
        $"{LostWrites} lost writes, {LostIncrements} lost increments, {LostMembers} lost members, {DoubleAppliedIncrements} double-applied increments, " +
        $"{ForeignValues} values never written, {Holes} lost writes followed by surviving ones, {InconsistentCollections} inconsistent collections, " +
        $"{WrongTimesToLive} wrong TTLs, {WrongKeyCounts} wrong key counts, {WrongReads} wrong reads, {OrphanedRecords} orphaned records, worst loss per client and round {WorstLossPerClient}{WorstLoss}";
}
