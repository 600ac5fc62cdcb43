namespace Durable.Protocol;

/// <summary>The reply protocol a connection speaks; RESP3 after <c>HELLO 3</c>.</summary>
public enum RespVersion
{
    Resp2 = 2,
    Resp3 = 3,
}
