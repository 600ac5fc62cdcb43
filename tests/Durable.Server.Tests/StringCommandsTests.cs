namespace Durable.Server.Tests;

public sealed class StringCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void GetSetDel_Basics_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string k = servers.NewPrefix() + "k";
        both.Same("GET", k);
        both.Same("SET", k, "value");
        both.Same("GET", k);
        both.Same("EXISTS", k, k, k + "missing");
        both.Same("DEL", k, k + "missing");
        both.Same("GET", k);
        both.Same("GET");
        both.Same("GET", k, "extra");
    }
}
