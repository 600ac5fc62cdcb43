namespace Durable.Commands.PubSub;

/// <summary>One client's subscriptions of each kind. Changed only under <see cref="PubSubHub"/>'s lock.</summary>
public sealed class ClientSubscriptions
{
    private readonly HashSet<byte[]>[] _names = [new(ByteArrayComparer.Instance), new(ByteArrayComparer.Instance), new(ByteArrayComparer.Instance)];
    private int _total;

    /// <summary>Channels and patterns together: what SUBSCRIBE, PSUBSCRIBE and their UNSUBSCRIBEs reply with.</summary>
    public int ChannelsAndPatterns => _names[(int)SubscriptionKind.Channel].Count + _names[(int)SubscriptionKind.Pattern].Count;

    public int Count(SubscriptionKind kind) => _names[(int)kind].Count;

    /// <summary>Any subscription at all: a RESP2 client is then in the subscribed state. Read by any thread (CLIENT LIST).</summary>
    public bool Any => Volatile.Read(ref _total) > 0;

    public IReadOnlyCollection<byte[]> Of(SubscriptionKind kind) => _names[(int)kind];

    internal bool Add(SubscriptionKind kind, byte[] name)
    {
        if (!_names[(int)kind].Add(name))
        {
            return false;
        }

        Interlocked.Increment(ref _total);
        return true;
    }

    internal bool Remove(SubscriptionKind kind, byte[] name)
    {
        if (!_names[(int)kind].Remove(name))
        {
            return false;
        }

        Interlocked.Decrement(ref _total);
        return true;
    }
}
