using System.Reflection;
using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// The bytes of records still in the log's memory, which FASTER 2.6.5 keeps internal: its allocator
/// (<c>FasterKV.hlog</c>) maps a logical address to the memory of the page's frame (<c>GetPhysicalAddress</c>), found
/// by reflection. Callers hold the session's epoch (<c>UnsafeContext.BeginUnsafe</c>) and use only addresses at or
/// above the head address they read under it, so that the frame stays the page's while they use it.
/// </summary>
internal sealed unsafe class LogFrames
{
    private static readonly FieldInfo? s_allocator = typeof(FasterKV<SpanByte, SpanByte>).GetField("hlog", BindingFlags.Instance | BindingFlags.NonPublic);

    private readonly Func<long, long>? _physicalAddress;
    private readonly int _pageBits;

    public LogFrames(FasterKV<SpanByte, SpanByte> kv, int pageBits)
    {
        _pageBits = pageBits;
        object? allocator = s_allocator?.GetValue(kv);
        MethodInfo? method = allocator?.GetType().GetMethod("GetPhysicalAddress", BindingFlags.Instance | BindingFlags.Public, [typeof(long)]);
        _physicalAddress = method?.CreateDelegate<Func<long, long>>(allocator);
    }

    /// <summary>Whether FASTER's allocator was found (a FASTER other than 2.6.5 may lay it out differently).</summary>
    public bool Available => _physicalAddress is not null;

    /// <summary>The memory from <paramref name="address"/> (in memory, under the caller's epoch) to its page's end.</summary>
    public Span<byte> FromAddress(long address)
    {
        long pageEnd = ((address >> _pageBits) + 1) << _pageBits;
        return new Span<byte>((void*)_physicalAddress!(address), (int)(pageEnd - address));
    }
}
