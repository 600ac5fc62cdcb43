using System.Buffers;
using System.Text;
using Durable.Commands.Server;

namespace Durable.Commands.PubSub;

/// <summary>Redis's event classes for keyspace notifications (server.h NOTIFY_*), the bits of notify-keyspace-events.</summary>
[Flags]
public enum KeyspaceEventClass
{
    None = 0,
    Keyspace = 1 << 0,
    Keyevent = 1 << 1,
    Generic = 1 << 2,
    String = 1 << 3,
    List = 1 << 4,
    Set = 1 << 5,
    Hash = 1 << 6,
    SortedSet = 1 << 7,
    Expired = 1 << 8,
    Evicted = 1 << 9,
    Stream = 1 << 10,
    KeyMiss = 1 << 11,
    Module = 1 << 13,
    New = 1 << 14,

    /// <summary>The 'A' alias: every class but key misses and new keys.</summary>
    All = Generic | String | List | Set | Hash | SortedSet | Expired | Evicted | Stream | Module,
}

/// <summary>
/// Keyspace notifications (notify-keyspace-events): a command that changes a key publishes, for each event, the event
/// name on <c>__keyspace@db__:key</c> and the key on <c>__keyevent@db__:event</c>, as Redis's notifyKeyspaceEvent does,
/// when the event's class and the channel's kind (K, E) are both on. Off by default, and then one read of the setting.
/// </summary>
public static class KeyspaceEvents
{
    /// <summary>Redis keyspaceEventsStringToFlags: each character a class; false on any other character.</summary>
    public static bool TryParse(string text, out KeyspaceEventClass classes)
    {
        classes = KeyspaceEventClass.None;
        foreach (char c in text)
        {
            KeyspaceEventClass added = c switch
            {
                'A' => KeyspaceEventClass.All,
                'g' => KeyspaceEventClass.Generic,
                '$' => KeyspaceEventClass.String,
                'l' => KeyspaceEventClass.List,
                's' => KeyspaceEventClass.Set,
                'h' => KeyspaceEventClass.Hash,
                'z' => KeyspaceEventClass.SortedSet,
                'x' => KeyspaceEventClass.Expired,
                'e' => KeyspaceEventClass.Evicted,
                'K' => KeyspaceEventClass.Keyspace,
                'E' => KeyspaceEventClass.Keyevent,
                't' => KeyspaceEventClass.Stream,
                'm' => KeyspaceEventClass.KeyMiss,
                'd' => KeyspaceEventClass.Module,
                'n' => KeyspaceEventClass.New,
                _ => KeyspaceEventClass.None,
            };
            if (added == KeyspaceEventClass.None)
            {
                return false;
            }

            classes |= added;
        }

        return true;
    }

    /// <summary>
    /// Redis 7.0 keyspaceEventsFlagsToString, quirk included: with every class of 'A' on, 'n' is not written (CONFIG GET
    /// of "AKEn" answers "AKE" in redis-server 7.0.15, although new-key events stay on).
    /// </summary>
    public static string Format(KeyspaceEventClass classes)
    {
        StringBuilder text = new();
        if ((classes & KeyspaceEventClass.All) == KeyspaceEventClass.All)
        {
            text.Append('A');
        }
        else
        {
            foreach ((KeyspaceEventClass flag, char letter) in s_letters)
            {
                if ((classes & flag) != 0)
                {
                    text.Append(letter);
                }
            }
        }

        if ((classes & KeyspaceEventClass.Keyspace) != 0)
        {
            text.Append('K');
        }

        if ((classes & KeyspaceEventClass.Keyevent) != 0)
        {
            text.Append('E');
        }

        if ((classes & KeyspaceEventClass.KeyMiss) != 0)
        {
            text.Append('m');
        }

        return text.ToString();
    }

    private static readonly (KeyspaceEventClass Flag, char Letter)[] s_letters =
    [
        (KeyspaceEventClass.Generic, 'g'), (KeyspaceEventClass.String, '$'), (KeyspaceEventClass.List, 'l'),
        (KeyspaceEventClass.Set, 's'), (KeyspaceEventClass.Hash, 'h'), (KeyspaceEventClass.SortedSet, 'z'),
        (KeyspaceEventClass.Expired, 'x'), (KeyspaceEventClass.Evicted, 'e'), (KeyspaceEventClass.Stream, 't'),
        (KeyspaceEventClass.Module, 'd'), (KeyspaceEventClass.New, 'n'),
    ];

    /// <summary>Publishes <paramref name="eventName"/> for <paramref name="key"/> of logical database <paramref name="db"/> if its class is on.</summary>
    public static void Notify(ServerState server, KeyspaceEventClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key, int db)
    {
        KeyspaceEventClass on = server.Config.NotifyKeyspaceEvents;
        if ((on & type) == 0)
        {
            return;
        }

        long nowMs = server.Time.GetUtcNow().ToUnixTimeMilliseconds();
        OutputBufferLimit limit = server.Config.PubSubOutputBufferLimit;
        if ((on & KeyspaceEventClass.Keyspace) != 0)
        {
            server.PubSub.Publish(shard: false, Channel("__keyspace@"u8, db, key), eventName, limit, nowMs);
        }

        if ((on & KeyspaceEventClass.Keyevent) != 0)
        {
            server.PubSub.Publish(shard: false, Channel("__keyevent@"u8, db, eventName), key, limit, nowMs);
        }
    }

    // "__keyspace@" or "__keyevent@", the database number, "__:", then the key or the event name.
    private static byte[] Channel(ReadOnlySpan<byte> prefix, int db, ReadOnlySpan<byte> name)
    {
        ArrayBufferWriter<byte> channel = new(prefix.Length + 16 + name.Length);
        channel.Write(prefix);
        channel.Write(Encoding.ASCII.GetBytes(db.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        channel.Write("__:"u8);
        channel.Write(name);
        return channel.WrittenSpan.ToArray();
    }
}
