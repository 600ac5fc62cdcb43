namespace Durable.Commands.Server;

/// <summary>
/// What redis-server 7.0.15 says about its commands (COMMAND INFO tips and key specs, COMMAND DOCS), from the embedded
/// CommandDocs.resp3 that tools/command-docs/generate.sh writes. Loaded once, on first use; read-only afterwards.
/// </summary>
internal sealed class CommandDocs
{
    private static readonly Lazy<CommandDocs> s_instance = new(Load);
    private readonly Dictionary<string, RespNode> _info = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, RespNode> _docs = new(StringComparer.OrdinalIgnoreCase);

    public static CommandDocs Instance => s_instance.Value;

    /// <summary>Redis's COMMAND INFO entry for a command or subcommand ("client|list"); null when Redis has none.</summary>
    public RespNode? Info(string fullName) => _info.GetValueOrDefault(fullName);

    /// <summary>Redis's COMMAND DOCS map for a command or subcommand ("client|list"); null when Redis has none.</summary>
    public RespNode? Docs(string name) => _docs.GetValueOrDefault(name);

    private static CommandDocs Load()
    {
        using Stream stream = typeof(CommandDocs).Assembly.GetManifestResourceStream("Durable.Commands.Server.CommandDocs.resp3")
            ?? throw new InvalidOperationException("embedded CommandDocs.resp3 is missing");
        using MemoryStream copy = new();
        stream.CopyTo(copy);
        ReadOnlySpan<byte> data = copy.GetBuffer().AsSpan(0, (int)copy.Length);

        // The file holds the replies to HELLO 3, COMMAND INFO, COMMAND DOCS and QUIT.
        int position = 0;
        RespNode.Parse(data, ref position);
        RespNode info = RespNode.Parse(data, ref position);
        RespNode docs = RespNode.Parse(data, ref position);
        CommandDocs result = new();
        foreach (RespNode entry in info.Children)
        {
            result.AddInfo(entry);
        }

        for (int i = 0; i + 1 < docs.Children.Length; i += 2)
        {
            RespNode entry = docs.Children[i + 1];
            result._docs[docs.Children[i].Text!] = entry;
            RespNode[] subcommands = entry["subcommands"]?.Children ?? [];
            for (int j = 0; j + 1 < subcommands.Length; j += 2)
            {
                result._docs[subcommands[j].Text!] = subcommands[j + 1];
            }
        }

        return result;
    }

    private void AddInfo(RespNode entry)
    {
        _info[entry.Children[0].Text!] = entry;
        foreach (RespNode sub in entry.Children[9].Children)
        {
            AddInfo(sub);
        }
    }
}
