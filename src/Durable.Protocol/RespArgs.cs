namespace Durable.Protocol;

/// <summary>
/// The arguments of one command, argument 0 being the command name. A view over the connection's input:
/// the spans are valid only until the input is advanced past the frame, so never store them.
/// </summary>
public readonly ref struct RespArgs
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly ReadOnlySpan<int> _bounds;

    /// <param name="data">The bytes the arguments point into.</param>
    /// <param name="bounds">Pairs of (start, length) into <paramref name="data"/>, one pair per argument.</param>
    public RespArgs(ReadOnlySpan<byte> data, ReadOnlySpan<int> bounds)
    {
        _data = data;
        _bounds = bounds;
    }

    public int Count => _bounds.Length / 2;

    public ReadOnlySpan<byte> this[int index] => _data.Slice(_bounds[2 * index], _bounds[(2 * index) + 1]);

    /// <summary>The arguments from <paramref name="start"/> on, as a view of the same bytes.</summary>
    public RespArgs Slice(int start) => new(_data, _bounds[(2 * start)..]);

    /// <summary>True when argument <paramref name="index"/> equals <paramref name="word"/> ignoring ASCII case.</summary>
    public bool Is(int index, ReadOnlySpan<byte> word) => AsciiCase.EqualsIgnoreCase(this[index], word);
}
