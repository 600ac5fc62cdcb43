namespace Durable.Storage;

/// <summary>Receives keys from <see cref="IStoreSession.Scan"/>; the span is valid only during the call.</summary>
public interface IKeyVisitor
{
    void Visit(ReadOnlySpan<byte> key, in StoredRecord record);
}
