namespace Durable.Commands.PubSub;

/// <summary>What a client subscribes to: a channel (SUBSCRIBE), a pattern (PSUBSCRIBE) or a shard channel (SSUBSCRIBE).</summary>
public enum SubscriptionKind
{
    Channel,
    Pattern,
    ShardChannel,
}
