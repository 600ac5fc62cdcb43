using System.Text;

namespace Durable.Benchmarks.Protocol;

/// <summary>Typical request frames, encoded once, as a client such as redis-benchmark sends them.</summary>
internal static class RespFrames
{
    public static byte[] Get { get; } = Multibulk("GET", "key:000000000042");

    public static byte[] Set100 { get; } = Multibulk("SET", "key:000000000042", new string('x', 100));

    public static byte[] Mset10 { get; } = Multibulk(
        [.. Enumerable.Range(0, 10).SelectMany(i => new[] { $"key:{i:D12}", new string('v', 100) }).Prepend("MSET")]);

    public static byte[] InlinePing { get; } = Encoding.ASCII.GetBytes("PING\r\n");

    public static byte[] Multibulk(params string[] args)
    {
        StringBuilder frame = new();
        frame.Append('*').Append(args.Length).Append("\r\n");
        foreach (string arg in args)
        {
            frame.Append('$').Append(Encoding.ASCII.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(frame.ToString());
    }
}
