using System.Reflection;
using System.Text.RegularExpressions;

namespace Durable.Commands.Tests;

public sealed partial class CommandTableTests
{
    private static readonly CommandTable s_table = CommandTable.CreateDefault();

    [Fact]
    public void Commands_HaveUpperCaseUniqueNamesAndNonZeroArity()
    {
        foreach (CommandDefinition command in AllWithSubcommands())
        {
            Assert.Equal(command.Name.ToUpperInvariant(), command.Name);
            Assert.NotEqual(0, command.Arity);
        }

        Assert.Equal(s_table.All.Count(), s_table.All.Select(c => c.Name).Distinct().Count());
    }

    [Fact]
    public void Commands_WithKeys_HaveConsistentKeySpecs()
    {
        foreach (CommandDefinition command in AllWithSubcommands().Where(c => c.FirstKey > 0))
        {
            Assert.True(command.Step > 0, command.Name);
            Assert.True(command.LastKey < 0 || command.LastKey >= command.FirstKey, command.Name);
        }
    }

    [Fact]
    public void Readme_CompatibilityTable_ListsEveryCommand()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int start = readme.IndexOf("## Compatibility", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has a '## Compatibility' section");
        string section = readme[start..];
        HashSet<string> listed = [.. CommandWord().Matches(section).Select(m => m.Groups[1].Value)];
        string[] missing = [.. s_table.All.Select(c => c.Name).Where(n => !listed.Contains(n)).Order()];
        Assert.True(missing.Length == 0, "missing from README compatibility table: " + string.Join(", ", missing));
    }

    [Fact]
    public void Layering_OnlyStorageReferencesFaster()
    {
        Assembly[] ours = [typeof(CommandTable).Assembly, typeof(Protocol.RespParser).Assembly];
        foreach (Assembly assembly in ours)
        {
            Assert.DoesNotContain(assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith("FASTER", StringComparison.OrdinalIgnoreCase));
        }

        Assert.DoesNotContain(typeof(Protocol.RespParser).Assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith("Durable", StringComparison.Ordinal));
        Assert.DoesNotContain(typeof(Storage.IStore).Assembly.GetReferencedAssemblies(), a => a.Name == "Durable.Protocol" || a.Name == "Durable.Commands");
    }

    private static IEnumerable<CommandDefinition> AllWithSubcommands() =>
        s_table.All.SelectMany(c => c.SubCommands is null ? [c] : c.SubCommands.Values.Prepend(c));

    internal static string RepositoryRoot()
    {
        string? directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Durable.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("Durable.sln not found above the test binaries");
    }

    [GeneratedRegex(@"`([A-Z][A-Z_]*)`")]
    private static partial Regex CommandWord();
}
