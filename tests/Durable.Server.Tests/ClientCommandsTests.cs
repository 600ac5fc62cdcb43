using System.Diagnostics;
using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

public sealed partial class ClientCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void Client_ErrorsAndArity_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("CLIENT");
        both.Same("CLIENT", "NOSUCH");
        both.Same("CLIENT", "SETNAME");
        both.Same("CLIENT", "SETNAME", "a b");
        both.Same("CLIENT", "SETNAME", "a\nb");
        both.Same("CLIENT", "ID", "x");
        both.Same("CLIENT", "KILL", "1.2.3.4:5");
        both.Same("CLIENT", "KILL", "ID", "x");
        both.Same("CLIENT", "KILL", "ID", "0");
        both.Same("CLIENT", "KILL", "ID", "999999");
        both.Same("CLIENT", "KILL", "TYPE", "foo");
        both.Same("CLIENT", "KILL", "TYPE", "master");
        both.Same("CLIENT", "KILL", "USER", "nobody");
        both.Same("CLIENT", "KILL", "SKIPME", "maybe");
        both.Same("CLIENT", "KILL", "FOO", "bar");
        both.Same("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "ID");
        both.Same("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "LADDR", "1.2.3.4:6");
        both.Same("CLIENT", "LIST", "TYPE", "foo");
        both.Same("CLIENT", "LIST", "TYPE", "pubsub");
        both.Same("CLIENT", "LIST", "ID", "x");
        both.Same("CLIENT", "LIST", "ID", "0");
        both.Same("CLIENT", "LIST", "FOO");
        both.Same("CLIENT", "LIST", "ID");
        both.Same("CLIENT", "PAUSE", "x");
        both.Same("CLIENT", "PAUSE", "-1");
        both.Same("CLIENT", "PAUSE", "10", "FOO");
        both.Same("CLIENT", "REPLY", "FOO");
        both.Same("CLIENT", "NO-EVICT", "maybe");
        both.Same("CLIENT", "NO-EVICT", "on");
        both.Same("CLIENT", "NO-EVICT", "OFF");
        both.Same("CLIENT", "UNPAUSE");
    }

    [Fact]
    public void Client_IdNameAndInfo_MatchRedisShape()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("CLIENT", "GETNAME");
        both.Same("CLIENT", "SETNAME", "worker-1");
        both.Same("CLIENT", "GETNAME");
        both.Same("CLIENT", "SETNAME", "");
        both.Same("CLIENT", "GETNAME");
        Assert.Matches(@"^:\d+\r\n$", both.Durable.Call("CLIENT", "ID"));

        string redis = both.Redis.Call("CLIENT", "INFO");
        string durable = both.Durable.Call("CLIENT", "INFO");
        Assert.Equal(FieldNames(redis), FieldNames(durable).Where(f => f is not ("lib-name" or "lib-ver")));
        Assert.Contains(" cmd=client|info ", durable, StringComparison.Ordinal);
        Assert.Contains(" flags=N ", durable, StringComparison.Ordinal);
        Assert.EndsWith(" lib-name= lib-ver=\n\r\n", durable, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientList_AllAndById_ListsConnections()
    {
        using RespTestClient a = servers.Durable.Connect();
        using RespTestClient b = servers.Durable.Connect();
        a.Call("CLIENT", "SETNAME", "list-a");
        string idA = Id(a);
        string idB = Id(b);
        string all = a.Call("CLIENT", "LIST");
        Assert.Contains($"id={idA} ", all, StringComparison.Ordinal);
        Assert.Contains($"id={idB} ", all, StringComparison.Ordinal);
        Assert.Contains("name=list-a ", all, StringComparison.Ordinal);

        string one = a.Call("CLIENT", "LIST", "ID", idB, "999999");
        Assert.Single(one.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => line.StartsWith($"id={idB} ", StringComparison.Ordinal));
        Assert.Contains($"id={idA} ", a.Call("CLIENT", "LIST", "TYPE", "normal"), StringComparison.Ordinal);
    }

    [Fact]
    public void ClientKill_ByIdAddrAndSkipMe_ClosesThoseConnections()
    {
        using RespTestClient killer = servers.Durable.Connect();
        using RespTestClient victim1 = servers.Durable.Connect();
        using RespTestClient victim2 = servers.Durable.Connect();
        Assert.Equal(":1\r\n", killer.Call("CLIENT", "KILL", "ID", Id(victim1)));
        Assert.True(victim1.IsClosedByServer());

        string addr = Field(victim2.Call("CLIENT", "INFO"), "addr");
        Assert.Equal("+OK\r\n", killer.Call("CLIENT", "KILL", addr));
        Assert.True(victim2.IsClosedByServer());

        Assert.Equal(":0\r\n", killer.Call("CLIENT", "KILL", "ID", Id(killer)));
        Assert.Equal(":1\r\n", killer.Call("CLIENT", "KILL", "ID", Id(killer), "SKIPME", "no"));
        Assert.True(killer.IsClosedByServer());
    }

    [Fact]
    public void ClientReply_OffSkipOn_MatchesRedis()
    {
        using ReplyComparison both = servers.Compare();
        string batch = string.Concat(
            Frame("CLIENT", "REPLY", "OFF"), Frame("PING"), Frame("ECHO", "hidden"), Frame("CLIENT", "REPLY", "SKIP"),
            Frame("CLIENT", "REPLY", "ON"), Frame("ECHO", "one"), Frame("CLIENT", "REPLY", "SKIP"), Frame("ECHO", "skipped"), Frame("ECHO", "two"),
            Frame("CLIENT", "REPLY", "OFF"), Frame("RESET"), Frame("CLIENT", "REPLY", "SKIP"), Frame("RESET"), Frame("ECHO", "three"));
        both.Redis.SendRaw(batch);
        both.Durable.SendRaw(batch);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(both.Redis.ReadReply(), both.Durable.ReadReply());
        }

        both.Same("PING");
    }

    [Fact]
    public void ClientSetInfo_LibraryNameAndVersion_ShowInClientInfo()
    {
        using RespTestClient client = servers.Durable.Connect();
        Assert.Equal("+OK\r\n", client.Call("CLIENT", "SETINFO", "lib-name", "SE.Redis"));
        Assert.Equal("+OK\r\n", client.Call("CLIENT", "SETINFO", "LIB-VER", "2.13.17"));
        Assert.Equal("-ERR Unrecognized option 'lib-foo'\r\n", client.Call("CLIENT", "SETINFO", "lib-foo", "x"));
        Assert.Equal("-ERR lib-name cannot contain spaces, newlines or special characters.\r\n", client.Call("CLIENT", "SETINFO", "lib-name", "a b"));
        Assert.EndsWith(" lib-name=SE.Redis lib-ver=2.13.17\n\r\n", client.Call("CLIENT", "INFO"), StringComparison.Ordinal);
        Assert.Equal("+OK\r\n", client.Call("CLIENT", "NO-TOUCH", "on"));
        Assert.Contains(" flags=T ", client.Call("CLIENT", "INFO"), StringComparison.Ordinal);
    }

    [Fact]
    public void ClientHelp_LinesAreRedisLines()
    {
        using ReplyComparison both = servers.Compare();
        string redis = both.Redis.Call("CLIENT", "HELP");
        string[] ours = both.Durable.Call("CLIENT", "HELP").Split("\r\n")[1..];
        string[] added = ["+SETINFO <option> <value>", "+    Set client meta attr. Options are:", "+    * LIB-NAME: the client lib name.",
            "+    * LIB-VER: the client lib version.", "+NO-TOUCH (ON|OFF)", "+    Will not touch LRU/LFU stats when this mode is on."];
        foreach (string line in ours.Where(l => l.Length > 0 && !added.Contains(l)))
        {
            Assert.Contains(line + "\r\n", redis, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ClientPause_Write_HoldsWritesOnlyUntilUnpause()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using RespTestClient admin = pair.Durable.Connect();
        using RespTestClient other = pair.Durable.Connect();
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "PAUSE", "60000", "WRITE"));
        Assert.Equal("$-1\r\n", other.Call("GET", "k"));

        Task<string> write = Task.Run(() => other.Call("SET", "k", "v"));
        Task first = await Task.WhenAny(write, Task.Delay(300, TestContext.Current.CancellationToken));
        Assert.False(first == write, "SET must wait while writes are paused");
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "UNPAUSE"));
        Assert.Equal("+OK\r\n", await write.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ClientPause_Write_HoldsAnExecOfWritesButNotOneOfReads()
    {
        // Redis: an EXEC whose queue holds a write is a write (mstate.cmd_flags).
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using RespTestClient admin = pair.Durable.Connect();
        using RespTestClient writer = pair.Durable.Connect();
        using RespTestClient reader = pair.Durable.Connect();
        Assert.Equal("+OK\r\n", writer.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", writer.Call("SET", "k", "v"));
        Assert.Equal("+OK\r\n", reader.Call("MULTI"));
        Assert.Equal("+QUEUED\r\n", reader.Call("GET", "k"));
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "PAUSE", "60000", "WRITE"));

        Assert.Equal("*1\r\n$-1\r\n", reader.Call("EXEC"));
        Task<string> exec = Task.Run(() => writer.Call("EXEC"));
        Task first = await Task.WhenAny(exec, Task.Delay(300, TestContext.Current.CancellationToken));
        Assert.False(first == exec, "an EXEC of writes must wait while writes are paused");
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "UNPAUSE"));
        Assert.Equal("*1\r\n+OK\r\n", await exec.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ClientPause_All_DelaysEveryCommandUntilTimeout()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using RespTestClient admin = pair.Durable.Connect();
        using RespTestClient other = pair.Durable.Connect();
        Stopwatch watch = Stopwatch.StartNew();
        Assert.Equal("+OK\r\n", admin.Call("CLIENT", "PAUSE", "400"));
        Assert.Equal("+PONG\r\n", other.Call("PING"));
        Assert.True(watch.ElapsedMilliseconds >= 300, $"PING ran after {watch.ElapsedMilliseconds} ms of a 400 ms pause");
    }

    private static string Frame(params string[] args) => System.Text.Encoding.Latin1.GetString(RespTestClient.Encode(args));

    private static string Id(RespTestClient client) => client.Call("CLIENT", "ID")[1..^2];

    private static string Field(string info, string name) => Regex.Match(info, $@"\b{name}=(\S*)").Groups[1].Value;

    private static string[] FieldNames(string info) => [.. FieldName().Matches(info).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"(?:^|\s|\n)([a-z-]+)=")]
    private static partial Regex FieldName();
}
