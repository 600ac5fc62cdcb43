using Durable.Protocol;

namespace Durable.Commands.SortedSets;

/// <summary>Replies shared by the sorted-set commands: scores as doubles, and member lists with or without scores.</summary>
internal static class SortedSetReplies
{
    /// <summary>A score: a bulk string in RESP2, a RESP3 double (',') after HELLO 3, printed as %.17g.</summary>
    public static void WriteScore(CommandContext context, double score)
    {
        Span<byte> text = stackalloc byte[ScoreText.MaxLength];
        RespWriter.WriteDouble(context.Reply, text[..ScoreText.Format(score, text)], context.Protocol);
    }

    /// <summary>
    /// Members in the given order. With scores: RESP2 one flat array (member, score, ...); RESP3 (unless
    /// <paramref name="flatInResp3"/>, as ZPOPMIN without a count), or whenever <paramref name="nested"/>, an array of
    /// [member, score] pairs, as Redis 7.0's zset replies.
    /// </summary>
    public static void WriteMembers(
        CommandContext context, IReadOnlyList<ScoredMember> members, bool withScores, bool nested = false, bool flatInResp3 = false)
    {
        if (!withScores)
        {
            context.WriteArrayHeader(members.Count);
            foreach (ScoredMember member in members)
            {
                context.WriteBulk(member.Member);
            }

            return;
        }

        bool pairs = nested || (context.Protocol == RespVersion.Resp3 && !flatInResp3);
        context.WriteArrayHeader(pairs ? members.Count : 2L * members.Count);
        foreach (ScoredMember member in members)
        {
            if (pairs)
            {
                context.WriteArrayHeader(2);
            }

            context.WriteBulk(member.Member);
            WriteScore(context, member.Score);
        }
    }
}
