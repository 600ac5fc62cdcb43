using Durable.Commands.Server;

namespace Durable.Commands.Streams;

/// <summary>
/// How consumer-group reads and claims reach replicas, as Redis 7.0's (t_stream.c): not as the XREADGROUP, XCLAIM or
/// XAUTOCLAIM sent, whose result depends on the clock and on idle times, but as what they changed: an XCLAIM per pending
/// entry delivered, claimed or dropped, carrying the entry's consumer, delivery time and count and the group's last ID
/// (FORCE JUSTID, so that the replica neither checks idle times nor counts a delivery); XGROUP SETID when only the
/// group's last ID moved (NOACK reads, an XCLAIM with LASTID that claimed nothing); XGROUP CREATECONSUMER for a consumer
/// a NOACK read created.
/// </summary>
internal static class StreamPropagation
{
    /// <summary>The command sent reaches replicas only as what the calls below add (Redis's preventCommandPropagation).</summary>
    public static void Begin(CommandContext context) => context.PropagateNothing();

    /// <summary>
    /// Redis streamPropagateXCLAIM: XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last-id.
    /// </summary>
    public static void Claim(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> groupName, StreamGroup group, PendingEntry pending)
    {
        context.PropagateAs(
            "XCLAIM"u8.ToArray(), key.ToArray(), groupName.ToArray(), pending.Consumer.Name, "0"u8.ToArray(), pending.Id.Format(),
            "TIME"u8.ToArray(), Propagation.Number(pending.DeliveryTimeMs), "RETRYCOUNT"u8.ToArray(), Propagation.Number(pending.DeliveryCount),
            "FORCE"u8.ToArray(), "JUSTID"u8.ToArray(), "LASTID"u8.ToArray(), group.LastId.Format());
    }

    /// <summary>Redis streamPropagateGroupID: XGROUP SETID key group last-id ENTRIESREAD n.</summary>
    public static void GroupId(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> groupName, StreamGroup group) =>
        context.PropagateAs(
            "XGROUP"u8.ToArray(), "SETID"u8.ToArray(), key.ToArray(), groupName.ToArray(), group.LastId.Format(),
            "ENTRIESREAD"u8.ToArray(), Propagation.Number(group.EntriesRead));

    /// <summary>Redis streamPropagateConsumerCreation: XGROUP CREATECONSUMER key group consumer.</summary>
    public static void ConsumerCreated(CommandContext context, ReadOnlySpan<byte> key, ReadOnlySpan<byte> groupName, ReadOnlySpan<byte> consumer) =>
        context.PropagateAs("XGROUP"u8.ToArray(), "CREATECONSUMER"u8.ToArray(), key.ToArray(), groupName.ToArray(), consumer.ToArray());
}
