namespace Durable.Commands;

/// <summary>What <see cref="TypedRecords.Read"/> found.</summary>
internal enum ReadResult
{
    Missing,
    Found,
    WrongType,
}
