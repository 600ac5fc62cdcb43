using System.Buffers;
using Durable.Protocol;

namespace Durable.Commands.Server;

/// <summary>A connection's CLIENT TRACKING settings (null on <see cref="ClientState.Tracking"/> while tracking is off).</summary>
internal sealed class TrackingSettings
{
    /// <summary>The client that gets the invalidation messages (REDIRECT); 0 for the connection itself.</summary>
    public long Redirect { get; init; }

    public bool Broadcast { get; init; }

    public bool OptIn { get; init; }

    public bool OptOut { get; init; }

    public bool NoLoop { get; init; }

    /// <summary>BCAST's prefixes (none: every key).</summary>
    public List<byte[]> Prefixes { get; init; } = [];

    /// <summary>Set once a message found the REDIRECT client gone.</summary>
    public bool RedirectBroken { get; set; }

    /// <summary>CLIENT CACHING YES (true) or NO (false) for the next command, or null.</summary>
    public bool? Caching { get; set; }
}

/// <summary>
/// Server-assisted client-side caching, as Redis 7.0's tracking.c: the keys each tracking connection read (default
/// mode) and the prefixes broadcast connections asked for, and the invalidation messages sent when a key changes, is
/// flushed or expires: a RESP3 push <c>invalidate</c> to the connection, or to the REDIRECT client (as a message of the
/// channel <c>__redis__:invalidate</c> to a RESP2 subscriber). A key is forgotten once invalidated, as in Redis: the
/// client reads it again to be told of its next change. Thread-safe.
/// </summary>
internal sealed class TrackingTable
{
    private static readonly byte[] s_channel = "__redis__:invalidate"u8.ToArray();

    private readonly Lock _gate = new();
    private readonly Dictionary<byte[], HashSet<long>> _keys = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], HashSet<long>> _prefixes = new(ByteArrayComparer.Instance);
    private long _items;
    private int _clients;

    /// <summary>Whether any connection tracks keys (when none does, writes skip the table).</summary>
    public bool Any => Volatile.Read(ref _clients) > 0;

    /// <summary>INFO tracking_clients.</summary>
    public int Clients => Volatile.Read(ref _clients);

    /// <summary>INFO tracking_total_keys: keys some connection was told of.</summary>
    public long Keys
    {
        get
        {
            lock (_gate)
            {
                return _keys.Count;
            }
        }
    }

    /// <summary>INFO tracking_total_items: (key, connection) pairs.</summary>
    public long Items => Interlocked.Read(ref _items);

    /// <summary>INFO tracking_total_prefixes.</summary>
    public long Prefixes
    {
        get
        {
            lock (_gate)
            {
                return _prefixes.Count;
            }
        }
    }

    /// <summary>Turns tracking on for <paramref name="client"/> with <paramref name="settings"/> (CLIENT TRACKING ON).</summary>
    public void Enable(ClientState client, TrackingSettings settings)
    {
        lock (_gate)
        {
            if (client.Tracking is { } old)
            {
                // Turned on again: BCAST's prefixes add to those it had (Redis enableTracking keeps them).
                settings.Prefixes.InsertRange(0, old.Prefixes);
            }
            else
            {
                _clients++;
            }

            if (settings.Broadcast)
            {
                // BCAST without PREFIX: the empty prefix, which every key has.
                if (settings.Prefixes.Count == 0)
                {
                    settings.Prefixes.Add([]);
                }

                foreach (byte[] prefix in settings.Prefixes)
                {
                    if (!_prefixes.TryGetValue(prefix, out HashSet<long>? clients))
                    {
                        _prefixes[prefix] = clients = [];
                    }

                    clients.Add(client.Id);
                }
            }

            client.OpenPushFeed();
            client.Tracking = settings;
        }
    }

    /// <summary>Turns tracking off (CLIENT TRACKING OFF, RESET, a closed connection).</summary>
    public void Disable(ClientState client)
    {
        lock (_gate)
        {
            if (client.Tracking is not { } settings)
            {
                return;
            }

            foreach (byte[] prefix in settings.Prefixes)
            {
                if (_prefixes.TryGetValue(prefix, out HashSet<long>? clients) && clients.Remove(client.Id) && clients.Count == 0)
                {
                    _prefixes.Remove(prefix);
                }
            }

            client.Tracking = null;
            _clients--;
        }
    }

    /// <summary>
    /// After a read-only command of a connection tracking in the default mode: remembers the keys it read, unless
    /// OPTIN without CLIENT CACHING YES or OPTOUT with CLIENT CACHING NO; past tracking-table-max-keys, keys are
    /// forgotten (their readers told) oldest first.
    /// </summary>
    public void Remember(ServerState server, ClientState client, IEnumerable<byte[]> keys)
    {
        if (client.Tracking is not { Broadcast: false } settings
            || (settings.OptIn && settings.Caching != true) || (settings.OptOut && settings.Caching == false))
        {
            return;
        }

        lock (_gate)
        {
            foreach (byte[] key in keys)
            {
                if (!_keys.TryGetValue(key, out HashSet<long>? readers))
                {
                    _keys[key] = readers = [];
                }

                if (readers.Add(client.Id))
                {
                    _items++;
                }
            }
        }

        long most = server.Config.TrackingTableMaxKeys;
        while (most > 0 && Keys > most)
        {
            byte[]? oldest;
            lock (_gate)
            {
                oldest = _keys.Keys.FirstOrDefault();
            }

            if (oldest is null)
            {
                break;
            }

            Invalidate(server, null, [oldest]);
        }
    }

    /// <summary>
    /// Keys changed (by <paramref name="modifier"/>; null: expired or evicted): tells the connections that read them and
    /// the broadcast connections whose prefixes they match, once per connection and prefix, and forgets them. A message
    /// to the modifier itself goes to <paramref name="modifierReply"/> when given (right after its command's reply).
    /// </summary>
    public void Invalidate(ServerState server, ClientState? modifier, IReadOnlyList<byte[]> keys, IBufferWriter<byte>? modifierReply = null)
    {
        if (!Any)
        {
            return;
        }

        // Redis tells a key's readers of each key in a message of its own, a broadcast connection of a prefix's keys in one.
        List<(long Client, List<byte[]> Keys)> readers = [];
        List<(long Client, List<byte[]> Keys)> broadcasts = [];
        lock (_gate)
        {
            foreach (byte[] key in keys)
            {
                if (_keys.Remove(key, out HashSet<long>? ids))
                {
                    _items -= ids.Count;
                    readers.AddRange(ids.Select(id => (id, new List<byte[]> { key })));
                }
            }

            foreach ((byte[] prefix, HashSet<long> ids) in _prefixes)
            {
                List<byte[]> matching = [.. keys.Where(k => k.AsSpan().StartsWith(prefix))];
                if (matching.Count > 0)
                {
                    broadcasts.AddRange(ids.Select(id => (id, matching)));
                }
            }
        }

        foreach ((long id, List<byte[]> changed) in readers)
        {
            if (server.Clients.Find(id) is { Tracking: { Broadcast: false } } client && !(client == modifier && client.Tracking.NoLoop))
            {
                Send(server, client, changed, client == modifier ? modifierReply : null);
            }
        }

        foreach ((long id, List<byte[]> changed) in broadcasts)
        {
            if (server.Clients.Find(id) is { Tracking: { Broadcast: true } } client && !(client == modifier && client.Tracking.NoLoop))
            {
                Send(server, client, changed, client == modifier ? modifierReply : null);
            }
        }
    }

    /// <summary>A database was flushed: every tracking connection is told to drop all it cached (Redis's null invalidation), and the table empties.</summary>
    public void InvalidateAll(ServerState server)
    {
        if (!Any)
        {
            return;
        }

        lock (_gate)
        {
            _keys.Clear();
            _items = 0;
        }

        foreach (ClientState client in server.Clients.All)
        {
            if (client.Tracking is not null)
            {
                Send(server, client, null);
            }
        }
    }

    // Redis's sendTrackingMessage: to the connection (RESP3) or its REDIRECT client (RESP3, or a RESP2 subscriber); a
    // RESP2 connection without one gets nothing, and one whose REDIRECT client is gone is told so (RESP3).
    private static void Send(ServerState server, ClientState client, List<byte[]>? keys, IBufferWriter<byte>? ownReply = null)
    {
        ClientState target = client;
        if (client.Tracking is { Redirect: > 0 } settings)
        {
            if (server.Clients.Find(settings.Redirect) is not { } redirect)
            {
                settings.RedirectBroken = true;
                if (client.Protocol == RespVersion.Resp3)
                {
                    ArrayBufferWriter<byte> broken = new();
                    RespWriter.WritePushHeader(broken, 2, RespVersion.Resp3);
                    RespWriter.WriteBulkString(broken, "tracking-redir-broken"u8);
                    RespWriter.WriteInteger(broken, settings.Redirect);
                    client.Push(broken.WrittenSpan.ToArray(), server.Config.PubSubOutputBufferLimit, server.Time.GetUtcNow().ToUnixTimeMilliseconds());
                }

                return;
            }

            target = redirect;
        }

        ArrayBufferWriter<byte> message = new();
        if (target.Protocol == RespVersion.Resp3)
        {
            RespWriter.WritePushHeader(message, 2, RespVersion.Resp3);
            RespWriter.WriteBulkString(message, "invalidate"u8);
        }
        else if (target != client && target.Subscriptions.Any)
        {
            RespWriter.WriteArrayHeader(message, 3);
            RespWriter.WriteBulkString(message, "message"u8);
            RespWriter.WriteBulkString(message, s_channel);
        }
        else
        {
            return;
        }

        if (keys is null)
        {
            // Redis writes RESP3's null here whatever the receiver speaks (a RESP2 subscriber too).
            RespWriter.WriteNull(message, RespVersion.Resp3);
        }
        else
        {
            RespWriter.WriteArrayHeader(message, keys.Count);
            foreach (byte[] key in keys)
            {
                RespWriter.WriteBulkString(message, key);
            }
        }

        if (target == client && ownReply is not null)
        {
            ownReply.Write(message.WrittenSpan);
            return;
        }

        target.OpenPushFeed();
        target.Push(message.WrittenSpan.ToArray(), server.Config.PubSubOutputBufferLimit, server.Time.GetUtcNow().ToUnixTimeMilliseconds());
    }
}
