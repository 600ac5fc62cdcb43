using Durable.CrashTest;

namespace Durable.Server.Tests;

/// <summary>The crash tool's database churn: the prefix that the contents of databases 1 and 2 name.</summary>
public sealed class DatabaseChurnTests
{
    // Three FLUSHDBs, each of the two databases flushed in turn.
    private const long Operations = 3 * DatabaseChurn.BlocksPerFlush * DatabaseChurn.BlockLength;

    [Fact]
    public void OperationsFor_TheStateOfAPrefix_IsThatPrefix()
    {
        DatabasePair state = new();
        HashSet<string> commands = [];
        for (long k = 0; k <= Operations; k++)
        {
            Assert.Equal(k, DatabaseChurn.OperationsFor(state, atMost: k));
            if (k < Operations)
            {
                state.Apply(k);
                commands.Add(DatabaseChurn.Operation(k).Command[0]);
            }
        }

        Assert.Equal(["SET", "HSET", "SWAPDB", "FLUSHDB"], commands);
    }

    [Fact]
    public void OperationsFor_AStateWithLostOperations_IsTheShorterPrefix()
    {
        DatabasePair state = new();
        for (long k = 0; k < 500; k++)
        {
            state.Apply(k);
        }

        Assert.Equal(500, DatabaseChurn.OperationsFor(state, atMost: 520));
        // Two SWAPDBs in a row leave what was there before them: the later prefix is the one reported.
        DatabasePair beforeSwaps = new();
        for (long k = 0; k < DatabaseChurn.BlockLength - 2; k++)
        {
            beforeSwaps.Apply(k);
        }

        Assert.Equal(DatabaseChurn.BlockLength, DatabaseChurn.OperationsFor(beforeSwaps, atMost: DatabaseChurn.BlockLength + 1));
    }

    [Fact]
    public void OperationsFor_AStateNoPrefixLeaves_IsNull()
    {
        DatabasePair state = new();
        for (long k = 0; k < 100; k++)
        {
            state.Apply(k);
        }

        // A key flushed or moved by a SWAPDB back in the other database, or a key never written.
        state.Database(second: true).Strings.Add(0);
        Assert.Null(DatabaseChurn.OperationsFor(state, atMost: 1_000));
        DatabasePair unwritten = new();
        unwritten.Database(second: false).Strings.Add(1);
        Assert.Null(DatabaseChurn.OperationsFor(unwritten, atMost: 1_000));
    }
}
