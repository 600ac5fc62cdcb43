using System.Buffers;
using Durable.Protocol;

namespace Durable.Commands.PubSub;

/// <summary>
/// Who listens to what: channels, patterns and shard channels, each with its subscribers in the order they subscribed.
/// PUBLISH formats the message once per protocol and queues it for each receiver, whose connection sends it between its
/// own replies (as MONITOR's lines). A subscriber whose queue passes the pubsub class of client-output-buffer-limit is
/// disconnected, as in Redis. Thread-safe: one lock, held only to change or
/// read the tables, never while writing to a socket.
/// </summary>
public sealed class PubSubHub
{
    private readonly Lock _gate = new();
    private readonly Dictionary<byte[], List<ClientState>> _channels = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], List<ClientState>> _patterns = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], List<ClientState>> _shardChannels = new(ByteArrayComparer.Instance);

    /// <summary>Channels with at least one subscriber (INFO pubsub_channels).</summary>
    public int ChannelCount
    {
        get
        {
            lock (_gate)
            {
                return _channels.Count;
            }
        }
    }

    /// <summary>Distinct patterns with at least one subscriber (INFO pubsub_patterns, PUBSUB NUMPAT).</summary>
    public int PatternCount
    {
        get
        {
            lock (_gate)
            {
                return _patterns.Count;
            }
        }
    }

    /// <summary>Shard channels with at least one subscriber (INFO pubsubshard_channels).</summary>
    public int ShardChannelCount
    {
        get
        {
            lock (_gate)
            {
                return _shardChannels.Count;
            }
        }
    }

    /// <summary>Adds <paramref name="client"/> to <paramref name="name"/> of <paramref name="kind"/>; false when it was there already.</summary>
    public bool Subscribe(ClientState client, SubscriptionKind kind, byte[] name)
    {
        lock (_gate)
        {
            if (!client.Subscriptions.Add(kind, name))
            {
                return false;
            }

            client.OpenPushFeed();
            Dictionary<byte[], List<ClientState>> table = Table(kind);
            if (!table.TryGetValue(name, out List<ClientState>? subscribers))
            {
                table[name] = subscribers = [];
            }

            subscribers.Add(client);
            return true;
        }
    }

    /// <summary>Removes <paramref name="client"/> from <paramref name="name"/>; false when it was not there.</summary>
    public bool Unsubscribe(ClientState client, SubscriptionKind kind, byte[] name)
    {
        lock (_gate)
        {
            if (!client.Subscriptions.Remove(kind, name))
            {
                return false;
            }

            Dictionary<byte[], List<ClientState>> table = Table(kind);
            if (table.TryGetValue(name, out List<ClientState>? subscribers))
            {
                subscribers.Remove(client);
                if (subscribers.Count == 0)
                {
                    table.Remove(name);
                }
            }

            return true;
        }
    }

    /// <summary>The client's subscriptions of <paramref name="kind"/>, in the order they were made (for UNSUBSCRIBE without names).</summary>
    public List<byte[]> SubscriptionsOf(ClientState client, SubscriptionKind kind)
    {
        lock (_gate)
        {
            return [.. client.Subscriptions.Of(kind)];
        }
    }

    /// <summary>Drops every subscription of <paramref name="client"/> (RESET, disconnect).</summary>
    public void RemoveAll(ClientState client)
    {
        foreach (SubscriptionKind kind in Enum.GetValues<SubscriptionKind>())
        {
            foreach (byte[] name in SubscriptionsOf(client, kind))
            {
                Unsubscribe(client, kind, name);
            }
        }
    }

    /// <summary>
    /// Queues <paramref name="message"/> for every subscriber of <paramref name="channel"/> and, for a channel (not a
    /// shard channel), of every pattern that matches it; returns how many it was queued for (a client once per match).
    /// </summary>
    public long Publish(bool shard, byte[] channel, ReadOnlySpan<byte> message, Server.OutputBufferLimit limit, long nowMs)
    {
        // Receivers grouped by what they hear (the channel's subscribers, then each matching pattern's), so that each
        // group's message is formatted once per protocol, whatever the number of subscribers.
        List<(byte[]? Pattern, ClientState[] Clients)> groups = [];
        lock (_gate)
        {
            if ((shard ? _shardChannels : _channels).TryGetValue(channel, out List<ClientState>? subscribers))
            {
                groups.Add((null, [.. subscribers]));
            }

            if (!shard)
            {
                foreach ((byte[] pattern, List<ClientState> matching) in _patterns)
                {
                    if (GlobPattern.IsMatch(pattern, channel))
                    {
                        groups.Add((pattern, [.. matching]));
                    }
                }
            }
        }

        long receivers = 0;
        byte[]?[] formatted = new byte[]?[2];
        foreach ((byte[]? pattern, ClientState[] clients) in groups)
        {
            Array.Clear(formatted);
            foreach (ClientState client in clients)
            {
                int protocol = client.Protocol == RespVersion.Resp3 ? 1 : 0;
                client.Push(formatted[protocol] ??= Format(shard, pattern, channel, message, client.Protocol), limit, nowMs);
            }

            receivers += clients.Length;
        }

        return receivers;
    }

    // Redis's message shapes: [message, channel, payload], [pmessage, pattern, channel, payload], [smessage, ...]; a push in RESP3.
    private static byte[] Format(bool shard, byte[]? pattern, byte[] channel, ReadOnlySpan<byte> message, RespVersion protocol)
    {
        ArrayBufferWriter<byte> push = new(channel.Length + message.Length + 48);
        RespWriter.WritePushHeader(push, pattern is null ? 3 : 4, protocol);
        RespWriter.WriteBulkString(push, pattern is not null ? "pmessage"u8 : shard ? "smessage"u8 : "message"u8);
        if (pattern is not null)
        {
            RespWriter.WriteBulkString(push, pattern);
        }

        RespWriter.WriteBulkString(push, channel);
        RespWriter.WriteBulkString(push, message);
        return push.WrittenSpan.ToArray();
    }

    /// <summary>Active channels (or shard channels) whose name matches <paramref name="pattern"/> (all without one).</summary>
    public List<byte[]> ActiveChannels(bool shard, ReadOnlySpan<byte> pattern, bool anyName)
    {
        List<byte[]> names = [];
        lock (_gate)
        {
            foreach (byte[] name in (shard ? _shardChannels : _channels).Keys)
            {
                if (anyName || GlobPattern.IsMatch(pattern, name))
                {
                    names.Add(name);
                }
            }
        }

        return names;
    }

    /// <summary>How many clients subscribe to <paramref name="channel"/> (or the shard channel).</summary>
    public long SubscriberCount(bool shard, byte[] channel)
    {
        lock (_gate)
        {
            return (shard ? _shardChannels : _channels).TryGetValue(channel, out List<ClientState>? subscribers) ? subscribers.Count : 0;
        }
    }

    private Dictionary<byte[], List<ClientState>> Table(SubscriptionKind kind) => kind switch
    {
        SubscriptionKind.Channel => _channels,
        SubscriptionKind.Pattern => _patterns,
        _ => _shardChannels,
    };
}
