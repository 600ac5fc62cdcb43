using Durable.Commands.Server;
using Durable.Protocol;

namespace Durable.Commands.PubSub;

/// <summary>
/// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB. Messages
/// are not stored: they go to the clients subscribed when they are published, as in Redis. A shard channel is a channel
/// of its own namespace (Redis 7.0 standalone).
/// </summary>
internal static class PubSubCommands
{
    private const CommandFlags Flags = CommandFlags.PubSub | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    public static void Register(CommandTable table)
    {
        table.Add("SUBSCRIBE", -2, Flags, (c, a) => Subscribe(c, a, SubscriptionKind.Channel), categories: ["pubsub", "slow"]);
        table.Add("PSUBSCRIBE", -2, Flags, (c, a) => Subscribe(c, a, SubscriptionKind.Pattern), categories: ["pubsub", "slow"]);
        // Shard channels are keys to Redis's key specs (they pick the cluster slot).
        table.Add("SSUBSCRIBE", -2, Flags, (c, a) => Subscribe(c, a, SubscriptionKind.ShardChannel), 1, -1, 1, ["pubsub", "slow"]);
        table.Add("UNSUBSCRIBE", -1, Flags, (c, a) => Unsubscribe(c, a, SubscriptionKind.Channel), categories: ["pubsub", "slow"]);
        table.Add("PUNSUBSCRIBE", -1, Flags, (c, a) => Unsubscribe(c, a, SubscriptionKind.Pattern), categories: ["pubsub", "slow"]);
        table.Add("SUNSUBSCRIBE", -1, Flags, (c, a) => Unsubscribe(c, a, SubscriptionKind.ShardChannel), 1, -1, 1, ["pubsub", "slow"]);
        table.Add("PUBLISH", 3, CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.MayReplicate, (c, a) => Publish(c, a, shard: false), categories: ["pubsub", "fast"]);
        table.Add("SPUBLISH", 3, CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, (c, a) => Publish(c, a, shard: true), 1, 1, 1, ["pubsub", "fast"]);
        const CommandFlags Introspection = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale;
        table.AddContainer(
            "PUBSUB",
            -2,
            CommandFlags.None,
            CommandTable.Sub("CHANNELS", -2, Introspection, (c, a) => Channels(c, a, shard: false), categories: ["pubsub", "slow"]),
            CommandTable.Sub("SHARDCHANNELS", -2, Introspection, (c, a) => Channels(c, a, shard: true), categories: ["pubsub", "slow"]),
            CommandTable.Sub("NUMSUB", -2, Introspection, (c, a) => NumSub(c, a, shard: false), categories: ["pubsub", "slow"]),
            CommandTable.Sub("SHARDNUMSUB", -2, Introspection, (c, a) => NumSub(c, a, shard: true), categories: ["pubsub", "slow"]),
            CommandTable.Sub("NUMPAT", 2, Introspection, (c, _) => c.WriteInteger(c.Server.PubSub.PatternCount), categories: ["pubsub", "slow"]),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: ["slow"]));
    }

    /// <summary>Whether a RESP2 client with subscriptions may run <paramref name="definition"/> (Redis: only these).</summary>
    public static bool AllowedWhileSubscribed(CommandDefinition definition) => definition.Name is
        "PING" or "QUIT" or "RESET" or "SUBSCRIBE" or "PSUBSCRIBE" or "SSUBSCRIBE" or "UNSUBSCRIBE" or "PUNSUBSCRIBE" or "SUNSUBSCRIBE";

    private static void Subscribe(CommandContext context, RespArgs args, SubscriptionKind kind)
    {
        for (int i = 1; i < args.Count; i++)
        {
            byte[] name = args[i].ToArray();
            context.Server.PubSub.Subscribe(context.Client, kind, name);
            WriteConfirmation(context, kind switch
            {
                SubscriptionKind.Channel => "subscribe"u8,
                SubscriptionKind.Pattern => "psubscribe"u8,
                _ => "ssubscribe"u8,
            }, name, kind);
        }
    }

    // Without names: from every subscription of the kind; none at all still gets one reply, with a null name.
    private static void Unsubscribe(CommandContext context, RespArgs args, SubscriptionKind kind)
    {
        ReadOnlySpan<byte> verb = kind switch
        {
            SubscriptionKind.Channel => "unsubscribe"u8,
            SubscriptionKind.Pattern => "punsubscribe"u8,
            _ => "sunsubscribe"u8,
        };
        List<byte[]> names;
        if (args.Count > 1)
        {
            names = new(args.Count - 1);
            for (int i = 1; i < args.Count; i++)
            {
                names.Add(args[i].ToArray());
            }
        }
        else
        {
            names = context.Server.PubSub.SubscriptionsOf(context.Client, kind);
        }

        if (names.Count == 0)
        {
            WriteConfirmation(context, verb, null, kind);
            return;
        }

        foreach (byte[] name in names)
        {
            context.Server.PubSub.Unsubscribe(context.Client, kind, name);
            WriteConfirmation(context, verb, name, kind);
        }
    }

    // Redis addReplyPubsubSubscribed/Unsubscribed: [verb, name, count], a push in RESP3; shard subscriptions count apart.
    private static void WriteConfirmation(CommandContext context, ReadOnlySpan<byte> verb, byte[]? name, SubscriptionKind kind)
    {
        ClientSubscriptions subscriptions = context.Client.Subscriptions;
        RespWriter.WritePushHeader(context.Reply, 3, context.Protocol);
        context.WriteBulk(verb);
        if (name is null)
        {
            context.WriteNull();
        }
        else
        {
            context.WriteBulk(name);
        }

        context.WriteInteger(kind == SubscriptionKind.ShardChannel ? subscriptions.Count(SubscriptionKind.ShardChannel) : subscriptions.ChannelsAndPatterns);
    }

    private static void Publish(CommandContext context, RespArgs args, bool shard)
    {
        context.WriteInteger(context.Server.PubSub.Publish(
            shard, args[1].ToArray(), args[2], context.Server.Config.PubSubOutputBufferLimit, context.Server.Time.GetUtcNow().ToUnixTimeMilliseconds()));

        // Redis: replicas publish it to their own subscribers.
        context.PropagateAlways = true;
    }

    private static void Channels(CommandContext context, RespArgs args, bool shard)
    {
        if (args.Count > 3)
        {
            context.WriteSubcommandSyntaxError(args);
            return;
        }

        List<byte[]> names = context.Server.PubSub.ActiveChannels(shard, args.Count > 2 ? args[2] : default, anyName: args.Count == 2);
        context.WriteArrayHeader(names.Count);
        foreach (byte[] name in names)
        {
            context.WriteBulk(name);
        }
    }

    private static void NumSub(CommandContext context, RespArgs args, bool shard)
    {
        context.WriteArrayHeader((args.Count - 2) * 2);
        for (int i = 2; i < args.Count; i++)
        {
            context.WriteBulk(args[i]);
            context.WriteInteger(context.Server.PubSub.SubscriberCount(shard, args[i].ToArray()));
        }
    }

    private static void Help(CommandContext context, RespArgs args) => HelpReply.Write(context, "PUBSUB", [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ]);
}
