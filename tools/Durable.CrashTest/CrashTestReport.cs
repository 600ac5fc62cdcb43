namespace Durable.CrashTest;

/// <summary>What a crash-test run found. <see cref="Passed"/> is true when no acknowledged write was lost or altered.</summary>
internal sealed class CrashTestReport
{
    public int Rounds { get; set; }
    public long AcknowledgedSets { get; set; }
    public long AcknowledgedIncrements { get; set; }

    /// <summary>Acknowledged SETs whose key was missing after a restart.</summary>
    public long LostWrites { get; set; }

    /// <summary>Counters below their acknowledged value.</summary>
    public long LostIncrements { get; set; }

    /// <summary>Counters above acknowledged + in flight: an increment applied twice.</summary>
    public long DoubleAppliedIncrements { get; set; }

    /// <summary>Keys holding a value no client ever sent, or keys no client ever wrote.</summary>
    public long ForeignValues { get; set; }

    /// <summary>Largest number of acknowledged writes lost by one client in one round.</summary>
    public long WorstLossPerClient { get; set; }

    public List<string> Problems { get; } = [];

    public bool Passed(long allowedLossPerClient) =>
        DoubleAppliedIncrements == 0 && ForeignValues == 0 && (allowedLossPerClient == 0 ? LostWrites == 0 && LostIncrements == 0 : WorstLossPerClient <= allowedLossPerClient);

    public override string ToString() =>
        $"{Rounds} kills, {AcknowledgedSets} acknowledged SETs and {AcknowledgedIncrements} acknowledged INCRs: " +
        $"{LostWrites} lost writes, {LostIncrements} lost increments, {DoubleAppliedIncrements} double-applied increments, " +
        $"{ForeignValues} values never written, worst loss per client and round {WorstLossPerClient}";
}
