using System.Buffers;

namespace Durable.Commands.Collections;

/// <summary>
/// The arrays behind a command's <see cref="PackedItemsBuffer"/>s (the buckets, chunks and tree nodes it reads and
/// edits), rented from the shared pool and given back when the command ends (<see cref="ReturnAll"/>, called by the
/// dispatcher), so that a command touching four parts of a kilobyte does not allocate, and have the GC clear, four
/// fresh arrays each time. One per connection (<see cref="CommandContext.PartBuffers"/>); not thread-safe. Nothing may
/// hold a buffer past its command.
/// </summary>
internal sealed class PartBuffers
{
    // Past these, arrays are plain allocations that the GC takes back: a command touching many parts (a conversion, a
    // whole-collection read) or a very large part should not hold the pool's arrays, and a caller that never returns
    // them (a test driving a collection directly) must not make the list grow without end.
    private const int MaxLent = 64;
    private const int MaxPooledLength = 64 * 1024;

    private readonly List<byte[]> _lent = [];

    /// <summary>
    /// How many commands have ended (<see cref="ReturnAll"/> calls): a <see cref="PackedItemsBuffer"/> notes it when made
    /// and refuses to be used once it has changed, so that a part kept past its command fails loudly instead of sharing
    /// an array that the pool has lent again.
    /// </summary>
    public int Command { get; private set; }

    /// <summary>An array of at least <paramref name="length"/> bytes (contents unspecified), valid until <see cref="ReturnAll"/>.</summary>
    public byte[] Rent(int length)
    {
        if (length > MaxPooledLength || _lent.Count >= MaxLent)
        {
            return new byte[length];
        }

        byte[] array = ArrayPool<byte>.Shared.Rent(length);
        _lent.Add(array);
        return array;
    }

    /// <summary>Gives back every array rented since the last call: the command that used them is over.</summary>
    public void ReturnAll()
    {
        foreach (byte[] array in _lent)
        {
            ArrayPool<byte>.Shared.Return(array);
        }

        _lent.Clear();
        Command++;
    }
}
