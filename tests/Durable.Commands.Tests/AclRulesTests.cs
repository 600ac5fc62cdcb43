using Durable.Commands.Acl;
using Durable.Commands.Server;

namespace Durable.Commands.Tests;

/// <summary>The parts of ACL that redis-server cannot check byte for byte: the order of single command rules, and startup refusals.</summary>
public sealed class AclRulesTests
{
    private static readonly CommandTable s_table = CommandTable.CreateDefault();

    // Redis lists single command rules in its command table's hash order, which changes with every process; Durable
    // lists them by name, so ACL LIST and ACL SAVE write the same line for the same rules every time.
    [Fact]
    public void SingleCommandRules_AreDescribedInNameOrder()
    {
        AclUsers users = new(s_table, new ServerConfig());
        Assert.Null(users.SetUser("u", ["on", "+zadd", "+get", "+set", "-@all", "+set", "+append", "+client|id"], new ClientRegistry()));
        Assert.Equal("on resetchannels -@all +append +client|id +set", users.Find("u")!.Rules.Describe());
        Assert.Equal("user default on nopass ~* &* +@all", users.Lines().First());
    }

    [Fact]
    public void UsersInBothTheConfigAndAnAclFile_AreRefusedAtStart()
    {
        ServerConfig config = new() { AclFile = "/nonexistent/users.acl" };
        config.Users.Add("alice on >pw +@all");
        ConfigException refused = Assert.Throws<ConfigException>(() => new AclUsers(s_table, config));
        Assert.Contains("please define either an ACL file or declare users directly in your redis.conf, but not both", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadConfiguredUser_IsRefusedAtStart_SayingWhich()
    {
        ServerConfig config = new();
        config.Users.Add("bob on +nosuch");
        ConfigException refused = Assert.Throws<ConfigException>(() => new AclUsers(s_table, config));
        Assert.Equal("Error loading ACL rule '+nosuch' for the user named 'bob': Unknown command or category name in ACL", refused.Message);
    }
}
