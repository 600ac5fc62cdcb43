using System.Buffers;
using Durable.Storage;

namespace Durable.Commands.Collections;

/// <summary>What every command that copies a record needs to know of a large collection's parts.</summary>
internal static class CollectionParts
{
    /// <summary>
    /// A payload to store as a copy of <paramref name="payload"/> (a record of <paramref name="type"/>): the payload itself,
    /// or, when it names parts, a new generation of copies of every part and the payload with that generation (two
    /// records never share parts: the store deletes a generation's parts with its record).
    /// </summary>
    public static byte[] CopyParts(CommandContext context, RecordType type, ReadOnlySpan<byte> payload)
    {
        byte[] copy = payload.ToArray();
        if (!PartsDescriptor.TryRead(type, payload, out PartsDescriptor parts))
        {
            return copy;
        }

        ulong generation = PartsDescriptor.NewGeneration();
        ArrayBufferWriter<byte> part = new();
        for (uint i = 0; i < parts.PartCount; i++)
        {
            uint id = parts.FirstPart + i;
            part.ResetWrittenCount();
            if (context.Session.TryReadPart(parts.Generation, id, part))
            {
                context.Session.WritePart(generation, id, part.WrittenSpan);
            }
        }

        (parts with { Generation = generation }).WriteTo(copy);
        return copy;
    }

    /// <summary>
    /// Whether every part of <paramref name="ids"/>, a <see cref="PackedItems"/> payload held in <paramref name="encoded"/>
    /// or of its items in <paramref name="parts"/>, fits in a record of <paramref name="key"/>'s collection; writes the
    /// error when not.
    /// </summary>
    public static bool FitParts(
        CommandContext context, ReadOnlySpan<byte> key, IReadOnlyCollection<uint> ids, Dictionary<uint, List<byte[]>> parts,
        Dictionary<uint, PackedItemsBuffer> encoded)
    {
        foreach (uint id in ids)
        {
            long length = encoded.TryGetValue(id, out PackedItemsBuffer? bytes) ? bytes.Payload.Length : PackedItems.EncodedLength(parts[id]);
            if (!TypedRecords.FitsRecord(context, key, length))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes each part of <paramref name="ids"/> (checked by <see cref="FitParts"/>) at part <paramref name="partId"/>(id)
    /// of <paramref name="generation"/>: its payload in <paramref name="encoded"/> as it stands, or a <see cref="PackedItems"/>
    /// payload of its items in <paramref name="parts"/>, encoded in <paramref name="buffer"/>.
    /// </summary>
    public static void WriteParts(
        CommandContext context, ulong generation, IReadOnlyCollection<uint> ids, Dictionary<uint, List<byte[]>> parts,
        Dictionary<uint, PackedItemsBuffer> encoded, ArrayBufferWriter<byte> buffer, Func<uint, uint> partId)
    {
        foreach (uint id in ids)
        {
            if (encoded.TryGetValue(id, out PackedItemsBuffer? bytes))
            {
                context.Session.WritePart(generation, partId(id), bytes.Payload);
                continue;
            }

            buffer.ResetWrittenCount();
            PackedItems.Encode(buffer, 0, parts[id]);
            context.Session.WritePart(generation, partId(id), buffer.WrittenSpan);
        }
    }
}
