using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>Sends the same commands to Durable and to redis-server and asserts that the reply bytes are identical.</summary>
public sealed class ReplyComparison(RespTestClient durable, RespTestClient redis) : IDisposable
{
    public RespTestClient Durable => durable;

    public RespTestClient Redis => redis;

    /// <summary>Sends one command to both; asserts equal replies; returns the reply.</summary>
    public string Same(params string[] command)
    {
        string expected = redis.Call(command);
        string actual = durable.Call(command);
        Assert.True(expected == actual, $"{string.Join(' ', command)}\nredis:   {Show(expected)}\ndurable: {Show(actual)}");
        return actual;
    }

    /// <summary>Sends raw bytes to both (inline commands, malformed frames) and compares the next reply.</summary>
    public string SameRaw(string latin1)
    {
        redis.SendRaw(latin1);
        durable.SendRaw(latin1);
        string expected = redis.ReadReply();
        string actual = durable.ReadReply();
        Assert.True(expected == actual, $"{Show(latin1)}\nredis:   {Show(expected)}\ndurable: {Show(actual)}");
        return actual;
    }

    private static string Show(string reply) => reply.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public void Dispose()
    {
        durable.Dispose();
        redis.Dispose();
    }
}
