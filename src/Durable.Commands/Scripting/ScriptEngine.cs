using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Durable.Protocol;
using KeraLua;
using Microsoft.Extensions.Logging;

namespace Durable.Commands.Scripting;

/// <summary>
/// One of the server's two Lua interpreters (Lua 5.4 through KeraLua, where Redis embeds 5.1), as Redis 7.0's eval.c,
/// function_lua.c and script_lua.c: EVAL's, with its script cache, or the function libraries' (FUNCTION LOAD compiles a
/// library here, FCALL runs what it registered; <see cref="FunctionLibraries"/> keeps the libraries). Scripts run one at a
/// time: the store's hold-and-wait lock orders them, and the engine's lock covers the interpreter. Lua errors never cross
/// a C# frame (a longjmp through managed code is undefined): the C# functions return their failures, and the Lua side
/// of the library (<c>ScriptPrelude.lua</c>) raises them.
/// </summary>
#pragma warning disable CA1001 // the interpreter lives as long as the server's process, which frees it
internal sealed class ScriptEngine
#pragma warning restore CA1001
{
    // Redis's lua stack limit for replies nested this deep (a table that holds itself would recurse forever).
    private const int MaxReplyDepth = 1000;

    // LUA_RIDX_GLOBALS: where the registry keeps the globals table.
    private const int GlobalsIndex = 2;

    // Redis's LOAD_TIMEOUT_MS: how long a library's code may run while it registers its functions.
    private const int LoadTimeoutMs = 500;

    private readonly Lua _lua = new(openLibs: true);
    private readonly Lock _gate = new();
    // Written under the gate, read without it: INFO and SCRIPT EXISTS answer while a script runs.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CachedScript> _scripts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;

    // Kept here so that the collector never frees a delegate Lua still calls.
    private readonly LuaFunction _call;
    private readonly LuaFunction _errorReply;
    private readonly LuaFunction _sha1Hex;
    private readonly LuaFunction _aclCheck;
    private readonly LuaFunction _log;
    private readonly LuaFunction _setResp;
    private readonly LuaFunction _killed;
    private readonly LuaFunction _jsonEncode;
    private readonly LuaFunction _jsonDecode;
    private readonly LuaFunction? _register;
    private readonly int _errorHandler;

    // The functions interpreter's: the globals every library's code gets, and the prelude's switch between what that
    // code sees while it loads and what its functions see when they run.
    private readonly int _functionEnv;
    private readonly int _setLoading;

    // While a library's code runs (FUNCTION LOAD): the functions it registered so far, and when it began.
    private List<RegisteredFunction>? _registering;
    private long _loadStarted;

    private long _cachedBytes;

    // The reply of a script's current command, reused: scripts run one at a time, under the gate. One grown past
    // MostKeptReplyBytes by a large reply is let go after its script.
    private const int MostKeptReplyBytes = 1 << 20;
    private ArrayBufferWriter<byte> _replies = new(256);
    private long _memoryBytes;
    private volatile ScriptRun? _running;
    private volatile bool _killRequested;

    /// <param name="logger">Where redis.log writes.</param>
    /// <param name="functions">The function libraries' interpreter (FUNCTION, FCALL) rather than EVAL's.</param>
    public ScriptEngine(ILogger logger, bool functions = false)
    {
        _logger = logger;
        _call = Call;
        _errorReply = ErrorReply;
        _sha1Hex = Sha1Hex;
        _log = Log;
        _setResp = SetResp;
        _killed = Killed;
        _jsonEncode = JsonEncode;
        _jsonDecode = JsonDecode;
        _aclCheck = AclCheck;

        using Stream prelude = typeof(ScriptEngine).Assembly.GetManifestResourceStream("Durable.Commands.Scripting.ScriptPrelude.lua")!;
        using MemoryStream bytes = new();
        prelude.CopyTo(bytes);
        if (_lua.LoadBuffer(bytes.ToArray(), "=prelude", "t") != LuaStatus.OK)
        {
            throw new InvalidOperationException("the script prelude does not compile: " + _lua.ToString(-1));
        }

        LuaFunction[] library = [_call, _errorReply, _sha1Hex, _log, _setResp, _killed, _jsonEncode, _jsonDecode, _aclCheck];
        foreach (LuaFunction function in library)
        {
            _lua.PushCFunction(function);
        }

        // cjson.null: a light userdata holding NULL, as lua-cjson's.
        _lua.PushLightUserData(IntPtr.Zero);
        _lua.PushString(functions ? "@user_function" : "@user_script");
        if (functions)
        {
            _register = Register;
            _lua.PushCFunction(_register);
        }

        int arguments = library.Length + (functions ? 3 : 2);
        if (_lua.PCall(arguments, functions ? 3 : 1, 0) != LuaStatus.OK)
        {
            throw new InvalidOperationException("the script prelude failed: " + _lua.ToString(-1));
        }

        if (functions)
        {
            _setLoading = _lua.Ref(LuaRegistry.Index);
            _functionEnv = _lua.Ref(LuaRegistry.Index);
        }

        _errorHandler = _lua.Ref(LuaRegistry.Index);
    }

    /// <summary>The number of scripts in the cache (INFO number_of_cached_scripts).</summary>
    public int CachedScripts => _scripts.Count;

    /// <summary>The bytes of the cached scripts' bodies (INFO used_memory_scripts_eval).</summary>
    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>Memory the interpreter held after the last script or load, in bytes (INFO used_memory_lua).</summary>
    public long MemoryBytes => Interlocked.Read(ref _memoryBytes);

    // Under the gate: the interpreter may be asked only by the thread that holds it.
    private void NoteMemory() =>
        Interlocked.Exchange(ref _memoryBytes, (_lua.GarbageCollector(LuaGC.Count, 0) * 1024L) + _lua.GarbageCollector(LuaGC.Countb, 0));

    /// <summary>Redis's script name: the SHA1 of the body, in lower-case hex.</summary>
#pragma warning disable CA5350 // Redis names scripts by their SHA1: a name, not a security measure
    public static string Sha1Of(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA1.HashData(body));
#pragma warning restore CA5350

    /// <summary>
    /// Compiles <paramref name="body"/> into the cache unless it is there; returns its SHA1, or null with Redis's
    /// error in <paramref name="error"/> (a bad shebang, a syntax error).
    /// </summary>
    public string? Load(ReadOnlySpan<byte> body, out string? error)
    {
        string sha = Sha1Of(body);
        lock (_gate)
        {
            if (_scripts.ContainsKey(sha))
            {
                error = null;
                return sha;
            }

            if (!ScriptShebang.TryRead(body, out ScriptFlags flags, out int shebangLength, out error))
            {
                return null;
            }

            // The shebang line is not Lua: it becomes a comment, so that line numbers stay the script's own.
            byte[] source = body.ToArray();
            if (shebangLength > 0)
            {
                source[0] = (byte)'-';
                source[1] = (byte)'-';
            }

            if (_lua.LoadBuffer(source, "@user_script", "t") != LuaStatus.OK)
            {
                error = "ERR Error compiling script (new function): " + CompileError();
                return null;
            }

            _scripts[sha] = new CachedScript(_lua.Ref(LuaRegistry.Index), flags);
            Interlocked.Add(ref _cachedBytes, body.Length);
            NoteMemory();
            error = null;
            return sha;
        }
    }

    // The syntax error on top of the stack, popped. Lua 5.1 quotes the end of the code where 5.4 does not; the rest of a
    // syntax error reads the same.
    private string CompileError()
    {
        string message = Latin1(_lua.ToBuffer(-1, false) ?? []).Replace(" near <eof>", " near '<eof>'", StringComparison.Ordinal)
            .Replace('\r', ' ').Replace('\n', ' ');
        _lua.Pop(1);
        return message;
    }

    /// <summary>Whether a script of this SHA1 is cached (case does not matter, as in Redis).</summary>
    public bool Exists(ReadOnlySpan<byte> sha) => _scripts.ContainsKey(Latin1(sha));

    /// <summary>The flags of a cached script (its shebang's), or null if it is not cached.</summary>
    public ScriptFlags? FlagsOf(string sha) => _scripts.TryGetValue(sha, out CachedScript? script) ? script.Flags : null;

    /// <summary>SCRIPT FLUSH: forgets every cached script.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            foreach (CachedScript script in _scripts.Values)
            {
                _lua.Unref(LuaRegistry.Index, script.Reference);
            }

            _scripts.Clear();
            Interlocked.Exchange(ref _cachedBytes, 0);
            _lua.GarbageCollector(LuaGC.Collect, 0);
            NoteMemory();
        }
    }

    /// <summary>The script or function running now, or null.</summary>
    public ScriptRun? Running => _running;

    /// <summary>
    /// SCRIPT KILL, FUNCTION KILL: stops the running script at its next check, unless it has written. Returns Redis's
    /// error, or null when the kill was requested.
    /// </summary>
    public string? Kill()
    {
        ScriptRun? running = _running;
        if (running is null)
        {
            return "NOTBUSY No scripts in execution right now.";
        }

        if (running.Wrote)
        {
            return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
        }

        _killRequested = true;
        return null;
    }

    /// <summary>
    /// Runs the cached script <paramref name="sha"/> with KEYS and ARGV from <paramref name="args"/> (keys from index
    /// 3 on, <paramref name="keyCount"/> of them) and writes its reply. Returns false, writing nothing, if the script is
    /// not cached. The script's commands take their keys' stripes through <paramref name="locks"/>.
    /// </summary>
    public bool Run(CommandContext context, string sha, RespArgs args, int keyCount, bool readOnly, ScriptLocks locks)
    {
        lock (_gate)
        {
            if (!_scripts.TryGetValue(sha, out CachedScript? script))
            {
                return false;
            }

            RunReference(context, sha.ToLowerInvariant(), script.Reference, args, keyCount, readOnly, locks, caller: null);
            return true;
        }
    }

    /// <summary>
    /// Runs a function a library registered (FCALL) with its keys and arguments from <paramref name="caller"/> (keys
    /// from index 3 on, <paramref name="keyCount"/> of them) as its two parameters, and writes its reply.
    /// </summary>
    public void RunFunction(CommandContext context, RegisteredFunction function, PackedArgs caller, int keyCount, bool readOnly, ScriptLocks locks)
    {
        lock (_gate)
        {
            RunReference(context, function.Name, function.Reference, caller.Args, keyCount, readOnly, locks, caller);
        }
    }

    // Under the gate. A script (caller null) finds its keys and arguments in KEYS and ARGV; a function gets them as parameters.
    private void RunReference(CommandContext context, string name, int reference, RespArgs args, int keyCount, bool readOnly, ScriptLocks locks, PackedArgs? caller)
    {
        int top = _lua.GetTop();
        ScriptRun run = new(context, name, readOnly, locks, _replies, caller);
        int db = context.Client.Db;
        string lastCommand = context.Client.LastCommand;
        try
        {
            int parameters = 0;
            if (caller is null)
            {
                SetGlobalArray("KEYS", args, 3, keyCount);
                SetGlobalArray("ARGV", args, 3 + keyCount, args.Count - 3 - keyCount);
            }

            _lua.RawGetInteger(LuaRegistry.Index, _errorHandler);
            _lua.RawGetInteger(LuaRegistry.Index, reference);
            if (caller is not null)
            {
                PushArray(args, 3, keyCount);
                PushArray(args, 3 + keyCount, args.Count - 3 - keyCount);
                parameters = 2;
            }

            _killRequested = false;
            _running = run;
            context.Client.RunningScript = true;
            LuaStatus status = _lua.PCall(parameters, 1, top + 1);
            _running = null;
            context.ErrorWritten = false;
            if (status == LuaStatus.OK)
            {
                WriteValue(context, run, 0);
            }
            else
            {
                WriteFailure(context, run);
            }
        }
        finally
        {
            _running = null;
            _killRequested = false;
            context.Client.RunningScript = false;
            _lua.SetTop(top);
            NoteMemory();
            if (_replies.Capacity > MostKeptReplyBytes)
            {
                _replies = new(256);
            }

            context.Client.Db = db;
            context.Client.LastCommand = lastCommand;
        }
    }

    // Sets global name to a table of count arguments from first on, past the globals' read-only guard.
    private void SetGlobalArray(string name, RespArgs args, int first, int count)
    {
        _lua.RawGetInteger(LuaRegistry.Index, GlobalsIndex);
        _lua.PushString(name);
        PushArray(args, first, count);
        _lua.RawSet(-3);
        _lua.Pop(1);
    }

    // Pushes a table of count arguments from first on.
    private void PushArray(RespArgs args, int first, int count)
    {
        _lua.CreateTable(count, 0);
        for (int i = 0; i < count; i++)
        {
            _lua.PushBuffer(args[first + i].ToArray());
            _lua.RawSetInteger(-2, i + 1);
        }
    }

    // redis.call and redis.pcall: (true, reply) or (false, error table); the Lua side raises for redis.call.
    private int Call(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        try
        {
            ScriptRun? run = _running;
            if (run is null || ArgumentsOf(lua) is not { } parts)
            {
                return ArgumentsFailure(lua);
            }

            if (run.Execute(parts) is string refusal)
            {
                return Failure(lua, refusal);
            }

            ReadOnlySpan<byte> reply = run.Replies.WrittenSpan;
            lua.PushBoolean(reply[0] != (byte)'-');
            int position = 0;
            LuaReplies.Push(lua, reply, ref position, 0);
            return 2;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            return Failure(lua, e.Message);
        }
    }

    // redis.acl_check_cmd: (true, whether the caller's user may run the command) or (false, error table); the Lua side raises.
    private int AclCheck(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        ScriptRun? run = _running;
        if (run is null || ArgumentsOf(lua) is not { } parts)
        {
            return ArgumentsFailure(lua);
        }

        CommandDefinition? command = run.Context.Server.Commands.Lookup(parts);
        if (command is null)
        {
            return Failure(lua, "Invalid command passed to redis.acl_check_cmd()");
        }

        lua.PushBoolean(true);
        lua.PushBoolean(run.Context.Client.AclUser!.Rules.Check(command, PackedArgs.Of(parts).Args, out _) == Acl.AclDenial.None);
        return 2;
    }

    // Redis luaArgsToRedisArgv: the arguments of a redis.* call as a command's, or null (no arguments, or one that is
    // neither a string nor a number: ArgumentsFailure says which).
    private static byte[][]? ArgumentsOf(Lua lua)
    {
        int count = lua.GetTop();
        byte[][] parts = new byte[count][];
        for (int i = 1; i <= count; i++)
        {
            if (ArgumentOf(lua, i) is not { } part)
            {
                return null;
            }

            parts[i - 1] = part;
        }

        return count == 0 ? null : parts;
    }

    private static int ArgumentsFailure(Lua lua) => Failure(
        lua,
        lua.GetTop() == 0 ? "Please specify at least one argument for this redis lib call" : "Lua redis lib command arguments must be strings or integers");

    // Redis converts a number argument with fpconv_dtoa: integers without a decimal point, others as short as they round-trip.
    private static byte[]? ArgumentOf(Lua lua, int index)
    {
        switch (lua.Type(index))
        {
            case LuaType.String:
                return lua.ToBuffer(index, false);
            case LuaType.Number:
                if (lua.IsInteger(index))
                {
                    return Encoding.ASCII.GetBytes(lua.ToInteger(index).ToString(CultureInfo.InvariantCulture));
                }

                double value = lua.ToNumber(index);
                string text = Math.Abs(value) < 1e17 && value == Math.Floor(value)
                    ? ((long)value).ToString(CultureInfo.InvariantCulture)
                    : value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
                return Encoding.ASCII.GetBytes(text);
            default:
                return null;
        }
    }

    private static int Failure(Lua lua, string message)
    {
        lua.PushBoolean(false);
        LuaReplies.PushError(lua, Encoding.Latin1.GetBytes(message));
        return 2;
    }

    // redis.error_reply(message): Redis adds the '-' it reads the error code after.
    private int ErrorReply(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        byte[] message = lua.ToBuffer(1, false) ?? [];
        LuaReplies.PushError(lua, message.Length > 0 && message[0] == (byte)'-' ? message : [(byte)'-', .. message]);
        return 1;
    }

    private int Sha1Hex(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        byte[] text = lua.Type(1) is LuaType.String or LuaType.Number ? lua.ToBuffer(1, false) ?? [] : [];
        lua.PushString(Sha1Of(text));
        return 1;
    }

    private int Log(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        LogLevel level = lua.ToInteger(1) switch
        {
            0 => LogLevel.Debug,
            1 => LogLevel.Debug,
            2 => LogLevel.Information,
            _ => LogLevel.Warning,
        };
        if (_logger.IsEnabled(level))
        {
#pragma warning disable CA1848 // a script's own message, at the level the script chose
            _logger.Log(level, "{ScriptMessage}", Latin1(lua.ToBuffer(2, false) ?? []));
#pragma warning restore CA1848
        }

        return 0;
    }

    private int SetResp(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        if (_running is ScriptRun run)
        {
            run.Resp = lua.ToInteger(1) == 3 ? RespVersion.Resp3 : RespVersion.Resp2;
        }

        return 0;
    }

    // cjson.encode(value): (true, text) or (false, message); the Lua side raises.
    private static int JsonEncode(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        lua.SetTop(1);
        byte[]? json = LuaJson.Encode(lua, out string? error);
        lua.PushBoolean(json is not null);
        if (json is not null)
        {
            lua.PushBuffer(json);
        }
        else
        {
            lua.PushString(error);
        }

        return 2;
    }

    // cjson.decode(text): (true, value) or (false, message); the Lua side raises.
    private static int JsonDecode(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        byte[] text = lua.ToBuffer(1, false) ?? [];
        lua.PushBoolean(true);
        if (LuaJson.Decode(lua, text) is string error)
        {
            lua.Pop(1);
            lua.PushBoolean(false);
            lua.PushString(error);
        }

        return 2;
    }

    // The prelude's hook: the error that stops the code now (a kill, a library's code past its time), or nil.
    private int Killed(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        if (_registering is not null && Stopwatch.GetElapsedTime(_loadStarted).TotalMilliseconds > LoadTimeoutMs)
        {
            lua.PushString("ERR FUNCTION LOAD timeout");
        }
        else if (_killRequested)
        {
            lua.PushString("ERR Script killed by user with SCRIPT KILL...");
        }
        else
        {
            lua.PushNil();
        }

        return 1;
    }

    /// <summary>
    /// Compiles a library's code (what follows its shebang line, from the line break on, so that line numbers count the
    /// shebang) and runs it, collecting the functions it registers. False with Redis's error when it does not compile,
    /// fails, or registers a function twice; a library that registers nothing is the caller's to refuse.
    /// </summary>
    public bool CompileLibrary(ReadOnlySpan<byte> code, [NotNullWhen(true)] out List<RegisteredFunction>? functions, [NotNullWhen(false)] out string? error)
    {
        lock (_gate)
        {
            functions = null;
            if (_lua.LoadBuffer(code.ToArray(), "@user_function", "t") != LuaStatus.OK)
            {
                error = "ERR Error compiling function: " + CompileError();
                return false;
            }

            // The chunk's _ENV: every library's code and functions see their globals through the prelude's function_env.
            _lua.RawGetInteger(LuaRegistry.Index, _functionEnv);
            _lua.SetUpValue(-2, 1);
            _registering = [];
            _loadStarted = Stopwatch.GetTimestamp();
            SetLoading(true);
            LuaStatus status = _lua.PCall(0, 0, 0);
            SetLoading(false);
            List<RegisteredFunction> registered = _registering;
            _registering = null;
            if (status != LuaStatus.OK)
            {
                string message = _lua.Type(-1) == LuaType.Table
                    ? (Field("err") == LuaType.String ? Latin1(_lua.ToBuffer(-1, false)) : "ERR unknown error")
                    : "ERR " + Latin1(_lua.ToBuffer(-1, false) ?? []);
                _lua.SetTop(0);
                Release(registered);
                error = "ERR Error registering functions: " + message;
                return false;
            }

            NoteMemory();
            functions = registered;
            error = null;
            return true;
        }
    }

    /// <summary>Lets go of functions no library holds any more (a library deleted, replaced, flushed, or refused).</summary>
    public void Release(IEnumerable<RegisteredFunction> functions)
    {
        lock (_gate)
        {
            foreach (RegisteredFunction function in functions)
            {
                _lua.Unref(LuaRegistry.Index, function.Reference);
            }

            _lua.GarbageCollector(LuaGC.Collect, 0);
            NoteMemory();
        }
    }

    private void SetLoading(bool loading)
    {
        _lua.RawGetInteger(LuaRegistry.Index, _setLoading);
        _lua.PushBoolean(loading);
        _lua.PCall(1, 0, 0);
    }

    // redis.register_function's last step, its arguments checked by the prelude: (name, callback, description or nil,
    // flags as comma-separated names). Returns Redis's refusal, or nothing.
    private int Register(IntPtr state)
    {
        Lua lua = Lua.FromIntPtr(state);
        if (_registering is null)
        {
            lua.PushString("redis.register_function can only be called on FUNCTION LOAD command");
            return 1;
        }

        string name = Latin1(lua.ToBuffer(1, false) ?? []);
        if (!FunctionLibraries.IsValidName(name))
        {
            lua.PushString(FunctionLibraries.InvalidName);
            return 1;
        }

        if (_registering.Exists(f => f.Name == name))
        {
            lua.PushString("Function already exists in the library");
            return 1;
        }

        string? description = lua.Type(3) == LuaType.String ? Latin1(lua.ToBuffer(3, false)) : null;
        ScriptFlags flags = ScriptFlags.None;
        foreach (string flag in (lua.ToString(4, false) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            flags |= ScriptShebang.FlagOf(flag);
        }

        lua.PushCopy(2);
        _registering.Add(new RegisteredFunction(name, description, flags, lua.Ref(LuaRegistry.Index)));
        return 0;
    }

    // The script's return value (top of the stack) as the client's reply.
    private void WriteValue(CommandContext context, ScriptRun run, int depth)
    {
        if (depth > MaxReplyDepth || !_lua.CheckStack(4))
        {
            context.WriteError("ERR reached lua stack limit"u8);
            return;
        }

        switch (_lua.Type(-1))
        {
            case LuaType.String:
                context.WriteBulk(_lua.ToBuffer(-1, false));
                break;
            case LuaType.Boolean:
                bool value = _lua.ToBoolean(-1);
                if (run.Resp == RespVersion.Resp2)
                {
                    if (value)
                    {
                        context.WriteInteger(1);
                    }
                    else
                    {
                        context.WriteNull();
                    }
                }
                else
                {
                    RespWriter.WriteBoolean(context.Reply, value, context.Protocol);
                }

                break;
            case LuaType.Number:
                context.WriteInteger(_lua.IsInteger(-1) ? _lua.ToInteger(-1) : Truncate(_lua.ToNumber(-1)));
                break;
            case LuaType.Table:
                WriteTable(context, run, depth);
                break;
            default:
                context.WriteNull();
                break;
        }
    }

    // C's (long long) cast on x86-64: out of range and NaN give LLONG_MIN.
    private static long Truncate(double value) =>
        double.IsNaN(value) || value >= 9223372036854775808.0 || value < -9223372036854775808.0 ? long.MinValue : (long)value;

    // Redis luaReplyToRedisReply for a table: an error, a status, a RESP3 type, or else an array up to the first nil.
    private void WriteTable(CommandContext context, ScriptRun run, int depth)
    {
        if (Field("err") == LuaType.String)
        {
            context.WriteError(OneLine(_lua.ToBuffer(-1, false)));
            _lua.Pop(1);
            return;
        }

        _lua.Pop(1);
        if (Field("ok") == LuaType.String)
        {
            context.WriteSimple(OneLine(_lua.ToBuffer(-1, false)));
            _lua.Pop(1);
            return;
        }

        _lua.Pop(1);
        if (Field("double") == LuaType.Number)
        {
            Span<byte> text = stackalloc byte[32];
            int length = SortedSets.ScoreText.Format(_lua.ToNumber(-1), text);
            RespWriter.WriteDouble(context.Reply, text[..length], context.Protocol);
            _lua.Pop(1);
            return;
        }

        _lua.Pop(1);
        if (Field("big_number") == LuaType.String)
        {
            byte[] digits = OneLine(_lua.ToBuffer(-1, false));
            if (context.Protocol == RespVersion.Resp3)
            {
                RespWriter.WriteRaw(context.Reply, [(byte)'(', .. digits, (byte)'\r', (byte)'\n']);
            }
            else
            {
                context.WriteBulk(digits);
            }

            _lua.Pop(1);
            return;
        }

        _lua.Pop(1);
        if (Field("map") == LuaType.Table)
        {
            context.WriteMapHeader(CountPairs());
            _lua.PushNil();
            while (_lua.Next(-2))
            {
                _lua.PushCopy(-2);
                WriteValue(context, run, depth + 1);
                _lua.Pop(1);
                WriteValue(context, run, depth + 1);
                _lua.Pop(1);
            }

            _lua.Pop(1);
            return;
        }

        _lua.Pop(1);
        if (Field("set") == LuaType.Table)
        {
            context.WriteSetHeader(CountPairs());
            _lua.PushNil();
            while (_lua.Next(-2))
            {
                _lua.Pop(1);
                _lua.PushCopy(-1);
                WriteValue(context, run, depth + 1);
                _lua.Pop(1);
            }

            _lua.Pop(1);
            return;
        }

        _lua.Pop(1);
        if (Field("verbatim_string") == LuaType.Table)
        {
            _lua.PushString("string");
            _lua.RawGet(-2);
            RespWriter.WriteVerbatim(context.Reply, _lua.ToBuffer(-1, false) ?? [], context.Protocol);
            _lua.Pop(2);
            return;
        }

        _lua.Pop(1);
        int count = 0;
        while (_lua.RawGetInteger(-1, count + 1) != LuaType.Nil)
        {
            _lua.Pop(1);
            count++;
        }

        _lua.Pop(1);
        context.WriteArrayHeader(count);
        for (int i = 1; i <= count; i++)
        {
            _lua.RawGetInteger(-1, i);
            WriteValue(context, run, depth + 1);
            _lua.Pop(1);
        }
    }

    // Pushes field name of the table on top, without metamethods; returns its type.
    private LuaType Field(string name)
    {
        _lua.PushString(name);
        return _lua.RawGet(-2);
    }

    private int CountPairs()
    {
        int count = 0;
        _lua.PushNil();
        while (_lua.Next(-2))
        {
            _lua.Pop(1);
            count++;
        }

        return count;
    }

    // An uncaught error: Redis appends the script's name and the line the error table carries.
    private void WriteFailure(CommandContext context, ScriptRun run)
    {
        string text;
        if (_lua.Type(-1) != LuaType.Table)
        {
            // An error the handler did not turn into a table (it failed itself, or memory ran out).
            text = "ERR " + Latin1(_lua.ToBuffer(-1, false) ?? []);
        }
        else
        {
            text = Field("err") == LuaType.String ? Latin1(_lua.ToBuffer(-1, false)) : "ERR unknown error";
            _lua.Pop(1);
            string? source = Field("source") == LuaType.String ? _lua.ToString(-1, false) : null;
            _lua.Pop(1);
            if (source is not null)
            {
                if (Field("line") == LuaType.Number)
                {
                    text += $" script: {run.Name}, on {source}:{_lua.ToInteger(-1)}.";
                }

                _lua.Pop(1);
            }
        }

        context.WriteError(Encoding.Latin1.GetBytes(text.Replace('\r', ' ').Replace('\n', ' ')));
    }

    private static byte[] OneLine(byte[] text)
    {
        byte[] copy = (byte[])text.Clone();
        for (int i = 0; i < copy.Length; i++)
        {
            if (copy[i] is (byte)'\r' or (byte)'\n')
            {
                copy[i] = (byte)' ';
            }
        }

        return copy;
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}

/// <summary>A compiled script: where the registry holds its function, and its shebang's flags.</summary>
internal sealed record CachedScript(int Reference, ScriptFlags Flags);

/// <summary>A function a library registered: its name, description and flags, and where the registry holds it.</summary>
internal sealed record RegisteredFunction(string Name, string? Description, ScriptFlags Flags, int Reference);

/// <summary>
/// One script's or function's run: the connection it runs for, the replies of its commands, and what it did.
/// <paramref name="caller"/>: a function's FCALL, as FUNCTION STATS shows it.
/// </summary>
internal sealed class ScriptRun(CommandContext context, string name, bool readOnly, ScriptLocks locks, ArrayBufferWriter<byte> replies, PackedArgs? caller)
{
    private readonly List<int> _keyIndexes = new(8);

    public CommandContext Context { get; } = context;

    /// <summary>What Redis's errors call it: the script's SHA1, the function's name.</summary>
    public string Name { get; } = name;

    /// <summary>The FCALL that runs a function; null for a script.</summary>
    public PackedArgs? Caller { get; } = caller;

    /// <summary>When it began (a <see cref="Stopwatch"/> timestamp).</summary>
    public long Started { get; } = Stopwatch.GetTimestamp();

    /// <summary>The protocol the script's commands reply in (redis.setresp).</summary>
    public RespVersion Resp { get; set; } = RespVersion.Resp2;

    /// <summary>Set once a command of the script changed the store: SCRIPT KILL may no longer stop it.</summary>
    public bool Wrote { get; private set; }

    /// <summary>The last command's reply.</summary>
    public ArrayBufferWriter<byte> Replies { get; } = replies;

    /// <summary>
    /// Runs one command of the script (redis.call); its reply is in <see cref="Replies"/>. Returns Redis's refusal
    /// instead when the command may not run from a script.
    /// </summary>
    public string? Execute(byte[][] parts)
    {
        CommandContext context = Context;
        CommandDefinition? definition = context.Server.Commands.Lookup(parts);
        if (definition is null)
        {
            return "Unknown Redis command called from script";
        }

        if (!definition.AcceptsArgumentCount(parts.Length))
        {
            return "Wrong number of args calling Redis command from script";
        }

        if ((definition.Flags & CommandFlags.NoScript) != 0)
        {
            return "This Redis command is not allowed from script";
        }

        PackedArgs packed = PackedArgs.Of(parts);
        RespArgs args = packed.Args;
        if (Acl.AclChecks.Check(context, definition, args, Acl.AclChecks.Lua) is var denial and not Acl.AclDenial.None)
        {
            return Acl.AclChecks.ScriptRefusal(denial);
        }

        if ((definition.Flags & CommandFlags.Write) != 0)
        {
            if (readOnly)
            {
                return "Write commands are not allowed from read-only scripts.";
            }

            if (context.Store.WriteFailure is string failure)
            {
                return "-" + CommandDispatcher.WriteRefusal(failure);
            }

            if (CommandDispatcher.RefusedAsReadOnlyReplica(context))
            {
                return "-" + System.Text.Encoding.ASCII.GetString(CommandDispatcher.ReadOnlyReplica);
            }
        }

        locks.Cover(definition, args);
        Replies.ResetWrittenCount();
        IBufferWriter<byte> reply = context.Reply;
        RespVersion protocol = context.Client.Protocol;
        int logged = context.Session.LoggedRecords;
        context.Reply = Replies;
        context.Client.Protocol = Resp;
        try
        {
            CommandDispatcher.RunWithin(context, definition, args, _keyIndexes);
        }
        finally
        {
            context.Reply = reply;
            context.Client.Protocol = protocol;
        }

        Wrote |= context.Session.LoggedRecords > logged;
        return null;
    }
}
