namespace Durable.Commands.Strings;

/// <summary>What <see cref="StringRecords.Read"/> found.</summary>
internal enum ReadResult
{
    Missing,
    Found,
    WrongType,
}
