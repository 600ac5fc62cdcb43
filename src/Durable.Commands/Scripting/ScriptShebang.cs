namespace Durable.Commands.Scripting;

/// <summary>A script's flags, from its shebang line (Redis 7.0's <c>#!lua flags=...</c>).</summary>
[Flags]
internal enum ScriptFlags
{
    None = 0,

    /// <summary>No shebang: Redis's compatibility mode for scripts written before 7.0.</summary>
    Legacy = 1 << 0,
    NoWrites = 1 << 1,
    AllowOom = 1 << 2,
    AllowStale = 1 << 3,
    NoCluster = 1 << 4,
    AllowCrossSlotKeys = 1 << 5,
}

/// <summary>Reads the shebang line of a script as Redis's evalExtractShebangFlags does, with its errors.</summary>
internal static class ScriptShebang
{
    private static readonly (string Name, ScriptFlags Flag)[] s_flags =
    [
        ("no-writes", ScriptFlags.NoWrites), ("allow-oom", ScriptFlags.AllowOom), ("allow-stale", ScriptFlags.AllowStale),
        ("no-cluster", ScriptFlags.NoCluster), ("allow-cross-slot-keys", ScriptFlags.AllowCrossSlotKeys),
    ];

    /// <summary>The flag a name stands for (a name from <see cref="Names"/>; a function's flags), None for another.</summary>
    public static ScriptFlags FlagOf(string name) => Array.Find(s_flags, f => f.Name == name).Flag;

    /// <summary>The flags' names, in Redis's order (scripts_flags_def), as FUNCTION LIST shows them.</summary>
    public static IEnumerable<(string Name, ScriptFlags Flag)> Names => s_flags;

    /// <summary>
    /// The flags of <paramref name="body"/> and the length of its shebang line (0 without one); false with Redis's
    /// error when the shebang is not one Redis accepts.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ScriptFlags flags, out int length, out string? error)
    {
        flags = ScriptFlags.Legacy;
        length = 0;
        error = null;
        if (!body.StartsWith("#!"u8))
        {
            return true;
        }

        length = body.IndexOf((byte)'\n');
        if (length < 0)
        {
            error = "ERR Invalid script shebang";
            return false;
        }

        string[] parts = System.Text.Encoding.Latin1.GetString(body[..length])
            .Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
        if (parts[0] != "#!lua")
        {
            error = "ERR Unexpected engine in script shebang: " + parts[0];
            return false;
        }

        flags = ScriptFlags.None;
        foreach (string part in parts.AsSpan(1))
        {
            if (!part.StartsWith("flags=", StringComparison.Ordinal))
            {
                error = "ERR Unknown lua shebang option: " + part;
                return false;
            }

            foreach (string name in part[6..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int index = Array.FindIndex(s_flags, f => f.Name == name);
                if (index < 0)
                {
                    error = "ERR Unexpected flag in script shebang: " + name;
                    return false;
                }

                flags |= s_flags[index].Flag;
            }
        }

        return true;
    }
}
