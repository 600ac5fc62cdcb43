using System.Buffers;

namespace Durable.Storage.Faster;

/// <summary>
/// Records read from disk ahead of the commands of a batch (<see cref="FasterStoreSession.BeginPrefetch"/>), or by a
/// command while it waited for its stripes (<see cref="FasterStoreSession.Warming"/>), each with the write version of its
/// key's stripe and its key's write count (<see cref="KeyWriteVersions"/>) taken before the read. A command that finds its
/// key here while either is unchanged (it holds the stripe's lock by then) uses the record without reading the disk
/// again; otherwise it reads as usual. One per session, reused batch after batch.
/// </summary>
internal sealed class PrefetchedRecords
{
    /// <summary>Most records kept per batch.</summary>
    public const int MaxEntries = 64;

    /// <summary>Larger payloads are read (warming the OS page cache) but not kept, so that a session keeps at most MaxEntries x this.</summary>
    public const int MaxPayloadBytes = 16 * 1024;

    private readonly List<Entry> _entries = [];
    private int _count;
    private int _next;

    public int Count => _count;

    public void Clear()
    {
        _count = 0;
        _next = 0;
    }

    /// <summary>Takes the next free entry for a read of <paramref name="storedKey"/>; <see cref="RemoveLast"/> gives it back.</summary>
    public Entry Add(ReadOnlySpan<byte> storedKey, int stripe, int writeVersion, int keyVersion, long beginAddress, long nowMs)
    {
        if (_count == _entries.Count)
        {
            _entries.Add(new Entry());
        }

        Entry entry = _entries[_count++];
        entry.Set(storedKey, stripe, writeVersion, keyVersion, beginAddress, nowMs);
        return entry;
    }

    public void RemoveLast() => _count--;

    /// <summary>Whether an entry's payload was too large to keep (<see cref="MaxPayloadBytes"/>): a read of its value reads the disk again.</summary>
    public bool AnyPayloadSkipped()
    {
        for (int i = 0; i < _count; i++)
        {
            if (_entries[i].Output.PayloadSkipped)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Forgets one entry (the last takes its place).</summary>
    public void Remove(Entry entry)
    {
        int index = _entries.IndexOf(entry);
        if (index < 0 || index >= _count)
        {
            return;
        }

        _count--;
        (_entries[index], _entries[_count]) = (_entries[_count], _entries[index]);
        _next = 0;
    }

    /// <summary>Forgets the records a warming command read (stripe -1): the command they were for has run.</summary>
    public void RemoveWarmed()
    {
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_entries[i].Stripe >= 0)
            {
                (_entries[kept], _entries[i]) = (_entries[i], _entries[kept]);
                kept++;
            }
        }

        _count = kept;
        _next = 0;
    }

    /// <summary>The entry for <paramref name="storedKey"/>, looked for from the one after the last found: commands usually come in the order they were prefetched.</summary>
    public Entry? Find(ReadOnlySpan<byte> storedKey)
    {
        for (int i = 0; i < _count; i++)
        {
            Entry entry = _entries[(_next + i) % _count];
            if (entry.Key.SequenceEqual(storedKey))
            {
                _next = (_next + i + 1) % _count;
                return entry;
            }
        }

        return null;
    }

    internal sealed class Entry
    {
        private byte[] _key = new byte[64];
        private int _keyLength;

        /// <summary>What the read found; its payload, when kept, is in <see cref="Payload"/>.</summary>
        public StoreOutput Output { get; } = new();

        public ArrayBufferWriter<byte> Payload { get; } = new(256);

        public int Stripe { get; private set; }

        public int WriteVersion { get; private set; }

        /// <summary>The key's write count before the read (<see cref="KeyWriteVersions"/>).</summary>
        public int KeyVersion { get; private set; }

        /// <summary>The log's begin address before the read: a compaction that moves it can make FASTER answer "not found".</summary>
        public long BeginAddress { get; private set; }

        public ReadOnlySpan<byte> Key => _key.AsSpan(0, _keyLength);

        public void Set(ReadOnlySpan<byte> storedKey, int stripe, int writeVersion, int keyVersion, long beginAddress, long nowMs)
        {
            if (storedKey.Length > _key.Length)
            {
                _key = new byte[storedKey.Length];
            }

            storedKey.CopyTo(_key);
            _keyLength = storedKey.Length;
            Stripe = stripe;
            WriteVersion = writeVersion;
            KeyVersion = keyVersion;
            BeginAddress = beginAddress;
            Payload.ResetWrittenCount();
            Output.Reset(Payload, nowMs);
            Output.PayloadLimit = MaxPayloadBytes;
        }
    }
}
