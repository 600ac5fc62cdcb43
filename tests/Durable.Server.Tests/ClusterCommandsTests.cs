namespace Durable.Server.Tests;

/// <summary>The cluster commands as a redis-server without cluster-enabled answers them, which is what clients probe for.</summary>
public sealed class ClusterCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void ClusterCommands_AnswerAsAStandaloneRedis()
    {
        using ReplyComparison both = servers.Compare();
        string[][] commands =
        [
            ["CLUSTER", "INFO"], ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "MYID"], ["CLUSTER", "HELP"],
            ["CLUSTER", "KEYSLOT", "key"], ["CLUSTER", "KEYSLOT"], ["CLUSTER", "SETSLOT", "1"], ["CLUSTER", "FOO"], ["CLUSTER"], ["cluster", "info", "x"],
            ["ASKING"], ["READONLY"], ["READWRITE"], ["READONLY", "x"], ["COMMAND", "INFO", "cluster|slots", "cluster|reset", "asking", "readwrite"],
            ["COMMAND", "GETKEYS", "CLUSTER", "INFO"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        both.Same("MULTI");
        both.Same("CLUSTER", "INFO");
        both.Same("EXEC");
        both.Same("EVAL", "return redis.pcall('cluster', 'info')", "0");
    }
}
