namespace Durable.Protocol;

/// <summary>
/// Per-connection holder of the last parsed command: argument bounds, plus a private buffer for inline commands
/// (whose arguments are unescaped and so cannot point into the input). Reused for every command; not thread-safe.
/// </summary>
public sealed class RespRequest
{
    private int[] _bounds = new int[64];
    private byte[] _inline = new byte[256];
    private int _inlineLength;

    public int Count { get; private set; }

    /// <summary>True when the arguments live in this request's own buffer (inline command), not in the input.</summary>
    public bool IsInline { get; private set; }

    /// <summary>Set with <c>InvalidData</c>: which protocol error to report.</summary>
    public RespProtocolError Error { get; internal set; }

    /// <summary>With <see cref="RespProtocolError.ExpectedDollar"/>: the byte found instead of '$'.</summary>
    public byte UnexpectedByte { get; internal set; }

    /// <summary>With <c>NeedMoreData</c>: the input must grow to at least this many bytes before parsing can progress.</summary>
    public long MinimumLength { get; internal set; }

    /// <summary>The arguments, viewing <paramref name="input"/> (the span the frame was parsed from) or the inline buffer.</summary>
    public RespArgs GetArgs(ReadOnlySpan<byte> input) =>
        new(IsInline ? _inline.AsSpan(0, _inlineLength) : input, _bounds.AsSpan(0, 2 * Count));

    internal void Reset()
    {
        Count = 0;
        IsInline = false;
        _inlineLength = 0;
        Error = RespProtocolError.None;
        MinimumLength = 0;
    }

    internal void Add(int start, int length)
    {
        if (2 * Count >= _bounds.Length)
        {
            Array.Resize(ref _bounds, _bounds.Length * 2);
        }

        _bounds[2 * Count] = start;
        _bounds[(2 * Count) + 1] = length;
        Count++;
    }

    internal void BeginInline() => IsInline = true;

    internal int InlineLength => _inlineLength;

    internal void AppendInline(byte value)
    {
        if (_inlineLength == _inline.Length)
        {
            Array.Resize(ref _inline, _inline.Length * 2);
        }

        _inline[_inlineLength++] = value;
    }
}
