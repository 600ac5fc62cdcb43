namespace Durable.Storage;

/// <summary>What a read found besides the payload.</summary>
public readonly record struct StoredRecord(RecordType Type, long ExpiresAtMs, int Length);
