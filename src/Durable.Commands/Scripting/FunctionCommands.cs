using System.Buffers;
using System.Diagnostics;
using System.Text;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Scripting;

/// <summary>
/// FUNCTION, FCALL and FCALL_RO, as Redis 7.0's functions.c. The libraries are durable: every FUNCTION command that
/// changes them rewrites their server record (<see cref="FunctionLibrariesRecord"/>) in its WAL entry, so that a crash
/// keeps each change whole or not at all, and a restart compiles them again before it serves a command. A function runs
/// as a script does (<see cref="ScriptingCommands"/>): holding its keys' stripes until it ends, its writes one WAL entry.
/// </summary>
internal static class FunctionCommands
{
    // The FUNCTION commands that change the libraries: writes (MISCONF refuses them, CLIENT PAUSE WRITE holds them),
    // run under the hold-and-wait lock they take themselves.
    private const CommandFlags ChangeFlags = CommandFlags.NoScript | CommandFlags.Write | CommandFlags.LocksItself;

    private static readonly string[] s_writeScripting = ["write", "slow", "scripting"];

    private static readonly string[] s_help =
    [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ];

    public static void Register(CommandTable table)
    {
        KeyFinder keys = KeyArguments.NumKeys(2);
        table.Add("FCALL", -3, ScriptingCommands.EvalFlags, (c, a) => FCall(c, a, readOnly: false), categories: ScriptingCommands.Categories, findKeys: keys, flagsFor: (s, a) => ScriptingCommands.ScriptCommandFlags(ScriptingCommands.EvalFlags, FunctionFlags(s, a)));
        table.Add("FCALL_RO", -3, ScriptingCommands.ReadOnlyEvalFlags, (c, a) => FCall(c, a, readOnly: true), categories: ScriptingCommands.Categories, findKeys: keys, flagsFor: (s, a) => ScriptingCommands.ScriptCommandFlags(ScriptingCommands.ReadOnlyEvalFlags, FunctionFlags(s, a)));
        table.AddContainer(
            "FUNCTION",
            -2,
            CommandFlags.None,
            CommandTable.Sub("LOAD", -3, ChangeFlags | CommandFlags.DenyOom, Load, categories: s_writeScripting),
            CommandTable.Sub("DELETE", 3, ChangeFlags, Delete, categories: s_writeScripting),
            CommandTable.Sub("FLUSH", -2, ChangeFlags, Flush, categories: s_writeScripting),
            CommandTable.Sub("RESTORE", -3, ChangeFlags | CommandFlags.DenyOom, Restore, categories: s_writeScripting),
            CommandTable.Sub("LIST", -2, CommandFlags.NoScript | CommandFlags.LocksItself, List, categories: ScriptingCommands.Categories),
            CommandTable.Sub("DUMP", 2, CommandFlags.NoScript | CommandFlags.LocksItself, Dump, categories: ScriptingCommands.Categories),
            CommandTable.Sub("STATS", 2, CommandFlags.NoScript | CommandFlags.AllowBusy, Stats, categories: ScriptingCommands.Categories),
            CommandTable.Sub("KILL", 2, CommandFlags.NoScript | CommandFlags.AllowBusy, Kill, categories: ScriptingCommands.Categories),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: ScriptingCommands.Categories));
    }

    // The called function's flags (what Redis's fcallGetCommandFlags looks at); null when there is no such function.
    private static ScriptFlags? FunctionFlags(Server.ServerState server, RespArgs args) =>
        args.Count > 1 ? server.FunctionsIfCreated?.Find(args[1])?.Flags : null;

    /// <summary>
    /// At start, once the store is recovered: compiles the libraries its server record keeps (none: nothing is created).
    /// Returns how many libraries and functions; throws <see cref="InvalidDataException"/> when the record or a library in it does not load.
    /// </summary>
    internal static (int Libraries, int Functions) LoadSaved(Server.ServerState server, IStore store)
    {
        ArrayBufferWriter<byte> payload = new();
        store.Locks.EnterHoldAndWait();
        try
        {
            using IStoreSession session = store.OpenSession();
            if (!session.TryReadServerRecord(FunctionLibrariesRecord.Name, payload))
            {
                return (0, 0);
            }

            List<byte[]> codes = FunctionLibrariesRecord.Decode(payload.WrittenSpan);
            if (server.Functions.Restore(codes.Select(c => ((byte[]?)c, (string?)null)), flush: true, replace: false, long.MaxValue) is string error)
            {
                throw new InvalidDataException($"the function libraries kept in the data directory do not load ({error}); a build whose Lua differs may refuse what an older one accepted");
            }

            return (server.Functions.LibraryCount, server.Functions.FunctionCount);
        }
        finally
        {
            store.Locks.ExitHoldAndWait();
        }
    }

    private static void FCall(CommandContext context, RespArgs args, bool readOnly)
    {
        // Redis shows a function call to monitors before it runs (whatever becomes of it), then the commands it runs.
        if (context.Server.Monitors.HasMonitors)
        {
            context.Server.Monitors.Feed(context.Client, args, context.Server.Time.GetUtcNow());
        }

        PackedArgs copy = PackedArgs.Copy(args);
        ScriptingCommands.WhenNoScriptRuns(context, () => RunFunction(context, copy, readOnly));
    }

    // Redis's fcallCommandGeneric, in its order: the function, then the number of keys, then the function's flags.
    private static void RunFunction(CommandContext context, PackedArgs caller, bool readOnly)
    {
        RespArgs args = caller.Args;
        FunctionLibraries? libraries = context.Server.FunctionsIfCreated;
        if (libraries?.Find(args[1]) is not RegisteredFunction function)
        {
            context.WriteError("ERR Function not found"u8);
            return;
        }

        if (!ScriptingCommands.TryReadKeyCount(context, args, "ERR Bad number of keys provided"u8, out int keyCount))
        {
            return;
        }

        if (!ScriptingCommands.MayRun(context, function.Flags, readOnly))
        {
            return;
        }

        bool runReadOnly = readOnly || (function.Flags & ScriptFlags.NoWrites) != 0;
        ScriptingCommands.HoldingKeys(context, caller, keyCount, locks => libraries.Engine.RunFunction(context, function, caller, keyCount, runReadOnly, locks));
    }

    private static void Load(CommandContext context, RespArgs args)
    {
        bool replace = false;
        int position = 2;
        for (; position < args.Count - 1; position++)
        {
            if (!AsciiCase.EqualsIgnoreCase(args[position], "REPLACE"u8))
            {
                context.WriteError("ERR Unknown option given: " + Encoding.Latin1.GetString(args[position]));
                return;
            }

            replace = true;
        }

        byte[] code = args[position].ToArray();
        Change(context, (libraries, largest) => libraries.Load(code, replace, largest, out string? error) is string name ? new(name, null) : new(null, error));
    }

    private static void Delete(CommandContext context, RespArgs args)
    {
        byte[] name = args[2].ToArray();
        Change(context, (libraries, _) => new(null, libraries.Delete(name) ? null : "ERR Library not found"));
    }

    private static void Flush(CommandContext context, RespArgs args)
    {
        if (args.Count > 3)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        if (args.Count == 3 && !AsciiCase.EqualsIgnoreCase(args[2], "SYNC"u8) && !AsciiCase.EqualsIgnoreCase(args[2], "ASYNC"u8))
        {
            context.WriteError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"u8);
            return;
        }

        Change(context, (libraries, _) =>
        {
            libraries.Flush();
            return default;
        });
    }

    private static void Restore(CommandContext context, RespArgs args)
    {
        if (args.Count > 4)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        bool flush = false;
        bool replace = false;
        if (args.Count == 4)
        {
            if (AsciiCase.EqualsIgnoreCase(args[3], "FLUSH"u8))
            {
                flush = true;
            }
            else if (AsciiCase.EqualsIgnoreCase(args[3], "REPLACE"u8))
            {
                replace = true;
            }
            else if (!AsciiCase.EqualsIgnoreCase(args[3], "APPEND"u8))
            {
                context.WriteError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."u8);
                return;
            }
        }

        ReadOnlySpan<byte> payload = args[2];
        if (!RdbPayload.Verify(payload))
        {
            context.WriteError("ERR DUMP payload version or checksum are wrong"u8);
            return;
        }

        byte[] copy = payload.ToArray();
        Change(context, (libraries, largest) => new(null, libraries.Restore(ReadPayload(copy), flush, replace, largest)));
    }

    // Redis's loop: each library is an RDB_OPCODE_FUNCTION2 and its code (or Redis 7.0's release candidates'
    // RDB_OPCODE_FUNCTION and its parts), until the footer; read as Redis reads them, over the whole payload (footer
    // included), each compiled before the next is read. An item with an error ends the payload.
    private static IEnumerable<(byte[]? Code, string? Error)> ReadPayload(byte[] payload)
    {
        int position = 0;
        while (payload.Length - position > RdbPayload.FooterSize)
        {
            byte type = payload[position++];
            string? error = null;
            byte[]? code = type switch
            {
                RdbFunction => RdbPayload.ReadString(payload, ref position) ?? Refuse("ERR Failed loading library payload", out error),
                RdbFunctionPreGa => ReadPreGaLibrary(payload, ref position, out error),
                _ => Refuse("ERR given type is not a function", out error),
            };
            yield return (code, error);
            if (code is null)
            {
                yield break;
            }
        }
    }

    private static byte[]? Refuse(string error, out string? refusal)
    {
        refusal = error;
        return null;
    }

    // Redis's rdbFunctionLoad of an RDB_OPCODE_FUNCTION: the library's name, its engine, a description (after a flag
    // saying whether there is one) and its code, made into the code FUNCTION LOAD takes.
    private static byte[]? ReadPreGaLibrary(ReadOnlySpan<byte> payload, ref int position, out string? error)
    {
        byte[]? name = RdbPayload.ReadString(payload, ref position);
        if (name is null)
        {
            return Refuse("ERR Failed loading library name", out error);
        }

        byte[]? engine = RdbPayload.ReadString(payload, ref position);
        if (engine is null)
        {
            return Refuse("ERR Failed loading engine name", out error);
        }

        if (!RdbPayload.TryReadLength(payload, ref position, out ulong hasDescription, out _))
        {
            return Refuse("ERR Failed loading library description indicator", out error);
        }

        if (hasDescription != 0 && RdbPayload.ReadString(payload, ref position) is null)
        {
            return Refuse("ERR Failed loading library description", out error);
        }

        byte[]? blob = RdbPayload.ReadString(payload, ref position);
        if (blob is null)
        {
            return Refuse("ERR Failed loading library blob", out error);
        }

        error = null;
        return [.. "#!"u8, .. engine, .. " name="u8, .. name, (byte)'\n', .. blob];
    }

    // RDB_OPCODE_FUNCTION2, before each library of a payload; RDB_OPCODE_FUNCTION, Redis 7.0's release candidates'.
    private const byte RdbFunction = 245;
    private const byte RdbFunctionPreGa = 246;

    // A change's outcome: its error, else the library it loaded (its name is the reply) or none (+OK).
    private readonly record struct Outcome(string? Library, string? Error);

    /// <summary>
    /// Runs a change to the libraries once no script runs (given the largest record the libraries may take), then, if
    /// it succeeded, rewrites their server record in the command's WAL entry (the reply waits until that is durable).
    /// </summary>
    private static void Change(CommandContext context, Func<FunctionLibraries, long, Outcome> change)
    {
        ScriptingCommands.WhenNoScriptRuns(context, () =>
        {
            FunctionLibraries libraries = context.Server.Functions;

            // The record's key is its name after the store's short prefix for server records.
            long largest = context.Store.MaxValueBytes - FunctionLibrariesRecord.Name.Length - 8;
            Outcome outcome = change(libraries, largest);
            if (outcome.Error is string error)
            {
                context.WriteError(error);
                return;
            }

            if (libraries.LibraryCount == 0)
            {
                context.Session.DeleteServerRecord(FunctionLibrariesRecord.Name);
            }
            else
            {
                context.Session.WriteServerRecord(FunctionLibrariesRecord.Name, FunctionLibrariesRecord.Encode(libraries.Libraries.Select(l => l.Code).ToList()));
            }

            if (outcome.Library is string library)
            {
                context.WriteBulk(Encoding.Latin1.GetBytes(library));
            }
            else
            {
                context.WriteOk();
            }
        });
    }

    private static void List(CommandContext context, RespArgs args)
    {
        bool withCode = false;
        byte[]? pattern = null;
        for (int i = 2; i < args.Count; i++)
        {
            if (!withCode && AsciiCase.EqualsIgnoreCase(args[i], "WITHCODE"u8))
            {
                withCode = true;
                continue;
            }

            if (pattern is null && AsciiCase.EqualsIgnoreCase(args[i], "LIBRARYNAME"u8))
            {
                if (i >= args.Count - 1)
                {
                    context.WriteError("ERR library name argument was not given"u8);
                    return;
                }

                pattern = args[++i].ToArray();
                continue;
            }

            context.WriteError("ERR Unknown argument " + Encoding.Latin1.GetString(args[i]));
            return;
        }

        ScriptingCommands.WhenNoScriptRuns(context, () =>
        {
            IReadOnlyList<FunctionLibrary> libraries = context.Server.FunctionsIfCreated?.Libraries ?? [];
            List<FunctionLibrary> listed = pattern is null
                ? [.. libraries]
                : libraries.Where(l => GlobPattern.IsMatch(pattern, Encoding.Latin1.GetBytes(l.Name), ignoreCase: true)).ToList();
            context.WriteArrayHeader(listed.Count);
            foreach (FunctionLibrary library in listed)
            {
                context.WriteMapHeader(withCode ? 4 : 3);
                context.WriteBulk("library_name"u8);
                context.WriteBulk(Encoding.Latin1.GetBytes(library.Name));
                context.WriteBulk("engine"u8);
                context.WriteBulk("LUA"u8);
                context.WriteBulk("functions"u8);
                context.WriteArrayHeader(library.Functions.Count);
                foreach (RegisteredFunction function in library.Functions)
                {
                    context.WriteMapHeader(3);
                    context.WriteBulk("name"u8);
                    context.WriteBulk(Encoding.Latin1.GetBytes(function.Name));
                    context.WriteBulk("description"u8);
                    if (function.Description is null)
                    {
                        context.WriteNull();
                    }
                    else
                    {
                        context.WriteBulk(Encoding.Latin1.GetBytes(function.Description));
                    }

                    context.WriteBulk("flags"u8);
                    List<string> flags = ScriptShebang.Names.Where(f => (function.Flags & f.Flag) != 0).Select(f => f.Name).ToList();
                    context.WriteSetHeader(flags.Count);
                    foreach (string flag in flags)
                    {
                        context.WriteSimple(Encoding.ASCII.GetBytes(flag));
                    }
                }

                if (withCode)
                {
                    context.WriteBulk("library_code"u8);
                    context.WriteBulk(library.Code);
                }
            }
        });
    }

    private static void Dump(CommandContext context, RespArgs args) =>
        ScriptingCommands.WhenNoScriptRuns(context, () => context.WriteBulk(DumpPayload(context.Server)));

    /// <summary>FUNCTION DUMP's payload: every library as RDB_OPCODE_FUNCTION2, sealed as a DUMP payload (also a replica's snapshot's libraries).</summary>
    internal static ReadOnlySpan<byte> DumpPayload(Server.ServerState server)
    {
        ArrayBufferWriter<byte> payload = new();
        foreach (FunctionLibrary library in server.FunctionsIfCreated?.Libraries ?? [])
        {
            payload.GetSpan(1)[0] = RdbFunction;
            payload.Advance(1);
            RdbPayload.WriteString(payload, library.Code);
        }

        RdbPayload.Seal(payload);
        return payload.WrittenSpan;
    }

    private static void Stats(CommandContext context, RespArgs args)
    {
        if (context.Server.ScriptsIfCreated?.Running is not null)
        {
            context.WriteError(ScriptingCommands.Busy(functionRuns: false));
            return;
        }

        FunctionLibraries? libraries = context.Server.FunctionsIfCreated;
        context.WriteMapHeader(2);
        context.WriteBulk("running_script"u8);
        if (libraries?.EngineIfCreated?.Running is { Caller: PackedArgs caller } running)
        {
            RespArgs call = caller.Args;
            context.WriteMapHeader(3);
            context.WriteBulk("name"u8);
            context.WriteBulk(Encoding.Latin1.GetBytes(running.Name));
            context.WriteBulk("command"u8);
            context.WriteArrayHeader(call.Count);
            for (int i = 0; i < call.Count; i++)
            {
                context.WriteBulk(call[i]);
            }

            context.WriteBulk("duration_ms"u8);
            context.WriteInteger((long)Stopwatch.GetElapsedTime(running.Started).TotalMilliseconds);
        }
        else
        {
            context.WriteNull();
        }

        context.WriteBulk("engines"u8);
        context.WriteMapHeader(1);
        context.WriteBulk("LUA"u8);
        context.WriteMapHeader(2);
        context.WriteBulk("libraries_count"u8);
        context.WriteInteger(libraries?.LibraryCount ?? 0);
        context.WriteBulk("functions_count"u8);
        context.WriteInteger(libraries?.FunctionCount ?? 0);
    }

    private static void Kill(CommandContext context, RespArgs args) => ScriptingCommands.KillRunning(context, function: true);

    private static void Help(CommandContext context, RespArgs args) => Server.HelpReply.Write(context, "FUNCTION", s_help);
}
