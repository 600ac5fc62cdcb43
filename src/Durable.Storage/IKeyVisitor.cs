using System.Buffers;

namespace Durable.Storage;

/// <summary>Receives keys from <see cref="IStoreSession.Scan"/>; the span is valid only during the call.</summary>
public interface IKeyVisitor
{
    /// <summary>
    /// Where each visited key's value (its record's payload) goes, read together with the check that the record is the
    /// key's live one, and held there during <see cref="Visit"/>; null (the default): keys only.
    /// </summary>
    ArrayBufferWriter<byte>? Values => null;

    void Visit(ReadOnlySpan<byte> key, in StoredRecord record);
}
