using Durable.CrashTest;

namespace Durable.Server.Tests;

/// <summary>The crash tool's churn keys: the state each prefix of operations leaves, and the prefix a state read back names.</summary>
public sealed class ChurnSequenceTests
{
    // Three generations close in each of the three ways; a fourth starts over.
    private const long Operations = 4 * ChurnSequence.OperationsPerGeneration;

    [Fact]
    public void Steps_AppliedToAModel_LeaveTheStateOfEachPrefix()
    {
        ChurnKind list = ChurnKind.All.Single(kind => kind.Name == "list");
        string key = list.Key(1);
        string renamedKey = list.RenamedKey(1);
        Dictionary<string, List<long>> model = new() { [key] = [], [renamedKey] = [] };
        HashSet<ClosingAction> seen = [];
        for (long k = 0; k < Operations; k++)
        {
            (long from, long to, bool inKey, bool inRenamed) = ChurnSequence.State(k);
            Assert.Equal(inKey ? Range(from, to) : [], model[key]);
            Assert.Equal(inRenamed ? Range(from, to) : [], model[renamedKey]);
            (ChurnStep step, long member) = ChurnSequence.Step(k);
            (string[] command, string reply, bool expires) = list.Operation(client: 1, k);
            Assert.Equal(command[0] == "PEXPIRE", expires);
            switch (step)
            {
                case ChurnStep.Add:
                    model[key].Add(member);
                    Assert.Equal($":{model[key].Count}", reply);
                    break;
                case ChurnStep.Remove:
                    Assert.Equal(model[key][0], member);
                    Assert.Equal($"$e{member}", reply);
                    model[key].RemoveAt(0);
                    break;
                default:
                    seen.Add(ChurnSequence.Closing(k).Action);
                    ApplyClosing(model, command, reply);
                    break;
            }

            Assert.InRange(model[key].Count, 0, ChurnSequence.Window + 1);
        }

        Assert.Equal(Enum.GetValues<ClosingAction>().Length, seen.Count);
    }

    [Fact]
    public void OperationsFor_TheStateOfAPrefix_IsThatPrefix()
    {
        for (long k = 0; k < Operations; k++)
        {
            (long from, long to, bool inKey, bool inRenamed) = ChurnSequence.State(k);
            List<long> held = Range(from, to);
            long? found = ChurnSequence.OperationsFor(inKey ? held : [], inRenamed ? held : [], atMost: k);
            // Both keys empty is the start of a generation: the latest one the operations can have reached.
            long expected = (inKey || inRenamed) && from < to ? k : k / ChurnSequence.OperationsPerGeneration * ChurnSequence.OperationsPerGeneration;
            Assert.Equal(expected, found);
        }
    }

    [Fact]
    public void OperationsFor_AStateTwoPrefixesLeave_IsTheLatestAcknowledged()
    {
        // The last window in the churn key alone: after the adds and removals, and again after a RENAME and a RENAME back.
        List<long> lastWindow = Range(ChurnSequence.AddsPerGeneration - ChurnSequence.Window, ChurnSequence.AddsPerGeneration);
        long generationTwo = 2 * ChurnSequence.OperationsPerGeneration;
        List<long> lastWindowTwo = [.. lastWindow.Select(member => member + (2 * ChurnSequence.AddsPerGeneration))];
        long bodyEnd = generationTwo + ChurnSequence.BodyOperations;
        Assert.Equal(bodyEnd, ChurnSequence.OperationsFor(lastWindowTwo, [], atMost: bodyEnd + 1));
        Assert.Equal(bodyEnd + 2, ChurnSequence.OperationsFor(lastWindowTwo, [], atMost: bodyEnd + 2));
        // Both prefixes beyond what was acknowledged: the smaller one, which the caller reports as never written.
        Assert.Equal(ChurnSequence.BodyOperations, ChurnSequence.OperationsFor(lastWindow, [], atMost: 10));
    }

    [Fact]
    public void OperationsFor_AStateNoPrefixLeaves_IsNull()
    {
        Assert.Null(ChurnSequence.OperationsFor([0, 1, 3], [], atMost: 10));
        Assert.Null(ChurnSequence.OperationsFor([1, 0], [], atMost: 10));
        // Members 5 .. 10 removed from the front but only 11 added: removals begin once the window is full.
        Assert.Null(ChurnSequence.OperationsFor(Range(5, 11), [], atMost: 100));
        // A window wider than W + 1.
        Assert.Null(ChurnSequence.OperationsFor(Range(10, 10 + ChurnSequence.Window + 2), [], atMost: 10_000));
        // Across two generations.
        Assert.Null(ChurnSequence.OperationsFor(Range(ChurnSequence.AddsPerGeneration - 5, ChurnSequence.AddsPerGeneration + 5), [], atMost: 10_000));
        // The second key holds the generation's last window, and only while the churn key holds that or nothing.
        List<long> lastWindow = Range(ChurnSequence.AddsPerGeneration - ChurnSequence.Window, ChurnSequence.AddsPerGeneration);
        Assert.Equal(ChurnSequence.BodyOperations + 1, ChurnSequence.OperationsFor([], lastWindow, atMost: 10_000));
        Assert.Equal(ChurnSequence.BodyOperations + 2, ChurnSequence.OperationsFor(lastWindow, lastWindow, atMost: 10_000));
        Assert.Null(ChurnSequence.OperationsFor([ChurnSequence.AddsPerGeneration], lastWindow, atMost: 10_000));
        Assert.Null(ChurnSequence.OperationsFor(lastWindow[1..], lastWindow, atMost: 10_000));
        Assert.Null(ChurnSequence.OperationsFor([], lastWindow[1..], atMost: 10_000));
        // Both keys holding the last window after a generation that closes by RENAME back (the third way) never happens.
        List<long> lastWindowTwo = [.. lastWindow.Select(member => member + (2 * ChurnSequence.AddsPerGeneration))];
        Assert.Null(ChurnSequence.OperationsFor(lastWindowTwo, lastWindowTwo, atMost: 100_000));
    }

    // A closing step on the model, as a server applies it (an expired key holds nothing), with the reply it gives.
    private static void ApplyClosing(Dictionary<string, List<long>> model, string[] command, string reply)
    {
        switch (command[0])
        {
            case "RENAME":
                Assert.NotEmpty(model[command[1]]);
                model[command[2]] = model[command[1]];
                model[command[1]] = [];
                Assert.Equal("+OK", reply);
                break;
            case "COPY":
                Assert.Empty(model[command[2]]);
                model[command[2]] = [.. model[command[1]]];
                Assert.Equal(":1", reply);
                break;
            case "DEL" or "UNLINK":
                Assert.All(command[1..], key => Assert.Equal(ChurnSequence.Window, model[key].Count));
                Assert.Equal($":{command.Length - 1}", reply);
                command[1..].ToList().ForEach(key => model[key] = []);
                break;
            default:
                Assert.Equal(["PEXPIRE", command[1], ChurnKind.ExpireMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)], command);
                Assert.Equal(ChurnSequence.Window, model[command[1]].Count);
                Assert.Equal(":1", reply);
                model[command[1]] = [];
                break;
        }
    }

    private static List<long> Range(long from, long to) => [.. Enumerable.Range(0, (int)(to - from)).Select(i => from + i)];
}
