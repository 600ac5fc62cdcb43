namespace Durable.Protocol;

/// <summary>Fixed replies, written as they are.</summary>
public static class RespConstants
{
    public static ReadOnlySpan<byte> Ok => "+OK\r\n"u8;
    public static ReadOnlySpan<byte> Pong => "+PONG\r\n"u8;
    public static ReadOnlySpan<byte> Queued => "+QUEUED\r\n"u8;
    public static ReadOnlySpan<byte> NullBulk => "$-1\r\n"u8;
    public static ReadOnlySpan<byte> NullArray => "*-1\r\n"u8;
    public static ReadOnlySpan<byte> Null3 => "_\r\n"u8;
    public static ReadOnlySpan<byte> EmptyArray => "*0\r\n"u8;
    public static ReadOnlySpan<byte> EmptyBulk => "$0\r\n\r\n"u8;
    public static ReadOnlySpan<byte> Zero => ":0\r\n"u8;
    public static ReadOnlySpan<byte> One => ":1\r\n"u8;
    public static ReadOnlySpan<byte> MinusOne => ":-1\r\n"u8;
    public static ReadOnlySpan<byte> MinusTwo => ":-2\r\n"u8;
    public static ReadOnlySpan<byte> CrLf => "\r\n"u8;
}
