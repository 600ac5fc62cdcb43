using System.Collections.Concurrent;

namespace Durable.Commands.Server;

/// <summary>The connected clients, for CLIENT LIST/KILL, INFO clients and maxclients.</summary>
public sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<long, ClientState> _clients = new();
    private long _nextId;

    public int Count => _clients.Count;

    public IEnumerable<ClientState> All => _clients.Values.OrderBy(c => c.Id);

    public long NextId() => Interlocked.Increment(ref _nextId);

    public void Add(ClientState client) => _clients[client.Id] = client;

    public void Remove(ClientState client) => _clients.TryRemove(client.Id, out _);

    public ClientState? Find(long id) => _clients.TryGetValue(id, out ClientState? client) ? client : null;
}
