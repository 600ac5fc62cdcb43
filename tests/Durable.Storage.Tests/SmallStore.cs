namespace Durable.Storage.Tests;

/// <summary>The options most storage tests start from: a store whose log goes to disk after 1 MiB, with nothing in the background.</summary>
internal static class SmallStore
{
    /// <summary>1 MiB of memory, a 64 KiB index, 1 MiB segments; no compaction and no periodic checkpoints (tests take them). Add to it with <c>with</c>.</summary>
    public static StoreOptions Options(string directory) => new()
    {
        DataDirectory = directory,
        MemoryBytes = 1L << 20,
        IndexBytes = 1L << 16,
        SegmentBytes = 1L << 20,
        CompactionIntervalSeconds = 0,
        CheckpointIntervalSeconds = 0,
    };

    /// <summary>Writes 4 MB of string keys (filler-0 .. filler-3999 in database 0), so that what was written before is on disk.</summary>
    public static void PushToDisk(IStoreSession session)
    {
        byte[] filler = new byte[1000];
        for (int i = 0; i < 4000; i++)
        {
            session.Write(0, System.Text.Encoding.ASCII.GetBytes($"filler-{i}"), RecordType.String, filler, 0);
        }

        session.CompleteCommand();
    }
}
