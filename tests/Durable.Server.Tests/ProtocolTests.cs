namespace Durable.Server.Tests;

public sealed class ProtocolTests(ReferenceServers servers)
{
    [Fact]
    public void InlineCommands_QuotesAndEscapes_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.SameRaw("PING\r\n");
        both.SameRaw("ECHO \"a b\\x41\\n\"\r\n");
        both.SameRaw("ECHO 'it\\'s'\r\n");
        both.SameRaw("  ECHO   spaced   \n");
    }

    [Fact]
    public void FrameOfSeveralLargeArguments_RunsOnce()
    {
        // Such a frame spans many buffer segments and shows its length one argument at a time; the session once
        // re-parsed it from the first segment forever (no reply, a core spinning).
        using ReplyComparison both = servers.Compare();
        string key = servers.NewPrefix();
        both.Same("MSET", key + "a", new string('x', 30_000), key + "b", new string('y', 30_000), key + "c", new string('z', 30_000));
        both.Same("STRLEN", key + "c");
        string[] sadd = [.. new[] { "SADD", key + "s" }.Concat(Enumerable.Range(0, 100).Select(i => i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture) + new string('m', 1000)))];
        both.Same(sadd);
        both.Same("SCARD", key + "s");
    }

    [Fact]
    public void FrameOfThousandsOfLargeArguments_IsParsedOnceNotOncePerArgument()
    {
        // The session used to grow its copy of such a frame one argument at a time, re-parsing the whole frame each
        // time: MSET of 1,000 values of 700 bytes took 13 s, of 10,000 (7 MB) it would take about 20 minutes. Now it
        // takes about a second; the client's 30-second read timeout fails the test if that quadratic cost comes back.
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        string key = servers.NewPrefix();
        string value = new('v', 700);
        Assert.Equal("+OK\r\n", client.Call(["MSET", .. Enumerable.Range(0, 10_000).SelectMany(i => new[] { key + i.ToString(System.Globalization.CultureInfo.InvariantCulture), value })]));
        Assert.Equal("$700\r\n" + value + "\r\n", client.Call("GET", key + "9999"));
    }

    [Fact]
    public void Pipeline_ManyCommandsInOneWrite_RepliesInOrder()
    {
        using ReplyComparison both = servers.Compare();
        string key = servers.NewPrefix() + "p";
        string batch = string.Concat(Enumerable.Range(0, 200).Select(i => $"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${i.ToString(System.Globalization.CultureInfo.InvariantCulture).Length}\r\n{i}\r\n"))
            + $"*2\r\n$3\r\nGET\r\n${key.Length}\r\n{key}\r\n";
        both.Durable.SendRaw(batch);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal("+OK\r\n", both.Durable.ReadReply());
        }

        Assert.Equal("$3\r\n199\r\n", both.Durable.ReadReply());
    }

    [Theory]
    [InlineData("*abc\r\n")]
    [InlineData("*2\r\n$3\r\nGET\r\n:1\r\n")]
    [InlineData("*1\r\n$-5\r\n")]
    [InlineData("*1\r\n$x\r\n")]
    [InlineData("ECHO \"unbalanced\r\n")]
    [InlineData("ECHO 'a''b'\r\n")]
    public void MalformedFrame_ProtocolError_MatchesRedisAndCloses(string frame)
    {
        using ReplyComparison both = servers.Compare();
        both.SameRaw(frame);
        Assert.True(both.Durable.IsClosedByServer());
    }

    [Theory]
    [InlineData("*1\0\r\n*1\r\n$4\r\nPING\r\n")]
    [InlineData("*2\r\n$4\r\nECHO\r\n$1\0\r\nx\r\n*1\r\n$4\r\nPING\r\n")]
    [InlineData("ECHO 'x'\0\nPING\r\n")]
    public void NulBeforeLineEnd_HidesTheLine_UntilItIsTooLong(string frame)
    {
        // Redis finds line ends with strchr, which stops at a NUL: the PING behind such a line is never answered, and
        // the connection ends once 64 KB are buffered without a line end it can see.
        using ReplyComparison both = servers.Compare();
        both.Durable.SendRaw(frame);
        both.Redis.SendRaw(frame);
        both.SameRaw(new string('y', 70_000));
        Assert.True(both.Durable.IsClosedByServer());
    }

    [Fact]
    public void UnknownCommand_EchoesArgumentBytes_AsCStrings()
    {
        // Bytes above 127 go back as sent (not re-encoded); a NUL ends the name or argument, as printf's %s does.
        using ReplyComparison both = servers.Compare();
        both.SameRaw("*3\r\n$4\r\nPI\xffN\r\n$4\r\n\xc3\xa9t\xe9\r\n$3\r\na\0b\r\n");
        both.SameRaw("*1\r\n$4\r\n\0ING\r\n");
        both.SameRaw("*2\r\n$6\r\nOBJECT\r\n$3\r\n\xe9\0x\r\n");
    }

    [Fact]
    public void EmptyMultibulk_IsIgnored()
    {
        using ReplyComparison both = servers.Compare();
        both.SameRaw("*0\r\n*-1\r\n\r\nPING\r\n");
    }

    [Fact]
    public void CommandSplitAcrossWrites_ParsesOnceComplete()
    {
        using Durable.Testing.RespTestClient client = servers.Durable.Connect();
        byte[] frame = Durable.Testing.RespTestClient.Encode("ECHO", new string('z', 100_000));
        for (int i = 0; i < frame.Length; i += 7_000)
        {
            client.SendRaw(frame[i..Math.Min(frame.Length, i + 7_000)]);
        }

        Assert.Equal($"$100000\r\n{new string('z', 100_000)}\r\n", client.ReadReply());
    }
}
