using System.Text.RegularExpressions;
using Durable.Commands;

namespace Durable.Server.Tests;

public sealed partial class CommandCommandsTests(ReferenceServers servers)
{
    // Where we differ from Redis 7.0 on purpose. PING: Durable answers it while loading (STYLE.md section 8).
    // CLIENT SETINFO, NO-TOUCH and WAITAOF: Redis 7.2 commands, which 7.0.15 does not have.
    private static readonly HashSet<string> s_knownDifferences = ["ping", "client|setinfo", "client|no-touch", "waitaof"];

    [Fact]
    public void CommandInfo_EveryRegisteredCommand_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        foreach (CommandDefinition command in servers.Durable.State.Commands.All.Where(c => !s_knownDifferences.Contains(c.FullName)))
        {
            if (command.SubCommands is null)
            {
                both.Same("COMMAND", "INFO", command.FullName);
                continue;
            }

            // A container's subcommands come in hash order in Redis; compare each subcommand on its own.
            foreach (CommandDefinition sub in command.SubCommands.Values.Where(s => !s_knownDifferences.Contains(s.FullName)))
            {
                both.Same("COMMAND", "INFO", sub.FullName);
            }
        }
    }

    [Fact]
    public void CommandInfo_UnknownAndSeveral_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("COMMAND", "INFO", "get", "nosuch", "SET");
        both.Same("COMMAND", "INFO", "client|nosuch");
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        both.Same("COMMAND", "INFO", "get", "nosuch", "config|get");
    }

    [Fact]
    public void CommandDocs_SimpleCommands_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("COMMAND", "DOCS", "get");
        both.Same("COMMAND", "DOCS", "set", "nosuch", "swapdb");
        both.Same("COMMAND", "DOCS", "client|list");
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        both.Same("COMMAND", "DOCS", "set", "hello");
    }

    [Fact]
    public void CommandDocs_Container_ListsOnlyRegisteredSubcommands()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string docs = client.Call("COMMAND", "DOCS", "script");
        Assert.Contains("script|load", docs, StringComparison.Ordinal);
        Assert.DoesNotContain("script|debug", docs, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandGetKeys_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("COMMAND", "GETKEYS", "SET", "a", "b");
        both.Same("COMMAND", "GETKEYS", "DEL", "a", "b", "c");
        both.Same("COMMAND", "GETKEYS", "nosuch", "a");
        both.Same("COMMAND", "GETKEYS", "ping", "x");
        both.Same("COMMAND", "GETKEYS", "set", "a");
        both.Same("COMMAND", "GETKEYS", "get");
        both.Same("COMMAND", "GETKEYS", "client", "nosuch");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b", "GET");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "DEL", "a", "b");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "GET", "a");
    }

    [Theory]
    [InlineData("zunionstore d 2 a b")]
    [InlineData("zunionstore d 3 a b")]
    [InlineData("zunionstore d x a b")]
    [InlineData("zunionstore d -1 a")]
    [InlineData("zunionstore d 0 a")]
    [InlineData("zunionstore d 1x a b")]
    [InlineData("zinterstore d 4294967297 a")]
    [InlineData("zdiffstore d \t2 a b")]
    [InlineData("zunion 2 a b")]
    [InlineData("zinter 3 a b")]
    [InlineData("zmpop 1 a MIN")]
    [InlineData("zmpop 5 a MIN")]
    [InlineData("bzmpop 0 2 a b MAX")]
    [InlineData("lmpop 2x a b LEFT")]
    [InlineData("blmpop 0 x a LEFT")]
    [InlineData("sintercard 2 a b")]
    [InlineData("sintercard +1 a")]
    [InlineData("zintercard 9 a")]
    public void CommandGetKeys_NumKeysCommands_MatchRedis(string command)
    {
        // Redis reads numkeys by the key specs, and when they do not fit, by the command's getkeys procedure (atoi,
        // keys before the destination), or finds no key.
        using ReplyComparison both = servers.Compare();
        both.Same(["COMMAND", "GETKEYS", .. command.Split(' ')]);
        both.Same(["COMMAND", "GETKEYSANDFLAGS", .. command.Split(' ')]);
    }

    [Fact]
    public void CommandList_AndCount_CoverTheTable()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("COMMAND", "LIST", "FILTERBY", "FOO", "x");
        both.Same("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch");
        both.Same("COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch");
        both.Same("COMMAND", "LIST", "extra");
        both.Same("COMMAND", "COUNT", "x");

        string[] ours = Bulks(both.Durable.Call("COMMAND", "LIST"));
        Assert.Contains("client|list", ours);
        Assert.Contains("get", ours);
        Assert.Equal($":{ours.Count(n => !n.Contains('|', StringComparison.Ordinal))}\r\n", both.Durable.Call("COMMAND", "COUNT"));

        // Compared on the commands both servers have.
        HashSet<string> common = [.. ours.Intersect(Bulks(both.Redis.Call("COMMAND", "LIST")))];
        foreach (string[] filter in new string[][] { ["PATTERN", "client*"], ["PATTERN", "CONFIG|*"], ["ACLCAT", "admin"], ["ACLCAT", "CONNECTION"] })
        {
            string[] command = ["COMMAND", "LIST", "FILTERBY", .. filter];
            Assert.Equal(Bulks(both.Redis.Call(command)).Where(common.Contains).Order(), Bulks(both.Durable.Call(command)).Where(common.Contains).Order());
        }
    }

    [Fact]
    public void Command_BareAndHelp_MatchRedisShape()
    {
        using ReplyComparison both = servers.Compare();
        string all = both.Durable.Call("COMMAND");
        Assert.StartsWith($"*{servers.Durable.State.Commands.Count}\r\n*10\r\n", all, StringComparison.Ordinal);
        both.Same("COMMAND", "HELP");
    }

    private static string[] Bulks(string reply) => [.. BulkValue().Matches(reply).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"\$\d+\r\n([^\r]*)\r\n")]
    private static partial Regex BulkValue();
}
