namespace Durable.Server.Tests;

/// <summary>ACL's read-only subcommands and categories for the default user, against redis-server (users: <see cref="AclUserTests"/>).</summary>
public sealed class AclCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void ReadOnlySubcommands_AsRedisForTheDefaultUser()
    {
        using ReplyComparison both = servers.Compare();
        foreach (string protocol in new[] { "2", "3" })
        {
            both.Durable.Call("HELLO", protocol);
            both.Redis.Call("HELLO", protocol);
            string[][] commands =
            [
                ["ACL", "WHOAMI"], ["ACL", "GETUSER", "default"], ["ACL", "GETUSER", "nouser"], ["ACL", "CAT"],
                ["ACL", "CAT", "nosuch"], ["ACL", "CAT", "string", "x"], ["ACL", "LOG", "RESET"], ["ACL", "LOG", "x"],
                ["ACL", "LOG", "1", "2"], ["ACL", "DRYRUN", "default", "get", "x"], ["ACL", "DRYRUN", "nouser", "get", "x"],
                ["ACL", "DRYRUN", "default", "nocmd"], ["ACL", "DRYRUN", "default", "set"], ["ACL", "DRYRUN", "default", "config", "get", "x"],
                ["ACL", "DRYRUN", "default", "config"], ["ACL", "DRYRUN", "default", "config", "nosub"], ["ACL", "DRYRUN", "default"],
                ["ACL", "GENPASS", "0"], ["ACL", "GENPASS", "4097"], ["ACL", "GENPASS", "x"], ["ACL", "GENPASS", "1", "2"], ["ACL", "HELP"], ["ACL", "BOGUS"],
                ["ACL"], ["ACL", "WHOAMI", "x"],
            ];
            foreach (string[] command in commands)
            {
                both.Same(command);
            }
        }

        // GENPASS: as many hex digits as the bits need.
        Assert.Matches("^\\$64\\r\\n[0-9a-f]{64}\\r\\n$", both.Durable.Call("ACL", "GENPASS"));
        Assert.Matches("^\\$2\\r\\n[0-9a-f]{2}\\r\\n$", both.Durable.Call("ACL", "GENPASS", "5"));

    }

    // The log of denials, on servers of this test's own (other tests' failed AUTHs reach a shared redis-server's log).
    [Fact]
    public async Task Log_IsEmptyWhereNothingWasDenied()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison both = pair.Compare();
        both.Same("ACL", "LOG");
        both.Same("ACL", "LOG", "5");
        both.Same("ACL", "LOG", "RESET");
    }

    // Redis lists a category's commands in its hash table's order, and has commands Durable does not (Durable has two
    // of Redis 7.2's CLIENT subcommands Redis 7.0 does not): every command both have is listed under the same categories.
    [Theory]
    [InlineData("string")]
    [InlineData("admin")]
    [InlineData("scripting")]
    [InlineData("slow")]
    public void Cat_ListsTheRegisteredCommandsOfTheCategory(string category)
    {
        using ReplyComparison both = servers.Compare();
        HashSet<string> redis = [.. Items(both.Redis.Call("ACL", "CAT", category))];
        List<string> durable = Items(both.Durable.Call("ACL", "CAT", category));
        Assert.All(durable.Where(name => Has(both.Redis, name)), name => Assert.Contains(name, redis));
        Assert.All(redis.Where(name => Has(both.Durable, name)), name => Assert.Contains(name, durable));
    }

    // A command's COMMAND INFO entry is an array of ten; an unknown one's is a null.
    private static bool Has(Durable.Testing.RespTestClient server, string name) => server.Call("COMMAND", "INFO", name).StartsWith("*1\r\n*10\r\n", StringComparison.Ordinal);

    private static List<string> Items(string reply) => [.. reply.Split("\r\n").Skip(1).Where((line, i) => i % 2 == 1)];
}
