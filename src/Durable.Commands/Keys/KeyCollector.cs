using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Keys;

/// <summary>
/// Gathers the keys a store scan visits that pass a MATCH pattern and a TYPE name, copied into one growing buffer.
/// With <c>distinct</c>, a key the scan shows twice (it was rewritten while the scan ran) is kept once. One per command.
/// </summary>
internal sealed class KeyCollector : IKeyVisitor
{
    private readonly byte[]? _pattern;
    private readonly byte[]? _typeName;
    private readonly HashSet<int>? _distinct;
    private readonly List<int> _ends = [];
    private byte[] _bytes = new byte[1024];
    private int _length;

    /// <param name="pattern">Glob for <see cref="GlobPattern"/>; null matches every key.</param>
    /// <param name="typeName">Type name as TYPE prints it, any case; null matches every type.</param>
    /// <param name="distinct">Keep each key once (KEYS); SCAN may repeat keys, as Redis's does.</param>
    public KeyCollector(byte[]? pattern, byte[]? typeName, bool distinct)
    {
        _pattern = pattern;
        _typeName = typeName;
        _distinct = distinct ? new HashSet<int>(new SameKey(this)) : null;
    }

    public int Count => _ends.Count;

    public ReadOnlySpan<byte> KeyAt(int index)
    {
        int start = index == 0 ? 0 : _ends[index - 1];
        return _bytes.AsSpan(start, _ends[index] - start);
    }

    public void Visit(ReadOnlySpan<byte> key, in StoredRecord record)
    {
        if (_pattern is not null && !GlobPattern.IsMatch(_pattern, key))
        {
            return;
        }

        if (_typeName is not null && !AsciiCase.EqualsIgnoreCase(KeyTypeNames.Of(record.Type), _typeName))
        {
            return;
        }

        if (_length + key.Length > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_length + key.Length, _bytes.Length * 2));
        }

        key.CopyTo(_bytes.AsSpan(_length));
        _length += key.Length;
        _ends.Add(_length);
        if (_distinct is not null && !_distinct.Add(_ends.Count - 1))
        {
            _ends.RemoveAt(_ends.Count - 1);
            _length -= key.Length;
        }
    }

    /// <summary>Compares collected keys by their bytes, by index into the owner's buffer.</summary>
    private sealed class SameKey(KeyCollector owner) : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => owner.KeyAt(x).SequenceEqual(owner.KeyAt(y));

        public int GetHashCode(int obj)
        {
            HashCode hash = default;
            hash.AddBytes(owner.KeyAt(obj));
            return hash.ToHashCode();
        }
    }
}
