using System.Buffers;

namespace Durable.Storage.Faster;

/// <summary>
/// Stored keys (with their database byte) and log addresses collected by a log scan, checked afterwards.
/// Reused per session.
/// </summary>
internal sealed class RecordCandidates
{
    private readonly List<long> _addresses = [];
    private readonly List<int> _ends = [];
    private readonly ArrayBufferWriter<byte> _keys = new(4096);

    public int Count => _addresses.Count;

    /// <summary>The collected keys' bytes together.</summary>
    public int KeyBytes => _keys.WrittenCount;

    public void Clear()
    {
        _addresses.Clear();
        _ends.Clear();
        _keys.ResetWrittenCount();
    }

    /// <param name="address">Where the record is.</param>
    /// <param name="storedKey">The key with its database byte; copied.</param>
    public void Add(long address, ReadOnlySpan<byte> storedKey)
    {
        _keys.Write(storedKey);
        _addresses.Add(address);
        _ends.Add(_keys.WrittenCount);
    }

    public long AddressAt(int index) => _addresses[index];

    public ReadOnlySpan<byte> KeyAt(int index)
    {
        int start = index == 0 ? 0 : _ends[index - 1];
        return _keys.WrittenSpan[start.._ends[index]];
    }
}
