using Durable.Protocol;

namespace Durable.Commands;

/// <summary>
/// A command's arguments copied out of the input buffer into one array, for a command that runs after its handler
/// returns (queued by MULTI, a script's deferred run) or one a script builds.
/// </summary>
internal sealed record PackedArgs(byte[] Data, int[] Bounds)
{
    public RespArgs Args => new(Data, Bounds);

    public static PackedArgs Copy(RespArgs args)
    {
        int length = 0;
        for (int i = 0; i < args.Count; i++)
        {
            length += args[i].Length;
        }

        byte[] data = new byte[length];
        int[] bounds = new int[args.Count * 2];
        int offset = 0;
        for (int i = 0; i < args.Count; i++)
        {
            args[i].CopyTo(data.AsSpan(offset));
            bounds[2 * i] = offset;
            bounds[(2 * i) + 1] = args[i].Length;
            offset += args[i].Length;
        }

        return new PackedArgs(data, bounds);
    }

    public static PackedArgs Of(byte[][] parts)
    {
        int length = 0;
        foreach (byte[] part in parts)
        {
            length += part.Length;
        }

        byte[] data = new byte[length];
        int[] bounds = new int[parts.Length * 2];
        int offset = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i].CopyTo(data, offset);
            bounds[2 * i] = offset;
            bounds[(2 * i) + 1] = parts[i].Length;
            offset += parts[i].Length;
        }

        return new PackedArgs(data, bounds);
    }
}
