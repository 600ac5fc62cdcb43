namespace Durable.Server.Tests;

public sealed class KeyCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void DelUnlinkExistsTouch_MixedKeys_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "a", "1");
        both.Same("SET", p + "b", "2");
        both.Same("EXISTS", p + "a", p + "a", p + "b", p + "none");
        both.Same("TOUCH", p + "a", p + "b", p + "none", p + "a");
        both.Same("UNLINK", p + "a", p + "none", p + "a");
        both.Same("DEL", p + "b", p + "b");
        both.Same("EXISTS", p + "a", p + "b");
        both.Same("TOUCH", p + "a");
        both.Same("UNLINK");
        both.Same("TOUCH");
        both.Same("EXISTS");
        both.Same("DEL");
    }

    [Fact]
    public void Type_StringAndMissing_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "s", "x");
        both.Same("TYPE", p + "s");
        both.Same("TYPE", p + "none");
        both.Same("TYPE");
        both.Same("TYPE", p + "s", p + "s");
    }

    [Fact]
    public void Rename_AllCases_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("RENAME", p + "none", p + "x");
        both.Same("RENAME", p + "none", p + "none");
        both.Same("SET", p + "a", "va");
        both.Same("RENAME", p + "a", p + "a");
        both.Same("RENAME", p + "a", p + "b");
        both.Same("EXISTS", p + "a");
        both.Same("GET", p + "b");
        both.Same("SET", p + "c", "vc");
        both.Same("RENAME", p + "b", p + "c");
        both.Same("GET", p + "c");
        both.Same("EXISTS", p + "b");
        both.Same("RENAME", p + "c");
        both.Same("RENAME", p + "c", p + "d", p + "e");
    }

    [Fact]
    public void RenameNx_AllCases_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("RENAMENX", p + "none", p + "x");
        both.Same("RENAMENX", p + "none", p + "none");
        both.Same("SET", p + "a", "va");
        both.Same("SET", p + "b", "vb");
        both.Same("RENAMENX", p + "a", p + "a");
        both.Same("RENAMENX", p + "a", p + "b");
        both.Same("GET", p + "a");
        both.Same("GET", p + "b");
        both.Same("RENAMENX", p + "a", p + "c");
        both.Same("GET", p + "c");
        both.Same("EXISTS", p + "a");
    }

    [Fact]
    public void Rename_KeyWithTtl_KeepsExpiryAndType()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("SET", p + "a", "v");
        both.Same("PEXPIREAT", p + "a", "4102444800123");
        both.Same("SET", p + "b", "old");
        both.Same("EXPIRE", p + "b", "1000");
        both.Same("RENAME", p + "a", p + "b");
        both.Same("PEXPIRETIME", p + "b");
        both.Same("TYPE", p + "b");
        both.Same("RENAMENX", p + "b", p + "c");
        both.Same("PEXPIRETIME", p + "c");
        both.Same("SET", p + "d", "nottl");
        both.Same("RENAME", p + "d", p + "c");
        both.Same("PEXPIRETIME", p + "c");
    }

    [Fact]
    public void Copy_OptionsAndErrors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("COPY", p + "none", p + "x");
        both.Same("SET", p + "a", "va");
        both.Same("PEXPIREAT", p + "a", "4102444800123");
        both.Same("COPY", p + "a", p + "a");
        both.Same("COPY", p + "a", p + "b");
        both.Same("GET", p + "b");
        both.Same("PEXPIRETIME", p + "b");
        both.Same("SET", p + "c", "vc");
        both.Same("COPY", p + "a", p + "c");
        both.Same("GET", p + "c");
        both.Same("COPY", p + "a", p + "c", "replace");
        both.Same("GET", p + "c");
        both.Same("PEXPIRETIME", p + "c");
        both.Same("COPY", p + "a", p + "a", "DB", "3");
        both.Same("COPY", p + "a", p + "a", "db", "3");
        both.Same("COPY", p + "a", p + "a", "DB", "3", "REPLACE");
        both.Same("COPY", p + "a", p + "a", "DB", "0", "DB", "3");
        both.Same("SELECT", "3");
        both.Same("GET", p + "a");
        both.Same("PEXPIRETIME", p + "a");
        both.Same("DEL", p + "a");
        both.Same("SELECT", "0");
        both.Same("COPY", p + "a", p + "b", "DB");
        both.Same("COPY", p + "a", p + "b", "DB", "x");
        both.Same("COPY", p + "a", p + "b", "DB", "16");
        both.Same("COPY", p + "a", p + "b", "DB", "-1");
        both.Same("COPY", p + "a", p + "b", "DB", "99999999999");
        both.Same("COPY", p + "a", p + "b", "REPLACE", "extra");
        both.Same("COPY", p + "a", p + "b", "DB", "x", "bogus");
        both.Same("COPY", p + "a");
    }

    [Fact]
    public void Move_AllCases_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        both.Same("MOVE", p + "none", "1");
        both.Same("SET", p + "a", "va");
        both.Same("EXPIREAT", p + "a", "4102444800");
        both.Same("MOVE", p + "a", "0");
        both.Same("MOVE", p + "a", "16");
        both.Same("MOVE", p + "a", "-1");
        both.Same("MOVE", p + "a", "x");
        both.Same("MOVE", p + "a", "99999999999");
        both.Same("MOVE", p + "a", "2");
        both.Same("EXISTS", p + "a");
        both.Same("SELECT", "2");
        both.Same("GET", p + "a");
        both.Same("EXPIRETIME", p + "a");
        both.Same("SET", p + "b", "in2");
        both.Same("SELECT", "0");
        both.Same("SET", p + "b", "in0");
        both.Same("MOVE", p + "b", "2");
        both.Same("GET", p + "b");
        both.Same("SELECT", "2");
        both.Same("GET", p + "b");
        both.Same("DEL", p + "a", p + "b");
        both.Same("SELECT", "0");
        both.Same("MOVE", p + "b");
    }

    [Fact]
    public void Object_Subcommands_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string p = servers.NewPrefix();
        string[] values = ["0", "123", "9999", "10000", "-1", "-0", "00", "+1", "1.5", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "12345678901234567890", "hello", new string('x', 44), new string('x', 45), ""];
        for (int i = 0; i < values.Length; i++)
        {
            string key = p + i;
            both.Same("SET", key, values[i]);
            both.Same("OBJECT", "ENCODING", key);
            both.Same("OBJECT", "REFCOUNT", key);
            both.Same("OBJECT", "freq", key);
        }

        both.Same("OBJECT", "ENCODING", p + "none");
        both.Same("OBJECT", "REFCOUNT", p + "none");
        both.Same("OBJECT", "FREQ", p + "none");
        both.Same("OBJECT", "IDLETIME", p + "none");
        both.Same("OBJECT", "HELP");
        both.Same("object", "help");
        both.Same("OBJECT", "HELP", "x");
        both.Same("OBJECT");
        both.Same("OBJECT", "ENCODING");
        both.Same("OBJECT", "ENCODING", p + "1", p + "2");
        both.Same("OBJECT", "bogus", p + "1");
    }

    [Fact]
    public void ObjectIdleTime_ExistingKey_IsZero()
    {
        using ReplyComparison both = servers.Compare();
        string key = servers.NewPrefix() + "k";
        both.Durable.Call("SET", key, "hello");

        Assert.Equal(":0\r\n", both.Durable.Call("OBJECT", "IDLETIME", key));
    }

    [Fact]
    public void RenameCopyMove_Arity_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        both.Same("RENAMENX", "a");
        both.Same("MOVE", "a", "1", "2");
        both.Same("RANDOMKEY", "x");
    }
}
