using System.Text;
using Microsoft.Extensions.Logging;

namespace Durable.Commands.Scripting;

/// <summary>A loaded library: its name, its whole code (shebang line included, as FUNCTION LOAD got it) and its functions.</summary>
internal sealed record FunctionLibrary(string Name, byte[] Code, List<RegisteredFunction> Functions);

/// <summary>
/// The function libraries (FUNCTION LOAD, FCALL), as Redis 7.0's functions.c: libraries by name (case sensitive),
/// functions by name across every library (case insensitive), each library's code compiled in the functions' own
/// interpreter. Changed only under the store's hold-and-wait lock (one script or function command at a time), which
/// also covers the server record that keeps the libraries (<see cref="FunctionLibrariesRecord"/>); the counts are read
/// without it (INFO).
/// </summary>
internal sealed class FunctionLibraries(ILogger logger)
{
    /// <summary>Redis 7.0.15's refusal of a library's or function's name.</summary>
    public const string InvalidName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

    // Insertion order, which FUNCTION LIST and FUNCTION DUMP follow (Redis's follow its hash table's).
    private readonly List<FunctionLibrary> _libraries = [];
    // Read without the lock too: CLIENT PAUSE looks up a called function's flags before the call waits for its turn.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RegisteredFunction> _functions = new(StringComparer.OrdinalIgnoreCase);
    private ScriptEngine? _engine;
    private int _functionCount;
    private int _libraryCount;

    /// <summary>The interpreter the libraries run in, created with the first library.</summary>
    public ScriptEngine Engine => _engine ??= new ScriptEngine(logger, functions: true);

    /// <summary>The interpreter if a library was ever loaded, else null (INFO reports zeros, FUNCTION KILL finds nothing).</summary>
    public ScriptEngine? EngineIfCreated => Volatile.Read(ref _engine);

    public int LibraryCount => Volatile.Read(ref _libraryCount);

    public int FunctionCount => Volatile.Read(ref _functionCount);

    /// <summary>The libraries, in the order they were loaded.</summary>
    public IReadOnlyList<FunctionLibrary> Libraries => _libraries;

    /// <summary>The bytes of the libraries' code (INFO used_memory_functions).</summary>
    public long CodeBytes { get; private set; }

    /// <summary>Redis's functionsVerifyName: one or more of [a-zA-Z0-9_].</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_');

    /// <summary>The function of that name, whatever its case, or null.</summary>
    public RegisteredFunction? Find(ReadOnlySpan<byte> name) =>
        _functions.TryGetValue(Encoding.Latin1.GetString(name), out RegisteredFunction? function) ? function : null;

    /// <summary>
    /// FUNCTION LOAD: compiles <paramref name="code"/> into a library and adds it (in place of the library of its name
    /// with <paramref name="replace"/>). Returns the library's name, or null with Redis's error (or Durable's, when the
    /// libraries' record would be larger than <paramref name="largestRecord"/>).
    /// </summary>
    public string? Load(byte[] code, bool replace, long largestRecord, out string? error)
    {
        FunctionLibrary? library = Compile(code, replace ? [] : _libraries, out error);
        if (library is null)
        {
            return null;
        }

        error = Join([library], replace: true, largestRecord);
        return error is null ? library.Name : null;
    }

    /// <summary>FUNCTION DELETE: false when there is no library of that name.</summary>
    public bool Delete(ReadOnlySpan<byte> name)
    {
        string text = Encoding.Latin1.GetString(name);
        int index = _libraries.FindIndex(l => l.Name == text);
        if (index < 0)
        {
            return false;
        }

        Unlink(_libraries[index]);
        Engine.Release(_libraries[index].Functions);
        _libraries.RemoveAt(index);
        Count();
        return true;
    }

    /// <summary>FUNCTION FLUSH: deletes every library.</summary>
    public void Flush()
    {
        foreach (FunctionLibrary library in _libraries)
        {
            Engine.Release(library.Functions);
        }

        _libraries.Clear();
        _functions.Clear();
        Count();
    }

    /// <summary>
    /// FUNCTION RESTORE, and the libraries a restart reads back: compiles every library of <paramref name="codes"/> as
    /// it comes (which may not name a library twice; an item with an error instead of code ends it, as a payload
    /// Redis cannot read further), then adds them all or none: with <paramref name="flush"/> in place of every library,
    /// else beside them (in place of those of the same names with <paramref name="replace"/>). Returns Redis's error
    /// (or Durable's, when the libraries' record would be larger than <paramref name="largestRecord"/>), or null.
    /// </summary>
    public string? Restore(IEnumerable<(byte[]? Code, string? Error)> codes, bool flush, bool replace, long largestRecord)
    {
        List<FunctionLibrary> compiled = [];
        foreach ((byte[]? code, string? unreadable) in codes)
        {
            string? error = unreadable;
            FunctionLibrary? library = code is null ? null : Compile(code, compiled, out error);
            if (library is not null && FirstClash(library, compiled) is string clash)
            {
                Engine.Release(library.Functions);
                error = $"ERR Function {clash} already exists";
                library = null;
            }

            if (library is null)
            {
                foreach (FunctionLibrary done in compiled)
                {
                    Engine.Release(done.Functions);
                }

                return error;
            }

            compiled.Add(library);
        }

        if (flush)
        {
            if (TooLarge(compiled.Sum(l => (long)l.Code.Length), compiled.Count, largestRecord) is string tooLarge)
            {
                Release(compiled);
                return tooLarge;
            }

            Flush();
        }

        return Join(compiled, replace, largestRecord);
    }

    // Durable's refusal of libraries whose record (FunctionLibrariesRecord: a header, and a length before each code)
    // would not fit in one of the store's records.
    private static string? TooLarge(long codeBytes, int libraries, long largestRecord)
    {
        long bytes = FunctionLibrariesRecord.Size(codeBytes, libraries);
        return bytes > largestRecord
            ? $"ERR function libraries of {bytes} bytes would exceed this server's largest record ({largestRecord} bytes); raise --memory"
            : null;
    }

    // Compiles one library's code, checking its metadata first as Redis's functionsCreateWithLibraryCtx does (the name,
    // the engine, no library of that name among taken); null with Redis's error.
    private FunctionLibrary? Compile(byte[] code, List<FunctionLibrary> taken, out string? error)
    {
        if (!TryReadMetadata(code, out string? name, out int shebangLength, out error))
        {
            return null;
        }

        if (taken.Exists(l => l.Name == name))
        {
            error = $"ERR Library '{name}' already exists";
            return null;
        }

        if (!Engine.CompileLibrary(code.AsSpan(shebangLength), out List<RegisteredFunction>? functions, out error))
        {
            return null;
        }

        if (functions.Count == 0)
        {
            error = "ERR No functions registered";
            return null;
        }

        return new FunctionLibrary(name, code, functions);
    }

    // Redis's libraryJoin: adds the libraries unless one of them has the name of a library here (without replace) or
    // one of their functions has the name of a function of another library; all or nothing.
    private string? Join(List<FunctionLibrary> added, bool replace, long largestRecord)
    {
        List<FunctionLibrary> replaced = [];
        foreach (FunctionLibrary library in added)
        {
            FunctionLibrary? old = _libraries.Find(l => l.Name == library.Name);
            if (old is not null)
            {
                if (!replace)
                {
                    Relink(replaced);
                    Release(added);
                    return $"ERR Library {library.Name} already exists";
                }

                Unlink(old);
                replaced.Add(old);
            }
        }

        foreach (FunctionLibrary library in added)
        {
            if (library.Functions.Find(f => _functions.ContainsKey(f.Name)) is { } clash)
            {
                Relink(replaced);
                Release(added);
                return $"ERR Function {clash.Name} already exists";
            }
        }

        long codeBytes = CodeBytes - replaced.Sum(l => (long)l.Code.Length) + added.Sum(l => (long)l.Code.Length);
        if (TooLarge(codeBytes, _libraries.Count - replaced.Count + added.Count, largestRecord) is string tooLarge)
        {
            Relink(replaced);
            Release(added);
            return tooLarge;
        }

        foreach (FunctionLibrary old in replaced)
        {
            _libraries.Remove(old);
            Engine.Release(old.Functions);
        }

        foreach (FunctionLibrary library in added)
        {
            _libraries.Add(library);
            foreach (RegisteredFunction function in library.Functions)
            {
                _functions.TryAdd(function.Name, function);
            }
        }

        Count();
        return null;
    }

    private void Relink(List<FunctionLibrary> libraries)
    {
        foreach (FunctionLibrary library in libraries)
        {
            foreach (RegisteredFunction function in library.Functions)
            {
                _functions.TryAdd(function.Name, function);
            }
        }
    }

    private void Release(List<FunctionLibrary> libraries)
    {
        foreach (FunctionLibrary library in libraries)
        {
            Engine.Release(library.Functions);
        }
    }

    private void Unlink(FunctionLibrary library)
    {
        foreach (RegisteredFunction function in library.Functions)
        {
            if (_functions.TryGetValue(function.Name, out RegisteredFunction? found) && ReferenceEquals(found, function))
            {
                _functions.TryRemove(function.Name, out _);
            }
        }
    }

    // The first function of library whose name another of libraries has (case insensitive), or null.
    private static string? FirstClash(FunctionLibrary library, List<FunctionLibrary> libraries)
    {
        foreach (RegisteredFunction function in library.Functions)
        {
            if (libraries.Exists(l => l.Functions.Exists(f => string.Equals(f.Name, function.Name, StringComparison.OrdinalIgnoreCase))))
            {
                return function.Name;
            }
        }

        return null;
    }

    private void Count()
    {
        Volatile.Write(ref _libraryCount, _libraries.Count);
        Volatile.Write(ref _functionCount, _libraries.Sum(l => l.Functions.Count));
        CodeBytes = _libraries.Sum(l => (long)l.Code.Length);
    }

    /// <summary>
    /// Redis's functionExtractLibMetaData and the checks after it: the shebang line (<c>#!lua name=mylib</c>, split as
    /// sdssplitargs splits), the library's name and its engine; false with Redis's error.
    /// </summary>
    public static bool TryReadMetadata(ReadOnlySpan<byte> code, out string name, out int shebangLength, out string? error)
    {
        name = "";
        shebangLength = 0;
        if (!code.StartsWith("#!"u8))
        {
            error = "ERR Missing library metadata";
            return false;
        }

        shebangLength = code.IndexOf((byte)'\n');
        byte[][]? parts = shebangLength < 0 ? null : Protocol.InlineSplitter.Split(code[..shebangLength]);
        if (parts is null || parts.Length == 0)
        {
            error = "ERR Invalid library metadata";
            return false;
        }

        string? found = null;
        foreach (byte[] part in parts.AsSpan(1))
        {
            if (part.Length >= 5 && Protocol.AsciiCase.EqualsIgnoreCase(part.AsSpan(0, 5), "name="u8))
            {
                if (found is not null)
                {
                    error = "ERR Invalid metadata value, name argument was given multiple times";
                    return false;
                }

                found = Encoding.Latin1.GetString(part.AsSpan(5));
                continue;
            }

            error = "ERR Invalid metadata value given: " + Encoding.Latin1.GetString(part);
            return false;
        }

        if (found is null)
        {
            error = "ERR Library name was not given";
            return false;
        }

        if (!IsValidName(found))
        {
            error = "ERR " + InvalidName;
            return false;
        }

        string engine = Encoding.Latin1.GetString(parts[0].AsSpan(Math.Min(2, parts[0].Length)));
        if (!engine.Equals("lua", StringComparison.OrdinalIgnoreCase))
        {
            error = $"ERR Engine '{engine}' not found";
            return false;
        }

        name = found;
        error = null;
        return true;
    }
}
