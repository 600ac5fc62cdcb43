namespace Durable.Storage.Faster;

/// <summary>What the WAL's files hold between the last entry a recovery scan read and the committed end.</summary>
internal enum WalRemainder
{
    /// <summary>Only commit records and page padding: nothing was lost.</summary>
    Clean,

    /// <summary>Zeros (or nothing: a file cut short) from some address to the committed end: a torn tail.</summary>
    Zeroed,

    /// <summary>Something else: a record the scan could not reach, or garbage.</summary>
    Data,
}
