using System.Buffers;
using System.Globalization;
using System.Text;
using Durable.Commands.Strings;
using Durable.Protocol;

namespace Durable.Commands.Blocking;

/// <summary>
/// Blocks a connection on keys for the blocking commands of every family (BLPOP, BLMOVE, BLMPOP, and later BZPOPMIN...):
/// a handler that finds nothing to serve calls <see cref="Block"/>, which registers a <see cref="KeyWaiter"/> and sets a
/// deferred reply. The connection then holds no key lock and no thread; the commands after it in the same batch wait.
/// When a write to one of the keys wakes it, the attempt runs again under the keys' locks
/// (<see cref="CommandDispatcher.ExecuteLocked"/>); at the timeout the reply is Redis's null array.
/// </summary>
internal static class BlockingWait
{
    /// <summary>
    /// Redis 7.0 getTimeoutFromObjectOrReply in seconds: a long double (string2ld rules) times 1000, rounded up to whole
    /// milliseconds; 0 blocks forever. A value whose milliseconds do not fit a signed 64-bit integer (inf, 1e16)
    /// converts to its minimum on x86 and so is "negative"; -0.0001 rounds up to 0, forever.
    /// </summary>
    public static bool TryParseTimeout(CommandContext context, ReadOnlySpan<byte> text, out long timeoutMs)
    {
        timeoutMs = 0;
        if (!LongDouble.TryParse(text, out LongDouble value))
        {
            context.WriteError(RespErrors.TimeoutNotFloat);
            return false;
        }

        double seconds = ToDouble(text, value);
        double milliseconds = Math.Ceiling(seconds * 1000.0);
        if (double.IsNaN(milliseconds) || milliseconds < 0 || milliseconds >= 9223372036854775808.0)
        {
            context.WriteError("ERR timeout is negative"u8);
            return false;
        }

        timeoutMs = (long)milliseconds;
        return true;
    }

    /// <summary>
    /// Blocks the connection until a write to one of <paramref name="waitKeys"/> lets <paramref name="attempt"/> serve it,
    /// or <paramref name="timeoutMs"/> passes (0: never). The attempt runs with <paramref name="lockKeys"/> locked
    /// exclusively (the keys it may write: for BLMOVE the destination too) and returns true once it wrote the reply;
    /// false leaves the connection waiting in its place. It must copy whatever it needs from the arguments: they are
    /// gone once the handler returns. A <paramref name="reader"/> (XREAD) takes nothing from the keys: every write to
    /// them wakes it, whoever else waits.
    /// </summary>
    public static void Block(
        CommandContext context, byte[][] waitKeys, byte[][] lockKeys, long timeoutMs, Func<CommandContext, bool> attempt, bool reader = false)
    {
        if (context.Client.Transaction.Active)
        {
            // Inside EXEC a command may not block (Redis CLIENT_DENY_BLOCKING): the reply is the timeout's, at once.
            context.WriteNullArray();
            return;
        }

        BlockedKeys blocked = context.Server.Blocked;
        KeyWaiter waiter = new(context.Db, Distinct(waitKeys)) { Reader = reader };
        long deadlineMs = timeoutMs == 0 || timeoutMs > long.MaxValue - context.NowMs ? 0 : context.NowMs + timeoutMs;
        IBufferWriter<byte> reply = context.Reply;
        blocked.Add(waiter);
        context.Client.IsBlocked = true;
        context.Client.Unblock = waiter.Unblock;
        context.DeferredReply = async (_, cancellationToken) =>
        {
            // The connection awaits this on the thread that read the command, a socket thread where completions run
            // inline: a wake-up already signalled (a stream reader's, by any write to its key) would run the retry, and
            // its wait for the key's stripes, there, holding up every connection of that thread. Off to the pool first.
            await Task.Yield();
            bool served = false;
            try
            {
                while (true)
                {
                    if (!await WaitAsync(waiter.Signal, deadlineMs, context.Server.Time, cancellationToken)
                        || waiter.Unblocked == UnblockReason.Timeout)
                    {
                        RespWriter.WriteNullArray(reply, context.Protocol);
                        return;
                    }

                    if (waiter.Unblocked == UnblockReason.Error)
                    {
                        context.Reply = reply;
                        context.WriteError("UNBLOCKED client unblocked via CLIENT UNBLOCK"u8);
                        return;
                    }

                    blocked.Rearm(waiter);
                    context.Reply = reply;
                    if (CommandDispatcher.ExecuteLocked(context, lockKeys, attempt))
                    {
                        served = true;
                        blocked.Remove(waiter, served: true);
                        foreach (byte[] key in lockKeys)
                        {
                            blocked.Signal(key);
                        }

                        await context.Session.WaitForDurabilityAsync(cancellationToken);
                        return;
                    }
                }
            }
            finally
            {
                if (!served)
                {
                    blocked.Remove(waiter, served: false);
                }

                context.Client.IsBlocked = false;
                context.Client.Unblock = null;
            }
        };
    }

    private static async Task<bool> WaitAsync(Task signal, long deadlineMs, TimeProvider time, CancellationToken cancellationToken)
    {
        if (deadlineMs == 0)
        {
            await signal.WaitAsync(cancellationToken);
            return true;
        }

        return await TimedWaits.WaitAsync(signal, deadlineMs - time.GetUtcNow().ToUnixTimeMilliseconds(), time, cancellationToken);
    }

    private static byte[][] Distinct(byte[][] keys) => keys.Distinct(ByteArrayComparer.Instance).ToArray();

    // Doubles stand in for the long double: exact enough for milliseconds. Hexadecimal floats (which .NET does not
    // parse) go through their printed value; a positive value too small for a double still waits one millisecond.
    private static double ToDouble(ReadOnlySpan<byte> text, LongDouble value)
    {
        if (value.IsInfinity)
        {
            return value.IsNegative ? double.NegativeInfinity : double.PositiveInfinity;
        }

        if (!double.TryParse(Encoding.ASCII.GetString(text), NumberStyles.Float, CultureInfo.InvariantCulture, out double result))
        {
            result = double.Parse(Encoding.ASCII.GetString(value.ToFixed17()), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return result == 0 && !value.IsNegative && HasNonZeroDigit(text) ? double.Epsilon : result;
    }

    // Whether the significand (before any exponent) has a digit other than zero.
    private static bool HasNonZeroDigit(ReadOnlySpan<byte> text)
    {
        bool hex = text.Length > 2 && text[text[0] is (byte)'-' or (byte)'+' ? 1 : 0] == (byte)'0' && text.IndexOfAny("xX"u8) >= 0;
        int start = hex ? text.IndexOfAny("xX"u8) + 1 : 0;
        foreach (byte b in text[start..])
        {
            if (hex ? b is (byte)'p' or (byte)'P' : b is (byte)'e' or (byte)'E')
            {
                break;
            }

            if (b is not ((byte)'0' or (byte)'.' or (byte)'-' or (byte)'+'))
            {
                return true;
            }
        }

        return false;
    }
}
