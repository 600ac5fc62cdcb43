using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// ACL users against redis-server: SETUSER's rules and errors, how GETUSER and LIST describe them, and what a user may
/// run (commands, keys with read and write permissions, channels, selectors, MULTI, scripts, SORT). Users are named
/// after the test's prefix on the shared servers; what changes the whole server (requirepass, the log) runs on a pair
/// of its own.
/// </summary>
public sealed partial class AclUserTests(ReferenceServers servers)
{
    // Each user compared with redis-server has at most one single command rule among its categories (or first
    // arguments of one command): Redis lists several in its command table's hash order, which changes with each process.
    [Fact]
    public void SetUser_RulesAndErrors_DescribedAsRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison both = servers.Compare();
        string[][] commands =
        [
            ["ACL", "SETUSER", p + "a"],
            ["ACL", "SETUSER", p + "b", "on", ">pw", ">pw", "#" + new string('a', 64), "~k*", "%R~r*", "%W~w*", "%RW~rw*", "&ch*", "+@hash", "+get"],
            ["ACL", "SETUSER", p + "c", "on", "nopass", "allkeys", "allchannels", "+@all", "-@dangerous", "skip-sanitize-payload"],
            ["ACL", "SETUSER", p + "d", "reset", "+select|0", "+select|1", "(~x +set)", "(", "%R~s", "+@read", ")"],
            ["ACL", "SETUSER", p + "g", "+config|get"],
            ["ACL", "SETUSER", p + "e", "~a", "%R~a", "%W~b", "%W~b", "&c", "&c", "-@all", "+@string", "-set", "resetkeys", "~z"],
            ["ACL", "SETUSER", p + "f", "on", ">one", ">two", "<one", "nocommands", "+@pubsub", "allcommands", "-get"],
            ["ACL", "SETUSER", p + "b", "clearselectors", "resetpass", "off", "sanitize-payload"],
            ["ACL", "SETUSER", p + "d", "clearselectors"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }

        string[][] errors =
        [
            ["ACL", "SETUSER", p + "x", "+nosuch"], ["ACL", "SETUSER", p + "x", "+@nosuch"], ["ACL", "SETUSER", p + "x", "-nosuch"],
            ["ACL", "SETUSER", p + "x", "allkeys", "~a"], ["ACL", "SETUSER", p + "x", "allchannels", "&a"], ["ACL", "SETUSER", p + "x", "<nopw"],
            ["ACL", "SETUSER", p + "x", "!" + new string('b', 64)], ["ACL", "SETUSER", p + "x", "#bad"], ["ACL", "SETUSER", p + "x", "#" + new string('A', 64)],
            ["ACL", "SETUSER", p + "x", "+config|get|x"], ["ACL", "SETUSER", p + "x", "+get|"], ["ACL", "SETUSER", p + "x", "+config|nosuch"],
            ["ACL", "SETUSER", p + "x", "(~x", "+get"], ["ACL", "SETUSER", p + "x", "(+nosuch)"], ["ACL", "SETUSER", p + "x", "%X~a"],
            ["ACL", "SETUSER", p + "x", "%~a"], ["ACL", "SETUSER", p + "x", "%RR~a"], ["ACL", "SETUSER", p + "x", "bogus"], ["ACL", "SETUSER", p + "x", "~a b"],
            ["ACL", "SETUSER", p + " x"], ["ACL", "SETUSER", p + "x", "on", "+nosuch"], ["ACL", "SETUSER", "default", "+nosuch"],
            ["ACL", "GETUSER", p + "x"], ["ACL", "DELUSER", "default"], ["ACL", "DELUSER", p + "a", "default"], ["ACL", "SETUSER"],
        ];
        foreach (string[] command in errors)
        {
            both.Same(command);
        }

        foreach (string protocol in new[] { "2", "3" })
        {
            both.Durable.Call("HELLO", protocol);
            both.Redis.Call("HELLO", protocol);
            foreach (string user in new[] { "a", "b", "c", "d", "e", "f", "g" })
            {
                both.Same("ACL", "GETUSER", p + user);
            }
        }

        Assert.Equal(Lines(both.Redis, p), Lines(both.Durable, p));
        Assert.Equal(Users(both.Redis, p), Users(both.Durable, p));
        both.Same("ACL", "DELUSER", p + "a", p + "b", p + "nosuch");
        Assert.Equal(Users(both.Redis, p), Users(both.Durable, p));
    }

    [Fact]
    public void User_RunsWhatItsRulesAllow_AsRedis()
    {
        string p = servers.NewPrefix();
        using ReplyComparison admin = servers.Compare();
        admin.Same("ACL", "SETUSER", p + "u", "on", ">pw", "~" + p + "k*", "%R~" + p + "r*", "%W~" + p + "w*", "&" + p + "ch*", "+@string", "+@bitmap",
            "-setrange", "+publish", "+subscribe", "+psubscribe", "+sort", "+multi", "+exec", "+eval", "+select|0", "+config|get", "+ping", "+acl|dryrun",
            "(+del ~" + p + "sel*)");
        admin.Same("SET", p + "r1", "read me");
        using ReplyComparison user = servers.Compare();
        string[][] commands =
        [
            ["AUTH", p + "u", "wrong"], ["AUTH", p + "nosuch", "pw"], ["AUTH", p + "u", "pw"], ["ACL", "WHOAMI"],
            ["SET", p + "k1", "v"], ["GET", p + "k1"], ["GET", p + "other"], ["GET", p + "r1"], ["SET", p + "r1", "v"], ["SET", p + "r1", "v", "GET"],
            ["SET", p + "w1", "v"], ["SET", p + "w1", "v", "GET"], ["GET", p + "w1"], ["MSET", p + "k2", "v", p + "x", "v"], ["MGET", p + "k1", p + "r1"],
            ["COPY", p + "r1", p + "w2"], ["COPY", p + "w1", p + "r2"], ["SETRANGE", p + "k1", "0", "x"], ["BITFIELD", p + "r1", "GET", "u8", "0"],
            ["BITFIELD", p + "r1", "INCRBY", "u8", "0", "1"], ["BITFIELD", p + "r1", "OVERFLOW", "SAT", "GET", "u8", "0"], ["DEL", p + "sel1"],
            ["DEL", p + "k1"], ["HSET", p + "k1", "f", "v"], ["SELECT", "0"], ["SELECT", "1"], ["CONFIG", "GET", "maxclients"], ["CONFIG", "SET", "x", "y"],
            ["PUBLISH", p + "ch1", "m"], ["PUBLISH", p + "other", "m"], ["PUBLISH", p + "ch*", "m"],
            ["SORT", p + "k1"], ["SORT", p + "k1", "BY", "nosort"], ["SORT", p + "k1", "BY", "w_*"], ["SORT", p + "k1", "GET", "#"],
            ["EVAL", "return redis.call('get', KEYS[1])", "1", p + "k1"], ["EVAL", "return redis.call('get', KEYS[1])", "1", p + "other"],
            ["EVAL", "return redis.call('del', KEYS[1])", "1", p + "k1"], ["EVAL", "return redis.pcall('publish', 'nope', 'm')", "0"],
            ["EVAL", "return {redis.acl_check_cmd('get', KEYS[1]), redis.acl_check_cmd('get', 'x'), redis.acl_check_cmd('hset', KEYS[1], 'f', 'v')}", "1", p + "k1"],
            ["EVAL", "return redis.acl_check_cmd('config', 'get', 'x')", "0"], ["EVAL", "return redis.acl_check_cmd('config', 'nosuch')", "0"],
            ["EVAL", "return redis.acl_check_cmd('nosuch')", "0"], ["EVAL", "return redis.acl_check_cmd()", "0"], ["EVAL", "return redis.acl_check_cmd({})", "0"],
            ["ACL", "DRYRUN", p + "u", "get", p + "r1"], ["ACL", "DRYRUN", p + "u", "set", p + "r1", "v"], ["ACL", "DRYRUN", p + "u", "hset", p + "k", "f", "v"],
            ["ACL", "DRYRUN", p + "u", "publish", "nope", "m"], ["ACL", "DRYRUN", p + "u", "del", p + "sel1"], ["ACL", "DRYRUN", p + "u", "del", p + "k1"],
            ["MULTI"], ["GET", p + "k1"], ["HGET", p + "k1", "f"], ["EXEC"],
            ["MULTI"], ["GET", p + "k1"], ["GET", p + "r1"],
        ];
        foreach (string[] command in commands)
        {
            user.Same(command);
        }

        // The rules change between MULTI and EXEC: EXEC checks each command again.
        admin.Same("ACL", "SETUSER", p + "u", "-get");
        user.Same("EXEC");
        user.Same("GET", p + "k1");

        // A subscriber: channels it may not use are refused; patterns are matched as written.
        user.Same("SUBSCRIBE", p + "ch1", p + "nope");
        user.Same("PSUBSCRIBE", p + "ch*");
        user.Same("PSUBSCRIBE", p + "ch1*");
        user.Same("HELLO", "3", "AUTH", p + "u", "wrong");
        Assert.Contains($"user={p}u", admin.Durable.Call("CLIENT", "LIST"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequirePass_NoAuthAndProtocolLimits_AsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison admin = pair.Compare();
        admin.Same("CONFIG", "SET", "requirepass", "secret");
        admin.Same("CONFIG", "GET", "requirepass");
        admin.Same("PING");
        using (ReplyComparison fresh = pair.Compare())
        {
            string[][] commands =
            [
                ["PING"], ["GET", "x"], ["HELLO", "3"], ["HELLO", "3", "AUTH", "default", "wrong"], ["AUTH", "wrong"], ["AUTH", "a", "b", "c"],
                ["MULTI"], ["CLIENT", "ID"], ["HELLO", "2", "AUTH", "default", "secret", "BOGUS"], ["PING"], ["ACL", "WHOAMI"],
            ];
            foreach (string[] command in commands)
            {
                fresh.Same(command);
            }
        }

        // Before logging in, Redis takes at most 10 arguments of at most 16 KiB each.
        using (ReplyComparison fresh = pair.Compare())
        {
            fresh.SameRaw("*11\r\n");
        }

        using (ReplyComparison fresh = pair.Compare())
        {
            fresh.SameRaw("*1\r\n$16385\r\n");
        }

        using (ReplyComparison fresh = pair.Compare())
        {
            fresh.SameRaw("*2\r\n$4\r\nECHO\r\n$16384\r\n" + new string('x', 16384) + "\r\n");
        }

        using (ReplyComparison fresh = pair.Compare())
        {
            fresh.Same("AUTH", "default", "secret");
            fresh.SameRaw("*11\r\n$4\r\nMGET\r\n" + string.Concat(Enumerable.Range(0, 10).Select(i => "$1\r\nk\r\n")));
            admin.Same("CONFIG", "SET", "requirepass", "");
            fresh.Same("AUTH", "secret");
            fresh.Same("AUTH", "default", "anything");
        }

        using ReplyComparison after = pair.Compare();
        after.Same("PING");
        after.Same("ACL", "LIST");
        after.Same("ACL", "USERS");
    }

    [Fact]
    public async Task Log_RecordsDenialsAsRedis()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison admin = pair.Compare();
        admin.Same("ACL", "SETUSER", "ann", "on", ">pw", "~k*", "+get", "+publish", "+multi", "+exec");
        using ReplyComparison ann = pair.Compare();
        string[][] commands =
        [
            ["AUTH", "ann", "nope"], ["AUTH", "ann", "pw"], ["GET", "x"], ["GET", "x"], ["SET", "k", "v"], ["PUBLISH", "c", "m"],
            ["MULTI"], ["GET", "y"], ["DISCARD"], ["auth", "ann", "nope"],
        ];
        foreach (string[] command in commands)
        {
            ann.Same(command);
        }

        foreach (string protocol in new[] { "2", "3" })
        {
            admin.Durable.Call("HELLO", protocol);
            admin.Redis.Call("HELLO", protocol);
            Assert.Equal(Masked(admin.Redis.Call("ACL", "LOG")), Masked(admin.Durable.Call("ACL", "LOG")));
            Assert.Equal(Masked(admin.Redis.Call("ACL", "LOG", "2")), Masked(admin.Durable.Call("ACL", "LOG", "2")));
        }

        Assert.Contains("cmd=set user=ann", admin.Durable.Call("ACL", "LOG", "10"), StringComparison.Ordinal);
        admin.Same("CONFIG", "SET", "acllog-max-len", "2");
        ann.Same("GET", "z");
        Assert.Equal(Masked(admin.Redis.Call("ACL", "LOG")), Masked(admin.Durable.Call("ACL", "LOG")));
        admin.Same("ACL", "LOG", "RESET");
        admin.Same("ACL", "LOG");
    }

    [Fact]
    public async Task DelUser_ClosesItsConnections_AndChangedChannelsCloseItsSubscribers()
    {
        await using ServerTestPair pair = await ServerTestPair.StartAsync();
        using ReplyComparison admin = pair.Compare();
        admin.Same("ACL", "SETUSER", "sub", "on", "nopass", "~*", "&news*", "+@all");
        using ReplyComparison subscriber = pair.Compare();
        subscriber.Same("AUTH", "sub", "x");
        subscriber.Same("SUBSCRIBE", "news1");
        using ReplyComparison plain = pair.Compare();
        plain.Same("AUTH", "sub", "x");

        // Narrowing the channels to ones that do not cover news1 closes the subscriber, not the other connection.
        admin.Same("ACL", "SETUSER", "sub", "resetchannels", "&sport*");
        Assert.True(subscriber.Durable.IsClosedByServer());
        Assert.True(subscriber.Redis.IsClosedByServer());
        plain.Same("PING");

        admin.Same("ACL", "DELUSER", "sub");
        Assert.True(plain.Durable.IsClosedByServer());
        Assert.True(plain.Redis.IsClosedByServer());
        admin.Same("ACL", "USERS");
    }

    [Fact]
    public async Task AclFile_SaveAndLoad_AllOrNothing()
    {
        string directory = Directory.CreateTempSubdirectory("durable-acl").FullName;
        string file = Path.Combine(directory, "users.acl");
        await File.WriteAllTextAsync(file, "user default on nopass ~* &* +@all\nuser eve on #" + Sha256("pw") + " ~e* resetchannels -@all +get\n", TestContext.Current.CancellationToken);
        try
        {
            await using TestServer server = await TestServer.StartAsync(config => config.AclFile = file);
            using RespTestClient admin = server.Connect();
            using RespTestClient eve = server.Connect();
            Assert.Equal("+OK\r\n", eve.Call("AUTH", "eve", "pw"));
            Assert.Equal("+OK\r\n", admin.Call("ACL", "SETUSER", "frank", "on", ">f", "+@all", "~*"));
            Assert.Equal("+OK\r\n", admin.Call("ACL", "SAVE"));
            string[] saved = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
            Assert.Equal(["user default", "user eve", "user frank"], saved.Select(l => string.Join(' ', l.Split(' ')[..2])));
            Assert.Equal("user eve on #" + Sha256("pw") + " ~e* resetchannels -@all +get", saved[1]);

            // A bad line: nothing changes, and the error says where.
            await File.WriteAllTextAsync(file, "user default on nopass ~* &* +@all\nuser gil on +nosuch\nnotauser x\n", TestContext.Current.CancellationToken);
            string error = admin.Call("ACL", "LOAD");
            Assert.StartsWith($"-ERR {file}:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. {file}:3 should start with user keyword", error, StringComparison.Ordinal);
            Assert.EndsWith("WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n", error, StringComparison.Ordinal);
            Assert.Equal("*3\r\n$7\r\ndefault\r\n$3\r\neve\r\n$5\r\nfrank\r\n", admin.Call("ACL", "USERS"));

            // A good file replaces every user, and closes the connections of the users it replaced.
            await File.WriteAllTextAsync(file, "user default on nopass ~* &* +@all\nuser hal on nopass ~* +@all\n", TestContext.Current.CancellationToken);
            Assert.Equal("+OK\r\n", admin.Call("ACL", "LOAD"));
            Assert.Equal("*2\r\n$7\r\ndefault\r\n$3\r\nhal\r\n", admin.Call("ACL", "USERS"));
            Assert.True(eve.IsClosedByServer());
            Assert.Equal("$7\r\ndefault\r\n", admin.Call("ACL", "WHOAMI"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ConfigUsers_LoadAtStart_AndConfigRewriteWritesThem()
    {
        string directory = Directory.CreateTempSubdirectory("durable-acl").FullName;
        string file = Path.Combine(directory, "durable.conf");
        await File.WriteAllTextAsync(file, "user ivy on >pw ~* +@all -flushall\n", TestContext.Current.CancellationToken);
        try
        {
            await using (TestServer server = await TestServer.StartAsync(config =>
            {
                config.ConfigFile = file;
                config.Users.Add("ivy on >pw ~* +@all -flushall");
                config.RequirePass = "adminpw";
            }))
            {
                using RespTestClient client = server.Connect();
                Assert.Equal("-NOAUTH Authentication required.\r\n", client.Call("PING"));
                Assert.Equal("+OK\r\n", client.Call("AUTH", "ivy", "pw"));
                Assert.Equal("-NOPERM this user has no permissions to run the 'flushall' command\r\n", client.Call("FLUSHALL"));
                Assert.Equal("+OK\r\n", client.Call("ACL", "SETUSER", "jay", "on", "nopass", "+ping"));
                Assert.Equal("+OK\r\n", client.Call("CONFIG", "REWRITE"));
            }

            string[] lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
            Assert.Contains("user ivy on #" + Sha256("pw") + " ~* resetchannels +@all -flushall", lines);
            Assert.Contains("user jay on nopass resetchannels -@all +ping", lines);
            Assert.Contains("user default on #" + Sha256("adminpw") + " ~* &* +@all", lines);
            Assert.Contains("requirepass adminpw", lines);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    // The ACL LIST lines of this test's users.
    private static string[] Lines(RespTestClient client, string prefix) =>
        [.. client.Call("ACL", "LIST").Split("\r\n").Where(l => l.StartsWith("user " + prefix, StringComparison.Ordinal))];

    private static string[] Users(RespTestClient client, string prefix) =>
        [.. client.Call("ACL", "USERS").Split("\r\n").Where(l => l.StartsWith(prefix, StringComparison.Ordinal))];

    // The log with its ages and client descriptions left out: they depend on timing and on fields Durable does not track.
    private static string Masked(string log) => ClientInfo().Replace(Age().Replace(log, "AGE"), "CLIENT");

    [GeneratedRegex(@"age-seconds\r\n(\$\d+\r\n[0-9.e-]+|,[0-9.e-]+)")]
    private static partial Regex Age();

    [GeneratedRegex(@"client-info\r\n\$\d+\r\n[^\r]*")]
    private static partial Regex ClientInfo();
}
