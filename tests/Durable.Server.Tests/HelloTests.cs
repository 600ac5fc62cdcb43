using System.Text.RegularExpressions;

namespace Durable.Server.Tests;

public sealed partial class HelloTests(ReferenceServers servers)
{
    [Fact]
    public void Hello_Errors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("HELLO", "4");
        both.Same("HELLO", "1");
        both.Same("HELLO", "x");
        both.Same("HELLO", "3", "FOO");
        both.Same("HELLO", "3", "AUTH", "default");
        both.Same("HELLO", "3", "AUTH", "bob", "secret");
        both.Same("HELLO", "2", "SETNAME", "a b");
        both.Same("HELLO", "2", "SETNAME");
    }

    [Fact]
    public void Hello_Resp3_SwitchesProtocolWithRedisMap()
    {
        using ReplyComparison both = servers.Compare();
        Assert.Equal(WithoutId(both.Redis.Call("HELLO", "3")), WithoutId(both.Durable.Call("HELLO", "3")));
        Assert.StartsWith("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n", both.Durable.Call("HELLO"), StringComparison.Ordinal);
        both.Same("GET", servers.NewPrefix() + "missing");
        both.Same("CONFIG", "GET", "maxclients");
        Assert.StartsWith("=", both.Durable.Call("CLIENT", "INFO"), StringComparison.Ordinal);
        Assert.Equal(WithoutId(both.Redis.Call("HELLO", "2")), WithoutId(both.Durable.Call("HELLO", "2")));
        both.Same("GET", servers.NewPrefix() + "missing");
    }

    [Fact]
    public void Hello_AuthAndSetName_AppliesBoth()
    {
        using ReplyComparison both = servers.Compare();
        Assert.Equal(WithoutId(both.Redis.Call("HELLO", "2", "AUTH", "default", "any", "SETNAME", "conn1")), WithoutId(both.Durable.Call("HELLO", "2", "AUTH", "default", "any", "SETNAME", "conn1")));
        both.Same("CLIENT", "GETNAME");
    }

    [Fact]
    public void Auth_NoPasswordsConfigured_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("AUTH", "secret");
        both.Same("AUTH", "default", "secret");
        both.Same("AUTH", "bob", "secret");
        both.Same("AUTH", "a", "b", "c");
        both.Same("AUTH");
    }

    [Fact]
    public void Reset_RestoresConnectionDefaults_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("CLIENT", "SETNAME", "before-reset");
        both.Same("SELECT", "3");
        both.Durable.Call("HELLO", "3");
        both.Redis.Call("HELLO", "3");
        both.Same("RESET");
        both.Same("CLIENT", "GETNAME");
        both.Same("GET", servers.NewPrefix() + "missing");
        both.Same("RESET", "x");
    }

    private static string WithoutId(string reply) => IdValue().Replace(reply, "id\r\n:N\r\n");

    [GeneratedRegex(@"id\r\n:\d+\r\n")]
    private static partial Regex IdValue();
}
