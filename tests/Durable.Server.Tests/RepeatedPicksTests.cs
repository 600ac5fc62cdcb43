using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>
/// A negative count asks for a reply as long as the client likes (redis-server builds it and may exhaust its memory):
/// past proto-max-bulk-len Durable refuses it and the connection goes on; below, the reply has exactly |count| picks.
/// </summary>
public sealed class RepeatedPicksTests(ReferenceServers servers)
{
    [Fact]
    public void SRandMemberAndZRandMember_HugeNegativeCount_RefusedThenConnectionGoesOn()
    {
        using RespTestClient client = servers.Durable.Connect();
        string k = servers.NewPrefix();
        client.Call("SADD", k + "s", "a", "bb", "ccc");
        client.Call("ZADD", k + "z", "1", "a", "2", "bb");
        Assert.StartsWith("-ERR SRANDMEMBER reply of 9223372036854775807 members would exceed proto-max-bulk-len", client.Call("SRANDMEMBER", k + "s", "-9223372036854775807"), StringComparison.Ordinal);
        Assert.StartsWith("-ERR ZRANDMEMBER reply of 100000000000 members would exceed proto-max-bulk-len", client.Call("ZRANDMEMBER", k + "z", "-100000000000"), StringComparison.Ordinal);
        Assert.StartsWith("-ERR ZRANDMEMBER reply of 4611686018427387903 members", client.Call("ZRANDMEMBER", k + "z", "-4611686018427387903", "WITHSCORES"), StringComparison.Ordinal);
        Assert.StartsWith("*1000\r\n", client.Call("SRANDMEMBER", k + "s", "-1000"), StringComparison.Ordinal);
        Assert.StartsWith("*2000\r\n", client.Call("ZRANDMEMBER", k + "z", "-1000", "WITHSCORES"), StringComparison.Ordinal);
        Assert.Equal(":3\r\n", client.Call("SCARD", k + "s"));
    }
}
