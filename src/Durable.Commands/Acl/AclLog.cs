namespace Durable.Commands.Acl;

/// <summary>
/// Redis's ACL log: the latest denials first, at most acllog-max-len. A denial like one of the ten latest (same reason,
/// context, object and user, within 60 s of it) counts on that entry and moves it to the front instead of adding one.
/// </summary>
internal sealed class AclLog
{
    private const long GroupingMs = 60_000;
    private const int EntriesCompared = 10;
    private readonly LinkedList<AclLogEntry> _entries = new();

    /// <summary>Redis addACLLogEntry.</summary>
    public void Add(AclDenial reason, string context, string obj, string user, string clientInfo, long nowMs, long maxLength)
    {
        lock (_entries)
        {
            LinkedListNode<AclLogEntry>? node = _entries.First;
            for (int scanned = 0; node is not null && scanned < EntriesCompared; scanned++, node = node.Next)
            {
                AclLogEntry entry = node.Value;
                if (entry.Reason == reason && entry.Context == context && Math.Abs(entry.TimeMs - nowMs) <= GroupingMs
                    && entry.Object == obj && entry.User == user)
                {
                    _entries.Remove(node);
                    _entries.AddFirst(entry with { Count = entry.Count + 1, TimeMs = nowMs, ClientInfo = clientInfo });
                    return;
                }
            }

            _entries.AddFirst(new AclLogEntry(1, reason, context, obj, user, nowMs, clientInfo));
            while (_entries.Count > maxLength)
            {
                _entries.RemoveLast();
            }
        }
    }

    public AclLogEntry[] Latest(long count)
    {
        lock (_entries)
        {
            return [.. _entries.Take((int)Math.Min(count, _entries.Count))];
        }
    }

    public void Clear()
    {
        lock (_entries)
        {
            _entries.Clear();
        }
    }
}

/// <summary>One ACL log entry; the object is the command's full name, the key, the channel, or for AUTH the command name as sent.</summary>
internal sealed record AclLogEntry(long Count, AclDenial Reason, string Context, string Object, string User, long TimeMs, string ClientInfo);
