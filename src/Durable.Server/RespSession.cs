using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Durable.Commands;
using Durable.Protocol;

namespace Durable.Server;

/// <summary>
/// Parses and runs every complete command in a connection's input, writing replies to its output. Synchronous:
/// spans and ref structs never cross an await. Not thread-safe; one per connection.
/// </summary>
internal sealed class RespSession
{
    /// <summary>A batch ends early once this much reply is waiting, so that a long pipeline cannot balloon memory.</summary>
    public const int OutputLimit = 64 * 1024;
    private const int MinimumCopy = 80 * 1024;

    /// <summary>At most this many commands of a batch are looked at for keys to prefetch.</summary>
    private const int PrefetchCommands = 256;

    private readonly RespRequest _prefetchRequest = new();

    // The frame being run, and the one after it, parsed before the first runs (see ExecuteSpan); they swap as the batch
    // moves on, so that each frame is parsed once.
    private RespRequest _request = new();
    private RespRequest _next = new();
    private readonly RespLimits _limits;
    private readonly CommandDispatcher _dispatcher;
    private readonly CommandContext _context;
    private readonly DiscardBufferWriter _discard = new();
    private byte[] _copy = [];
    private bool _skipReply;
    private long _minimumLength;
    private bool _mayWaitForDisk;
    private bool _prefetchedKeys;

    public RespSession(CommandContext context, CommandDispatcher dispatcher, RespLimits limits)
    {
        _context = context;
        _dispatcher = dispatcher;
        _limits = limits;
    }

    public CommandContext Context => _context;

    /// <summary>
    /// Set when the batch stopped (DestinationTooSmall) because CLIENT PAUSE holds back the next command; the connection
    /// awaits <see cref="Commands.Server.ClientPause.WaitAsync"/> and then calls <see cref="ExecuteBatch"/> again.
    /// </summary>
    public bool WaitingForPause { get; private set; }

    /// <summary>
    /// Set when the batch stopped (DestinationTooSmall) because the next command's key stripes are taken: the connection
    /// flushes what it has, awaits <see cref="AcquireLocksAsync"/> (no thread waits) and calls <see cref="ExecuteBatch"/>
    /// again, which runs that command with the stripes held. See <see cref="Durable.Storage.KeyLocks"/>.
    /// </summary>
    public bool LocksWanted => _dispatcher.IsDeferred;

    /// <summary>
    /// Set when the batch stopped (DestinationTooSmall) because the next command waits for its keys' stripes and started
    /// reading from disk what it will need: the connection awaits the store session's prefetches and calls
    /// <see cref="ExecuteBatch"/> again (without prefetching anew, which would forget those reads).
    /// </summary>
    public bool WarmingReads => _dispatcher.IsWarming;

    /// <summary>Takes the stripes the waiting command needs; it runs with them at the next <see cref="ExecuteBatch"/>.</summary>
    public Task AcquireLocksAsync() => _dispatcher.AcquireLocksAsync(_context.Store.Locks);

    /// <summary>Lets go of stripes taken for a command that will not run (the connection ends).</summary>
    public void ReleaseLocks() => _dispatcher.ReleaseHeldLocks(_context.Store.Locks);

    /// <summary>
    /// When part of the data set is on disk only, starts disk reads for the keys that the complete read-only commands at
    /// the start of <paramref name="buffer"/> will read, so that the connection awaits them together
    /// (<see cref="Durable.Storage.IStoreSession.CompletePrefetchesAsync"/>) and <see cref="ExecuteBatch"/> then runs the
    /// commands without waiting for the disk. Returns whether any read started. Changes nothing: a SELECT in the batch
    /// only makes later prefetches miss, and a write in the batch makes the reads after it read again.
    /// </summary>
    public bool Prefetch(in ReadOnlySequence<byte> buffer)
    {
        _prefetchedKeys = false;
        // While loading, the store is a stand-in without cold records. (A monitor only gets errors for commands that
        // touch the keyspace; its batches move to the pool as they always did.)
        if (!_context.Server.Store.HasColdRecords || _context.Client.IsMonitor)
        {
            _mayWaitForDisk = _context.Client.IsMonitor;
            return false;
        }

        ReadOnlySpan<byte> span = buffer.FirstSpan;
        int started = 0;
        bool mayWait = false;
        OperationStatus parsed = OperationStatus.Done;
        for (int commands = 0; commands < PrefetchCommands && !span.IsEmpty; commands++)
        {
            parsed = RespParser.TryParse(span, _prefetchRequest, _limits, out int frame);
            if (parsed != OperationStatus.Done)
            {
                break;
            }

            if (_prefetchRequest.Count > 0)
            {
                started += _dispatcher.Prefetch(_context, _prefetchRequest.GetArgs(span), out bool commandMayWait);
                mayWait |= commandMayWait;
            }

            span = span[frame..];
        }

        // Commands not looked at (past the limit, or in the buffer's next segments) may wait for the disk.
        _mayWaitForDisk = mayWait || !buffer.IsSingleSegment || (parsed == OperationStatus.Done && !span.IsEmpty);
        _prefetchedKeys = true;
        return started > 0;
    }

    /// <summary>
    /// After <see cref="Prefetch"/> and the prefetches' completion: whether a command of the batch may wait for the disk
    /// on the thread that runs it, so that the batch must not run on a socket thread. False when the store has no record
    /// on disk, or when every command of the batch was looked at and only reads its keys' records
    /// (<see cref="CommandFlags.KeyReadsOnly"/>), which the prefetch read or found in memory.
    /// </summary>
    public bool MayWaitForDisk => _mayWaitForDisk || (_prefetchedKeys && _context.Session.PrefetchesMissed);

    /// <summary>
    /// Runs the complete commands at the start of <paramref name="buffer"/> and slices them off it.
    /// Returns NeedMoreData (wait for input), DestinationTooSmall (flush, then call again at once),
    /// Done (the client asked to close) or InvalidData (protocol error written; close after flushing).
    /// </summary>
    public OperationStatus ExecuteBatch(ref ReadOnlySequence<byte> buffer, PipeWriter output)
    {
        _context.Reply = output;
        WaitingForPause = false;
        if (buffer.Length < _minimumLength)
        {
            return OperationStatus.NeedMoreData;
        }

        OperationStatus status;
        while (true)
        {
            int firstLength = buffer.FirstSpan.Length;
            status = ExecuteSpan(buffer.FirstSpan, output, out int consumed);
            buffer = buffer.Slice(consumed);
            if (status != OperationStatus.NeedMoreData || buffer.IsEmpty)
            {
                break;
            }

            if (consumed == firstLength)
            {
                // The last frame ended exactly at the segment's end: the next one starts in the next segment.
                continue;
            }

            if (buffer.IsSingleSegment)
            {
                break;
            }

            // A frame straddles buffer segments: copy enough of the input to hold it and go on from the copy. Every
            // NeedMoreData names a minimum length beyond what it saw, so each copy either completes a frame, or grows to
            // that minimum (a frame of several large arguments shows its length one argument at a time), or waits.
            if (!ExecuteCopies(ref buffer, output, out status))
            {
                break;
            }
        }

        _minimumLength = status == OperationStatus.NeedMoreData ? _request.MinimumLength : 0;
        if (_copy.Length > 4 * MinimumCopy && status != OperationStatus.NeedMoreData)
        {
            _copy = [];
        }

        return status;
    }

    /// <summary>
    /// Runs frames from copies of the start of <paramref name="buffer"/>; returns true once a frame ran (go on from the
    /// segments), false when the batch ends here (<paramref name="status"/> says why).
    /// </summary>
    private bool ExecuteCopies(ref ReadOnlySequence<byte> buffer, PipeWriter output, out OperationStatus status)
    {
        long wanted = Math.Max(MinimumCopy, _request.MinimumLength);
        while (true)
        {
            wanted = Math.Min(buffer.Length, wanted);
            if (_copy.Length < wanted)
            {
                _copy = new byte[Math.Max(wanted, Math.Min(_copy.Length * 2L, Array.MaxLength))];
            }

            buffer.Slice(0, wanted).CopyTo(_copy);
            status = ExecuteSpan(_copy.AsSpan(0, (int)wanted), output, out int consumed);
            buffer = buffer.Slice(consumed);
            if (status != OperationStatus.NeedMoreData || buffer.IsEmpty || _request.MinimumLength > buffer.Length)
            {
                return false;
            }

            if (consumed > 0)
            {
                return true;
            }

            // The frame needs more than the copy held. Its parse only sees one argument ahead, so growing the copy to
            // that minimum alone made a frame of n large arguments cost n copies and parses of itself (MSET of 1,000
            // values of 700 bytes took 13 s): grow geometrically instead, to what the buffer holds at most.
            wanted = Math.Max(_request.MinimumLength, wanted * 2);
        }
    }

    private OperationStatus ExecuteSpan(ReadOnlySpan<byte> span, PipeWriter output, out int consumed)
    {
        consumed = 0;
        int nextFrame = -1;
        while (consumed < span.Length)
        {
            if (output.UnflushedBytes > OutputLimit)
            {
                return OperationStatus.DestinationTooSmall;
            }

            ReadOnlySpan<byte> rest = span[consumed..];
            int frame;
            if (nextFrame >= 0)
            {
                (_request, _next) = (_next, _request);
                frame = nextFrame;
            }
            else
            {
                // Redis's limits for a client that has not logged in yet (checked again after each command: AUTH ends them).
                _limits.Unauthenticated = _context.NeedsAuthentication;
                OperationStatus status = RespParser.TryParse(rest, _request, _limits, out frame);
                if (status == OperationStatus.NeedMoreData)
                {
                    return status;
                }

                if (status == OperationStatus.InvalidData)
                {
                    WriteProtocolError(output);
                    return status;
                }
            }

            nextFrame = ParseNext(rest[frame..]);
            if (_request.Count > 0)
            {
                RespArgs args = _request.GetArgs(rest);
                if (_context.Server.Pause.IsRequested && IsPaused(args))
                {
                    // Leave the frame unconsumed: it runs once the pause ends (without the stripes it may have waited for).
                    _dispatcher.ReleaseHeldLocks(_context.Store.Locks);
                    WaitingForPause = true;
                    return OperationStatus.DestinationTooSmall;
                }

                if (!Execute(args, output))
                {
                    // A key's stripe is taken: leave the frame unconsumed; it runs once the connection has the stripes.
                    return OperationStatus.DestinationTooSmall;
                }

                consumed += frame;
                if (_context.Client.CloseAfterReply)
                {
                    return OperationStatus.Done;
                }

                if (_context.DeferredReply is not null)
                {
                    // The connection awaits the deferred reply, then calls again for the rest of the input.
                    return OperationStatus.DestinationTooSmall;
                }
            }
            else
            {
                consumed += frame;
            }
        }

        return OperationStatus.NeedMoreData;
    }

    /// <summary>
    /// Parses the frame after the one about to run and prefetches what it will touch (<see cref="CommandDispatcher.PrefetchKeys"/>),
    /// so that its memory reads overlap the current command; returns its length, or -1 when it is not complete (or not
    /// valid: it is parsed again in its turn, which reports the error).
    /// </summary>
    private int ParseNext(ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty || RespParser.TryParse(rest, _next, _limits, out int frame) != OperationStatus.Done)
        {
            return -1;
        }

        if (_next.Count > 0)
        {
            _dispatcher.PrefetchKeys(_context, _next.GetArgs(rest));
        }

        return frame;
    }

    // CLIENT REPLY: OFF sends every reply to the discard writer; SKIP discards only the next command's reply.
    // Returns false when the command waits for its keys' stripes (it ran nothing; see LocksWanted).
    private bool Execute(RespArgs args, PipeWriter output)
    {
        ClientState client = _context.Client;
        bool discard = _skipReply || client.ReplyMode == ClientReplyMode.Off;
        _context.Reply = discard ? _discard : output;
        _context.SuppressedReply = discard ? output : null;
        bool ran = _dispatcher.TryExecute(_context, args);
        _context.Reply = output;
        _context.SuppressedReply = null;
        if (!ran)
        {
            return false;
        }

        _skipReply = false;
        if (client.ReplyMode == ClientReplyMode.Skip)
        {
            client.ReplyMode = ClientReplyMode.On;
            _skipReply = true;
        }

        return true;
    }

    private bool IsPaused(RespArgs args)
    {
        CommandDefinition? definition = _context.Server.Commands.Find(args[0]);
        if (definition?.SubCommands is not null && args.Count > 1)
        {
            definition = CommandTable.FindSub(definition, args[1]) ?? definition;
        }

        // Unknown commands are not held back; they only produce an error.
        return definition is not null && _context.Server.Pause.Blocks(_context.EffectiveFlags(definition, args));
    }

    private void WriteProtocolError(PipeWriter output)
    {
        ReadOnlySpan<byte> text = _request.Error switch
        {
            RespProtocolError.InvalidMultibulkLength => RespErrors.ProtocolInvalidMultibulkLength,
            RespProtocolError.InvalidBulkLength => RespErrors.ProtocolInvalidBulkLength,
            RespProtocolError.TooBigMultibulkCount => RespErrors.ProtocolTooBigMultibulkCount,
            RespProtocolError.TooBigBulkCount => RespErrors.ProtocolTooBigBulkCount,
            RespProtocolError.TooBigInline => RespErrors.ProtocolTooBigInline,
            RespProtocolError.UnbalancedQuotes => RespErrors.ProtocolUnbalancedQuotes,
            RespProtocolError.UnauthenticatedMultibulkLength => RespErrors.ProtocolUnauthenticatedMultibulkLength,
            RespProtocolError.UnauthenticatedBulkLength => RespErrors.ProtocolUnauthenticatedBulkLength,
            _ => default,
        };
        if (_request.Error == RespProtocolError.ExpectedDollar)
        {
            RespWriter.WriteError(output, Encoding.Latin1.GetBytes($"ERR Protocol error: expected '$', got '{(char)SafeChar(_request.UnexpectedByte)}'"));
        }
        else
        {
            RespWriter.WriteError(output, text);
        }
    }

    // A CR or LF would break the error line; Redis prints the raw byte, we print a space for those two.
    private static byte SafeChar(byte b) => b is (byte)'\r' or (byte)'\n' ? (byte)' ' : b;
}
