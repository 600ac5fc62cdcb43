using System.Buffers;

namespace Durable.Server;

/// <summary>
/// A reply sink that drops everything: where replies go while CLIENT REPLY is OFF or skipping one command.
/// Reuses one buffer, so suppressed replies allocate nothing after the first.
/// </summary>
internal sealed class DiscardBufferWriter : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[4096];

    public void Advance(int count)
    {
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint);

    private byte[] Ensure(int sizeHint)
    {
        if (_buffer.Length < sizeHint)
        {
            _buffer = new byte[sizeHint];
        }

        return _buffer;
    }
}
