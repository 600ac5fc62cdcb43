using FASTER.core;

namespace Durable.Storage.Faster;

/// <summary>
/// The store log's outermost device: a read that FASTER issues while a session is <see cref="Issuing"/> (its prefetch
/// and warming reads, on the session's thread) is counted in that session's <see cref="SessionReads"/> until its
/// completion callback has run, and a read FASTER issues again from that callback counts for the same session. Every
/// other read and every write passes straight through.
/// </summary>
internal sealed class SessionReadDevice(IDevice inner) : ForwardingDevice(inner)
{
    [ThreadStatic]
    private static SessionReads? s_issuer;

    /// <summary>Counts the reads this thread issues in <paramref name="reads"/> until the scope is disposed.</summary>
    public static IssuingScope Issuing(SessionReads reads)
    {
        SessionReads? previous = s_issuer;
        s_issuer = reads;
        return new IssuingScope(previous);
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
    {
        if (s_issuer is not { } reads)
        {
            Inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);
            return;
        }

        reads.Started();
        try
        {
            Inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, TrackedRead.Completed, new TrackedRead(reads, callback, context));
        }
        catch
        {
            reads.Finished();
            throw;
        }
    }

    public override void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context)
    {
        if (s_issuer is not { } reads)
        {
            Inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);
            return;
        }

        reads.Started();
        try
        {
            Inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, TrackedRead.Completed, new TrackedRead(reads, callback, context));
        }
        catch
        {
            reads.Finished();
            throw;
        }
    }

    /// <summary>Restores the thread's previous issuer.</summary>
    internal readonly struct IssuingScope(SessionReads? previous) : IDisposable
    {
        public void Dispose() => s_issuer = previous;
    }

    /// <summary>A counted read: FASTER's callback runs as the session's issuer, then the read is finished.</summary>
    private sealed class TrackedRead(SessionReads reads, DeviceIOCompletionCallback callback, object context)
    {
        public static readonly DeviceIOCompletionCallback Completed = static (errorCode, numBytes, state) => ((TrackedRead)state).Complete(errorCode, numBytes);

        private void Complete(uint errorCode, uint numBytes)
        {
            SessionReads? previous = s_issuer;
            s_issuer = reads;
            try
            {
                callback(errorCode, numBytes, context);
            }
            finally
            {
                s_issuer = previous;
                reads.Finished();
            }
        }
    }
}
