using Durable.CrashTest;

namespace Durable.Server.Tests;

/// <summary>The crash tool's string churn: the state each prefix of operations leaves, and the prefix a state read back names.</summary>
public sealed class StringChurnTests
{
    private const long Operations = 3 * StringChurn.Cycle;

    [Fact]
    public void Operations_AppliedToAModel_LeaveTheStateEachPrefixNames()
    {
        Dictionary<string, long> model = [];
        for (long k = 0; k <= Operations; k++)
        {
            long?[] held = [.. Enumerable.Range(0, StringChurn.Keys).Select(slot => model.TryGetValue(StringChurn.Key(1, slot), out long held) ? (long?)held : null)];
            Assert.Equal(held, Enumerable.Range(0, StringChurn.Keys).Select(slot => StringChurn.Holder(k, slot)));
            Assert.Equal(k, StringChurn.OperationsFor(held, atMost: k));
            if (k == Operations)
            {
                break;
            }

            (string[] command, string reply) = StringChurn.Operation(1, k);
            Assert.Equal(StringChurn.Key(1, StringChurn.Slot(k)), command[1]);
            if (command[0] == "DEL")
            {
                Assert.True(model.Remove(command[1]));
                Assert.Equal(":1", reply);
            }
            else
            {
                Assert.Equal(StringChurn.Value(1, k), command[2]);
                Assert.Equal(StringChurn.Expires(k), command.Length == 5);
                // The expiring SET's key has expired before its next write: the model drops it at once.
                if (StringChurn.Expires(k))
                {
                    model.Remove(command[1]);
                }
                else
                {
                    model[command[1]] = k;
                }

                Assert.Equal("+OK", reply);
            }
        }
    }

    [Fact]
    public void OperationsFor_AnOldVersionBack_IsNull()
    {
        long operations = StringChurn.Cycle + 5;
        long?[] held = [.. Enumerable.Range(0, StringChurn.Keys).Select(slot => StringChurn.Holder(operations, slot))];
        Assert.Equal(operations, StringChurn.OperationsFor(held, atMost: operations + 1));
        // Key 0's value from the first cycle, which its expiring SET replaced: no prefix leaves it beside the others.
        held[0] = 0;
        Assert.Null(StringChurn.OperationsFor(held, atMost: operations + 1));
        // A key deleted at the end of the first cycle and not written since.
        held[0] = StringChurn.Holder(operations, 0);
        held[10] = (2 * StringChurn.Keys) + 10;
        Assert.Null(StringChurn.OperationsFor(held, atMost: operations + 1));
    }

    [Fact]
    public void OperationsFor_FewerOperationsThanAcknowledged_IsThatPrefix()
    {
        long?[] held = [.. Enumerable.Range(0, StringChurn.Keys).Select(slot => StringChurn.Holder(40, slot))];
        Assert.Equal(40, StringChurn.OperationsFor(held, atMost: 45));
    }
}
