using System.Text;
using KeraLua;

namespace Durable.Commands.Scripting;

/// <summary>
/// <c>cjson.encode</c> and <c>cjson.decode</c> as lua-cjson 2.1.0 (which Redis ships) does them with its default
/// settings: numbers as %.14g, '/' escaped, sparse arrays refused, 1,000 levels of nesting, strtod's numbers (hex,
/// inf, nan) accepted, JSON null as <c>cjson.null</c>, and its error messages. Failures are returned, not raised: the
/// Lua side raises them (see <see cref="ScriptEngine"/>).
/// </summary>
internal static class LuaJson
{
    private const int MaxDepth = 1000;

    // lua-cjson's json_token_type_name, by token.
    private enum Token
    {
        ObjectBegin,
        ObjectEnd,
        ArrayBegin,
        ArrayEnd,
        String,
        Number,
        Boolean,
        Null,
        Colon,
        Comma,
        End,
        Error,
    }

    private static readonly string[] s_tokenNames =
        ["T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_ERROR"];

    /// <summary>Encodes the value at the top of the stack; returns the JSON text, or null with lua-cjson's message.</summary>
    public static byte[]? Encode(Lua lua, out string? error)
    {
        List<byte> json = new(64);
        error = Append(lua, json, 0);
        return error is null ? [.. json] : null;
    }

    private static string? Append(Lua lua, List<byte> json, int depth)
    {
        switch (lua.Type(-1))
        {
            case LuaType.String:
                AppendString(json, lua.ToBuffer(-1, false));
                return null;
            case LuaType.Number:
                return AppendNumber(lua, json, -1);
            case LuaType.Boolean:
                json.AddRange(lua.ToBoolean(-1) ? "true"u8 : "false"u8);
                return null;
            case LuaType.Nil:
                json.AddRange("null"u8);
                return null;
            case LuaType.LightUserData when lua.ToUserData(-1) == IntPtr.Zero:
                json.AddRange("null"u8);
                return null;
            case LuaType.Table:
                depth++;
                if (depth > MaxDepth || !lua.CheckStack(3))
                {
                    return $"Cannot serialise, excessive nesting ({depth})";
                }

                int length = ArrayLength(lua, out string? sparse);
                if (sparse is not null)
                {
                    return sparse;
                }

                return length > 0 ? AppendArray(lua, json, depth, length) : AppendObject(lua, json, depth);
            default:
                return $"Cannot serialise {TypeName(lua, -1)}: type not supported";
        }
    }

    // lua_array_length: the largest key if every key is an integer >= 1, else -1; a sparse array is refused.
    private static int ArrayLength(Lua lua, out string? error)
    {
        error = null;
        double max = 0;
        int items = 0;
        lua.PushNil();
        while (lua.Next(-2))
        {
            if (lua.Type(-2) == LuaType.Number)
            {
                double key = lua.ToNumber(-2);
                if (key != 0 && Math.Floor(key) == key && key >= 1)
                {
                    max = Math.Max(max, key);
                    items++;
                    lua.Pop(1);
                    continue;
                }
            }

            lua.Pop(2);
            return -1;
        }

        if (max > items * 2 && max > 10)
        {
            error = "Cannot serialise table: excessively sparse array";
            return -1;
        }

        return (int)max;
    }

    private static string? AppendArray(Lua lua, List<byte> json, int depth, int length)
    {
        json.Add((byte)'[');
        for (int i = 1; i <= length; i++)
        {
            if (i > 1)
            {
                json.Add((byte)',');
            }

            lua.RawGetInteger(-1, i);
            string? error = Append(lua, json, depth);
            lua.Pop(1);
            if (error is not null)
            {
                return error;
            }
        }

        json.Add((byte)']');
        return null;
    }

    private static string? AppendObject(Lua lua, List<byte> json, int depth)
    {
        json.Add((byte)'{');
        bool first = true;
        lua.PushNil();
        while (lua.Next(-2))
        {
            if (!first)
            {
                json.Add((byte)',');
            }

            first = false;
            switch (lua.Type(-2))
            {
                case LuaType.Number:
                    json.Add((byte)'"');
                    string? invalid = AppendNumber(lua, json, -2);
                    if (invalid is not null)
                    {
                        lua.Pop(2);
                        return invalid;
                    }

                    json.AddRange("\":"u8);
                    break;
                case LuaType.String:
                    AppendString(json, lua.ToBuffer(-2, false));
                    json.Add((byte)':');
                    break;
                default:
                    string message = $"Cannot serialise {TypeName(lua, -2)}: table key must be a number or string";
                    lua.Pop(2);
                    return message;
            }

            string? error = Append(lua, json, depth);
            lua.Pop(1);
            if (error is not null)
            {
                lua.Pop(1);
                return error;
            }
        }

        json.Add((byte)'}');
        return null;
    }

    private static string? AppendNumber(Lua lua, List<byte> json, int index)
    {
        double value = lua.ToNumber(index);
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            return "Cannot serialise number: must not be NaN or Inf";
        }

        Span<byte> text = stackalloc byte[32];
        json.AddRange(text[..SortedSets.ScoreText.FormatSignificant(value, 14, text)]);
        return null;
    }

    private static void AppendString(List<byte> json, byte[] text)
    {
        json.Add((byte)'"');
        foreach (byte b in text)
        {
            switch (b)
            {
                case (byte)'"': json.AddRange("\\\""u8); break;
                case (byte)'\\': json.AddRange("\\\\"u8); break;
                case (byte)'/': json.AddRange("\\/"u8); break;
                case (byte)'\b': json.AddRange("\\b"u8); break;
                case (byte)'\f': json.AddRange("\\f"u8); break;
                case (byte)'\n': json.AddRange("\\n"u8); break;
                case (byte)'\r': json.AddRange("\\r"u8); break;
                case (byte)'\t': json.AddRange("\\t"u8); break;
                case < 0x20 or 0x7f:
                    json.AddRange(Encoding.ASCII.GetBytes($"\\u{b:x4}"));
                    break;
                default: json.Add(b); break;
            }
        }

        json.Add((byte)'"');
    }

    // Lua 5.1's type names, as lua-cjson's messages print them (a light userdata is "userdata").
    private static string TypeName(Lua lua, int index) => lua.Type(index) == LuaType.LightUserData ? "userdata" : lua.TypeName(index);

    /// <summary>Decodes <paramref name="text"/> and pushes the value; returns null, or lua-cjson's message (nothing pushed then).</summary>
    public static string? Decode(Lua lua, byte[] text)
    {
        int top = lua.GetTop();
        if (text.Length >= 2 && (text[0] == 0 || text[1] == 0))
        {
            return "JSON parser does not support UTF-16 or UTF-32";
        }

        Parser parser = new(lua, text);
        string? error = parser.Run();
        if (error is not null)
        {
            lua.SetTop(top);
        }

        return error;
    }

    private sealed class Parser(Lua lua, byte[] text)
    {
        private int _position;
        private int _depth;
        private Token _token;
        private int _tokenIndex;
        private string? _tokenError;
        private byte[] _string = [];
        private double _number;
        private bool _boolean;

        public string? Run()
        {
            Next();
            string? error = Value("value");
            if (error is not null)
            {
                return error;
            }

            Next();
            return _token == Token.End ? null : Expected("the end");
        }

        private byte At(int index) => index < text.Length ? text[index] : (byte)0;

        private string Expected(string what) =>
            $"Expected {what} but found {(_token == Token.Error ? _tokenError : s_tokenNames[(int)_token])} at character {_tokenIndex + 1}";

        private string? Value(string what)
        {
            switch (_token)
            {
                case Token.String:
                    lua.PushBuffer(_string);
                    return null;
                case Token.Number:
                    lua.PushNumber(_number);
                    return null;
                case Token.Boolean:
                    lua.PushBoolean(_boolean);
                    return null;
                case Token.Null:
                    lua.PushLightUserData(IntPtr.Zero);
                    return null;
                case Token.ObjectBegin:
                    return Object();
                case Token.ArrayBegin:
                    return Array();
                default:
                    return Expected(what);
            }
        }

        private string? Descend(int slots)
        {
            _depth++;
            return _depth <= MaxDepth && lua.CheckStack(slots) ? null : $"Found too many nested data structures ({_depth}) at character {_position}";
        }

        private string? Object()
        {
            if (Descend(3) is string deep)
            {
                return deep;
            }

            lua.NewTable();
            Next();
            if (_token == Token.ObjectEnd)
            {
                _depth--;
                return null;
            }

            while (true)
            {
                if (_token != Token.String)
                {
                    return Expected("object key string");
                }

                lua.PushBuffer(_string);
                Next();
                if (_token != Token.Colon)
                {
                    return Expected("colon");
                }

                Next();
                if (Value("value") is string error)
                {
                    return error;
                }

                lua.RawSet(-3);
                Next();
                if (_token == Token.ObjectEnd)
                {
                    _depth--;
                    return null;
                }

                if (_token != Token.Comma)
                {
                    return Expected("comma or object end");
                }

                Next();
            }
        }

        private string? Array()
        {
            if (Descend(2) is string deep)
            {
                return deep;
            }

            lua.NewTable();
            Next();
            if (_token == Token.ArrayEnd)
            {
                _depth--;
                return null;
            }

            for (int i = 1; ; i++)
            {
                if (Value("value") is string error)
                {
                    return error;
                }

                lua.RawSetInteger(-2, i);
                Next();
                if (_token == Token.ArrayEnd)
                {
                    _depth--;
                    return null;
                }

                if (_token != Token.Comma)
                {
                    return Expected("comma or array end");
                }

                Next();
            }
        }

        // json_next_token.
        private void Next()
        {
            while (At(_position) is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                _position++;
            }

            _tokenIndex = _position;
            byte c = At(_position);
            Token? single = c switch
            {
                (byte)'{' => Token.ObjectBegin,
                (byte)'}' => Token.ObjectEnd,
                (byte)'[' => Token.ArrayBegin,
                (byte)']' => Token.ArrayEnd,
                (byte)',' => Token.Comma,
                (byte)':' => Token.Colon,
                _ => null,
            };
            if (c == 0)
            {
                _token = Token.End;
                return;
            }

            if (single is Token token)
            {
                _token = token;
                _position++;
                return;
            }

            if (c == (byte)'"')
            {
                StringToken();
            }
            else if (c == (byte)'-' || char.IsAsciiDigit((char)c))
            {
                NumberToken();
            }
            else if (Matches("true"u8) || Matches("false"u8))
            {
                _token = Token.Boolean;
                _boolean = c == (byte)'t';
                _position += _boolean ? 4 : 5;
            }
            else if (Matches("null"u8))
            {
                _token = Token.Null;
                _position += 4;
            }
            else if (IsInvalidNumber())
            {
                NumberToken();
            }
            else
            {
                Fail("invalid token");
            }
        }

        private bool Matches(ReadOnlySpan<byte> word) => text.AsSpan(_position).StartsWith(word);

        private void Fail(string message)
        {
            _token = Token.Error;
            _tokenError = message;
            _tokenIndex = _position;
        }

        // json_is_invalid_number: what strtod reads but JSON does not (inf, nan); with decode_invalid_numbers on, they parse.
        private bool IsInvalidNumber()
        {
            int p = _position;
            if (At(p) == (byte)'+')
            {
                return true;
            }

            if (At(p) == (byte)'-')
            {
                p++;
            }

            if (At(p) <= (byte)'9')
            {
                return At(p) == (byte)'0' && ((At(p + 1) | 0x20) == 'x' || char.IsAsciiDigit((char)At(p + 1)));
            }

            ReadOnlySpan<byte> rest = text.AsSpan(Math.Min(p, text.Length));
            return rest.Length >= 3 && (Ascii.EqualsIgnoreCase(rest[..3], "inf"u8) || Ascii.EqualsIgnoreCase(rest[..3], "nan"u8));
        }

        private void NumberToken()
        {
            int length = SortedSets.ScoreText.ParsePrefix(text.AsSpan(_position), out _number);
            if (length == 0)
            {
                Fail("invalid number");
                return;
            }

            _token = Token.Number;
            _position += length;
        }

        // json_next_string_token.
        private void StringToken()
        {
            List<byte> value = [];
            _position++;
            while (At(_position) != (byte)'"')
            {
                byte c = At(_position);
                if (c == 0)
                {
                    Fail("unexpected end of string");
                    return;
                }

                if (c == (byte)'\\')
                {
                    byte escape = At(_position + 1);
                    if (escape == (byte)'u')
                    {
                        if (!UnicodeEscape(value))
                        {
                            Fail("invalid unicode escape code");
                            return;
                        }

                        continue;
                    }

                    byte? translated = escape switch
                    {
                        (byte)'"' => (byte)'"',
                        (byte)'\\' => (byte)'\\',
                        (byte)'/' => (byte)'/',
                        (byte)'b' => (byte)'\b',
                        (byte)'f' => (byte)'\f',
                        (byte)'n' => (byte)'\n',
                        (byte)'r' => (byte)'\r',
                        (byte)'t' => (byte)'\t',
                        _ => null,
                    };
                    if (translated is not byte b)
                    {
                        Fail("invalid escape code");
                        return;
                    }

                    c = b;
                    _position++;
                }

                value.Add(c);
                _position++;
            }

            _position++;
            _token = Token.String;
            _string = [.. value];
        }

        private bool UnicodeEscape(List<byte> value)
        {
            int codepoint = Hex4(_position + 2);
            int length = 6;
            if (codepoint < 0)
            {
                return false;
            }

            if ((codepoint & 0xF800) == 0xD800)
            {
                if ((codepoint & 0x400) != 0 || At(_position + 6) != (byte)'\\' || At(_position + 7) != (byte)'u')
                {
                    return false;
                }

                int low = Hex4(_position + 8);
                if (low < 0 || (low & 0xFC00) != 0xDC00)
                {
                    return false;
                }

                codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
                length = 12;
            }

            Span<byte> utf8 = stackalloc byte[4];
            int count = new Rune(codepoint).EncodeToUtf8(utf8);
            value.AddRange(utf8[..count]);
            _position += length;
            return true;
        }

        private int Hex4(int at)
        {
            int result = 0;
            for (int i = 0; i < 4; i++)
            {
                int digit = HexDigit(At(at + i));
                if (digit < 0)
                {
                    return -1;
                }

                result = (result << 4) | digit;
            }

            return result;
        }

        private static int HexDigit(byte c) => c switch
        {
            >= (byte)'0' and <= (byte)'9' => c - '0',
            >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
            _ => -1,
        };
    }
}
