using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>
/// A parsed RESP3 value, kept as a tree so that it can be written back in either protocol (maps and sets become arrays
/// in RESP2, as Redis downgrades them). Used for the COMMAND data taken from redis-server; never on the hot path.
/// </summary>
internal sealed class RespNode
{
    private RespNode(char type, string? text, long integer, RespNode[] children)
    {
        Type = type;
        Text = text;
        Integer = integer;
        Children = children;
    }

    /// <summary>The RESP3 type byte: + $ : * ~ % _ and so on.</summary>
    public char Type { get; }

    public string? Text { get; }

    public long Integer { get; }

    /// <summary>Elements of an array or set; for a map, keys and values alternating.</summary>
    public RespNode[] Children { get; }

    /// <summary>The value of <paramref name="key"/> in a map; null when absent or not a map.</summary>
    public RespNode? this[string key]
    {
        get
        {
            if (Type != '%')
            {
                return null;
            }

            for (int i = 0; i + 1 < Children.Length; i += 2)
            {
                if (Children[i].Text == key)
                {
                    return Children[i + 1];
                }
            }

            return null;
        }
    }

    /// <summary>Parses one value at <paramref name="position"/> and moves past it. Throws on malformed input (the data is ours).</summary>
    public static RespNode Parse(ReadOnlySpan<byte> data, ref int position)
    {
        char type = (char)data[position];
        int end = data[position..].IndexOf("\r\n"u8) + position;
        ReadOnlySpan<byte> header = data[(position + 1)..end];
        position = end + 2;
        switch (type)
        {
            case '$' or '=' or '!':
                {
                    int length = ParseInt(header);
                    if (length < 0)
                    {
                        return new RespNode('_', null, 0, []);
                    }

                    string text = Encoding.UTF8.GetString(data.Slice(position, length));
                    position += length + 2;
                    return new RespNode(type, text, 0, []);
                }

            case '*' or '~' or '>' or '%':
                {
                    int count = ParseInt(header);
                    if (count < 0)
                    {
                        return new RespNode('_', null, 0, []);
                    }

                    RespNode[] children = new RespNode[type == '%' ? 2 * count : count];
                    for (int i = 0; i < children.Length; i++)
                    {
                        children[i] = Parse(data, ref position);
                    }

                    return new RespNode(type, null, count, children);
                }

            case ':':
                return new RespNode(type, null, ParseInt(header), []);
            default:
                return new RespNode(type, Encoding.UTF8.GetString(header), 0, []);
        }
    }

    private static int ParseInt(ReadOnlySpan<byte> text) =>
        Utf8Parser.TryParse(text, out int value, out int consumed) && consumed == text.Length
            ? value
            : throw new InvalidDataException("malformed RESP length in command data");

    /// <summary>Writes the value in <paramref name="version"/>.</summary>
    public void Write(IBufferWriter<byte> writer, RespVersion version)
    {
        switch (Type)
        {
            case '+':
                RespWriter.WriteSimpleString(writer, Encoding.UTF8.GetBytes(Text!));
                break;
            case '$':
                RespWriter.WriteBulkString(writer, Encoding.UTF8.GetBytes(Text!));
                break;
            case ':':
                RespWriter.WriteInteger(writer, Integer);
                break;
            case '*' or '>':
                RespWriter.WriteArrayHeader(writer, Children.Length);
                WriteChildren(writer, version);
                break;
            case '~':
                RespWriter.WriteSetHeader(writer, Children.Length, version);
                WriteChildren(writer, version);
                break;
            case '%':
                RespWriter.WriteMapHeader(writer, Children.Length / 2, version);
                WriteChildren(writer, version);
                break;
            case '_':
                RespWriter.WriteNull(writer, version);
                break;
            default:
                RespWriter.WriteBulkString(writer, Encoding.UTF8.GetBytes(Text ?? ""));
                break;
        }
    }

    private void WriteChildren(IBufferWriter<byte> writer, RespVersion version)
    {
        foreach (RespNode child in Children)
        {
            child.Write(writer, version);
        }
    }
}
