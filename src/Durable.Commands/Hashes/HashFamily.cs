namespace Durable.Commands.Hashes;

/// <summary>Registers every hash command file, so the command table needs one line for the family.</summary>
internal static class HashFamily
{
    public static void Register(CommandTable table)
    {
        HashCommands.Register(table);
        HashCounterCommands.Register(table);
        HashRandomCommands.Register(table);
        HashScanCommands.Register(table);
    }
}
