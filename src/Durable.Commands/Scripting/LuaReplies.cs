using Durable.Protocol;
using KeraLua;

namespace Durable.Commands.Scripting;

/// <summary>
/// A command's RESP reply as the Lua value a script sees (Redis 7.0's redisProtocolToLuaType): integers, strings,
/// false for RESP2's nulls, arrays as tables, a status as <c>{ok=...}</c>, an error as <c>{err=...}</c>, and after
/// <c>redis.setresp(3)</c> RESP3's maps, sets, doubles, booleans, big numbers and nil.
/// </summary>
internal static class LuaReplies
{
    // Deeper than any reply a command writes; a guard, not a limit a script meets.
    private const int MaxDepth = 128;

    /// <summary>Pushes the reply that starts at <paramref name="position"/> and moves past it.</summary>
    public static void Push(Lua lua, ReadOnlySpan<byte> reply, ref int position, int depth)
    {
        if (depth > MaxDepth || !lua.CheckStack(4))
        {
            throw new InvalidOperationException("reached lua stack limit");
        }

        byte type = reply[position];
        int end = reply[position..].IndexOf("\r\n"u8) + position;
        ReadOnlySpan<byte> line = reply[(position + 1)..end];
        position = end + 2;
        switch (type)
        {
            case (byte)'+':
                PushField(lua, "ok", line);
                break;
            case (byte)'-':
                PushError(lua, reply[(end - line.Length - 1)..end]);
                break;
            case (byte)':':
                lua.PushInteger(Number(line));
                break;
            case (byte)'$':
                long length = Number(line);
                if (length < 0)
                {
                    lua.PushBoolean(false);
                    break;
                }

                lua.PushBuffer(reply.Slice(position, (int)length).ToArray());
                position += (int)length + 2;
                break;
            case (byte)'*' or (byte)'>':
                long count = Number(line);
                if (count < 0)
                {
                    lua.PushBoolean(false);
                    break;
                }

                lua.CreateTable((int)count, 0);
                for (int i = 1; i <= count; i++)
                {
                    Push(lua, reply, ref position, depth + 1);
                    lua.RawSetInteger(-2, i);
                }

                break;
            case (byte)'%' or (byte)'~':
                bool map = type == (byte)'%';
                long entries = Number(line);
                lua.CreateTable(0, 1);
                lua.PushString(map ? "map" : "set");
                lua.CreateTable(0, (int)entries);
                for (long i = 0; i < entries; i++)
                {
                    Push(lua, reply, ref position, depth + 1);
                    if (map)
                    {
                        Push(lua, reply, ref position, depth + 1);
                    }
                    else
                    {
                        lua.PushBoolean(true);
                    }

                    lua.RawSet(-3);
                }

                lua.RawSet(-3);
                break;
            case (byte)'_':
                lua.PushNil();
                break;
            case (byte)'#':
                lua.PushBoolean(line.Length > 0 && line[0] == (byte)'t');
                break;
            case (byte)',':
                lua.CreateTable(0, 1);
                lua.PushString("double");
                lua.PushNumber(Double(line));
                lua.RawSet(-3);
                break;
            case (byte)'(':
                PushField(lua, "big_number", line);
                break;
            case (byte)'=':
                long size = Number(line);
                ReadOnlySpan<byte> verbatim = reply.Slice(position, (int)size);
                position += (int)size + 2;
                lua.CreateTable(0, 1);
                lua.PushString("verbatim_string");
                lua.CreateTable(0, 2);
                lua.PushString("format");
                lua.PushBuffer(verbatim[..3].ToArray());
                lua.RawSet(-3);
                lua.PushString("string");
                lua.PushBuffer(verbatim[4..].ToArray());
                lua.RawSet(-3);
                lua.RawSet(-3);
                break;
            default:
                throw new FormatException($"reply type '{(char)type}' is not one a command writes");
        }
    }

    /// <summary>
    /// Pushes an error table (Redis luaPushErrorBuff): "-CODE message" keeps its code, a text without the '-' gets
    /// ERR; the message loses its line ends.
    /// </summary>
    public static void PushError(Lua lua, ReadOnlySpan<byte> text)
    {
        ReadOnlySpan<byte> code = "ERR"u8;
        ReadOnlySpan<byte> message = text;
        if (text.Length > 0 && text[0] == (byte)'-')
        {
            int space = text.IndexOf((byte)' ');
            if (space < 0)
            {
                message = text[1..];
            }
            else
            {
                code = text[1..space];
                message = text[(space + 1)..];
            }
        }

        message = message.Trim("\r\n"u8);
        PushField(lua, "err", [.. code, (byte)' ', .. message]);
    }

    private static void PushField(Lua lua, string name, ReadOnlySpan<byte> value)
    {
        lua.CreateTable(0, 1);
        lua.PushString(name);
        lua.PushBuffer(value.ToArray());
        lua.RawSet(-3);
    }

    private static long Number(ReadOnlySpan<byte> line) =>
        RedisNumber.TryParseInt64(line, out long value) ? value : throw new FormatException("a reply's length or integer does not parse");

    private static double Double(ReadOnlySpan<byte> line) => line switch
    {
        _ when line.SequenceEqual("inf"u8) => double.PositiveInfinity,
        _ when line.SequenceEqual("-inf"u8) => double.NegativeInfinity,
        _ when line.SequenceEqual("nan"u8) => double.NaN,
        _ => RedisNumber.TryParseDouble(line, out double value) ? value : throw new FormatException("a reply's double does not parse"),
    };
}
