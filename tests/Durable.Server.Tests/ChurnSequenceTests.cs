using Durable.CrashTest;

namespace Durable.Server.Tests;

/// <summary>The crash tool's churn keys: the state each prefix of operations leaves, and the prefix a state read back names.</summary>
public sealed class ChurnSequenceTests
{
    [Fact]
    public void Steps_AppliedToAModel_LeaveTheStateOfEachPrefix()
    {
        List<long> model = [];
        List<long> renamed = [];
        for (long k = 0; k < 3 * ChurnSequence.OperationsPerGeneration; k++)
        {
            (long from, long to, bool inRenamed) = ChurnSequence.State(k);
            Assert.Equal(Range(from, to), inRenamed ? renamed : model);
            Assert.Empty(inRenamed ? model : renamed);
            (ChurnStep step, long member) = ChurnSequence.Step(k);
            switch (step)
            {
                case ChurnStep.Add:
                    model.Add(member);
                    break;
                case ChurnStep.Remove:
                    Assert.Equal(model[0], member);
                    model.RemoveAt(0);
                    break;
                case ChurnStep.Rename:
                    Assert.Equal(ChurnSequence.Window, model.Count);
                    renamed = model;
                    model = [];
                    break;
                default:
                    Assert.Equal(ChurnSequence.Window, renamed.Count);
                    renamed = [];
                    break;
            }

            Assert.InRange(model.Count, 0, ChurnSequence.Window + 1);
        }
    }

    [Fact]
    public void OperationsFor_TheStateOfAPrefix_IsThatPrefix()
    {
        for (long k = 0; k < 3 * ChurnSequence.OperationsPerGeneration; k++)
        {
            (long from, long to, bool inRenamed) = ChurnSequence.State(k);
            long? found = inRenamed ? ChurnSequence.OperationsFor([], Range(from, to), atMost: k + 1) : ChurnSequence.OperationsFor(Range(from, to), [], atMost: k + 1);
            // Both keys empty is the start of a generation: the latest one the operations can have reached.
            long expected = from == to ? (k + 1) / ChurnSequence.OperationsPerGeneration * ChurnSequence.OperationsPerGeneration : k;
            Assert.Equal(expected, found);
        }
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
        // The renamed key holds the generation's last window, and only while the churn key is empty.
        List<long> lastWindow = Range(ChurnSequence.AddsPerGeneration - ChurnSequence.Window, ChurnSequence.AddsPerGeneration);
        Assert.Equal(ChurnSequence.OperationsPerGeneration - 1, ChurnSequence.OperationsFor([], lastWindow, atMost: 10_000));
        Assert.Null(ChurnSequence.OperationsFor([ChurnSequence.AddsPerGeneration], lastWindow, atMost: 10_000));
        Assert.Null(ChurnSequence.OperationsFor([], lastWindow[1..], atMost: 10_000));
    }

    [Fact]
    public void ListPushReplies_AreTheLengthAfterThePush()
    {
        ChurnKind list = ChurnKind.All.Single(kind => kind.Name == "list");
        int length = 0;
        for (long k = 0; k < 2 * ChurnSequence.OperationsPerGeneration; k++)
        {
            (string[] command, string reply) = list.Operation(client: 1, k);
            switch (command[0])
            {
                case "RPUSH":
                    length++;
                    Assert.Equal($":{length}", reply);
                    break;
                case "LPOP":
                    length--;
                    break;
                case "RENAME":
                    Assert.Equal("+OK", reply);
                    length = 0;
                    break;
                default:
                    Assert.Equal(["DEL", list.RenamedKey(1)], command);
                    break;
            }
        }
    }

    private static List<long> Range(long from, long to) => [.. Enumerable.Range(0, (int)(to - from)).Select(i => from + i)];
}
