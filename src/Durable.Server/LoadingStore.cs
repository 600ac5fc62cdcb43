using Durable.Storage;

namespace Durable.Server;

/// <summary>
/// Stands in for the store while it recovers, so that PING, INFO and the other commands allowed during loading
/// work: it holds no keys, opens no sessions and reports empty statistics.
/// </summary>
internal sealed class LoadingStore(int databases) : IStore
{
    public int Databases => databases;

    public KeyLocks Locks { get; } = new();

    public string? WriteFailure => null;

    public bool HasColdRecords => false;

    public void PrepareForDiskWaits()
    {
    }

    public long MaxValueBytes => 0;

    public KeyEventHandler? KeyExpired { get; set; }

    public KeyEventHandler? KeyCreated { get; set; }

    public IStoreSession OpenSession() => throw new InvalidOperationException("the store is still loading");

    public long KeyCount(int db) => 0;

    public long ExpiringKeyCount(int db) => 0;

    public Task<IDisposable> HoldRecordsInPlaceAsync(CancellationToken cancellationToken) =>
        Task.FromException<IDisposable>(new InvalidOperationException("the store is still loading"));

    public StoreStatistics GetStatistics() => default;

    public ValueTask CheckpointAsync(CancellationToken cancellationToken) =>
        ValueTask.FromException(new InvalidOperationException("the store is still loading"));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
