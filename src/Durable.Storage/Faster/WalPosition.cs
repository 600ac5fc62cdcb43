namespace Durable.Storage.Faster;

/// <summary>
/// Where an appended record ends in the write-ahead log: the log's address after it, and which log it went to. The log
/// is replaced after a disk fault (<see cref="FasterWriteAheadLog.Reopen"/>); the new one reuses addresses of the old, so an
/// address alone would say nothing about whether a record of the old log was committed.
/// </summary>
internal readonly record struct WalPosition(int Generation, long Address);
