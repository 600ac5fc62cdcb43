namespace Durable.Storage.Faster;

/// <summary>What <see cref="IoUring"/> runs, on its reaper thread, when a read completes.</summary>
internal interface IReadCompletion
{
    /// <summary><paramref name="result"/>: the bytes read, or minus the errno. Must not throw: it runs on the ring's only reaper thread.</summary>
    void Complete(int result);
}
