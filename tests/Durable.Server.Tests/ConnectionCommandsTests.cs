namespace Durable.Server.Tests;

public sealed class ConnectionCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void Ping_AnyForm_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("PING");
        both.Same("ping", "hello");
        both.Same("PING", "a", "b");
    }

    [Fact]
    public void Echo_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("ECHO", "hi there");
        both.Same("ECHO", "");
        both.Same("ECHO");
    }

    [Fact]
    public void Select_ValidAndInvalid_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("SELECT", "1");
        both.Same("SELECT", "16");
        both.Same("SELECT", "-1");
        both.Same("SELECT", "x");
        both.Same("SELECT", "0");
    }

    [Fact]
    public void UnknownCommand_ErrorText_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("NOSUCHCOMMAND");
        both.Same("nosuch", "a", "b c", "");
        both.Same("nosuch", new string('x', 200), "y");
    }

    [Fact]
    public void Quit_RepliesOkAndCloses()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("QUIT");
        Assert.True(both.Durable.IsClosedByServer());
    }
}
