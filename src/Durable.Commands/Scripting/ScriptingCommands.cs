using System.Buffers;
using System.Text;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.Scripting;

/// <summary>
/// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, as Redis 7.0's eval.c. A script holds the stripes of its declared
/// keys and of every key its commands reach until it ends (<see cref="ScriptLocks"/>), so that no client sees it half
/// done, and its writes go to the write-ahead log as one entry: a crash keeps all of a script's effects or none.
/// </summary>
internal static class ScriptingCommands
{
    /// <summary>EVAL's and FCALL's flags.</summary>
    internal const CommandFlags EvalFlags = CommandFlags.NoScript | CommandFlags.Stale | CommandFlags.SkipMonitor | CommandFlags.MayReplicate | CommandFlags.NoMandatoryKeys | CommandFlags.LocksItself;

    /// <summary>EVAL_RO's and FCALL_RO's: Redis's read-only forms may not replicate, so CLIENT PAUSE WRITE lets them through.</summary>
    internal const CommandFlags ReadOnlyEvalFlags = (EvalFlags & ~CommandFlags.MayReplicate) | CommandFlags.ReadOnly;

    /// <summary>The ACL categories of the scripting commands.</summary>
    internal static readonly string[] Categories = ["slow", "scripting"];

    private static readonly string[] s_help =
    [
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ];

    public static void Register(CommandTable table)
    {
        KeyFinder keys = KeyArguments.NumKeys(2);
        table.Add("EVAL", -3, EvalFlags, (c, a) => Eval(c, a, bySha: false, readOnly: false), categories: Categories, findKeys: keys, flagsFor: (s, a) => ScriptCommandFlags(EvalFlags, ShebangFlags(a)));
        table.Add("EVALSHA", -3, EvalFlags, (c, a) => Eval(c, a, bySha: true, readOnly: false), categories: Categories, findKeys: keys, flagsFor: (s, a) => ScriptCommandFlags(EvalFlags, CachedFlags(s, a)));
        table.Add("EVAL_RO", -3, ReadOnlyEvalFlags, (c, a) => Eval(c, a, bySha: false, readOnly: true), categories: Categories, findKeys: keys, flagsFor: (s, a) => ScriptCommandFlags(ReadOnlyEvalFlags, ShebangFlags(a)));
        table.Add("EVALSHA_RO", -3, ReadOnlyEvalFlags, (c, a) => Eval(c, a, bySha: true, readOnly: true), categories: Categories, findKeys: keys, flagsFor: (s, a) => ScriptCommandFlags(ReadOnlyEvalFlags, CachedFlags(s, a)));
        table.AddContainer(
            "SCRIPT",
            -2,
            CommandFlags.None,
            CommandTable.Sub("LOAD", 3, CommandFlags.NoScript | CommandFlags.Stale, Load, categories: Categories),
            CommandTable.Sub("EXISTS", -3, CommandFlags.NoScript, Exists, categories: Categories),
            CommandTable.Sub("FLUSH", -2, CommandFlags.NoScript, Flush, categories: Categories),
            CommandTable.Sub("KILL", 2, CommandFlags.NoScript | CommandFlags.AllowBusy, Kill, categories: Categories),
            CommandTable.Sub("HELP", 2, CommandFlags.Loading | CommandFlags.Stale, Help, categories: Categories));
    }

    private static void Eval(CommandContext context, RespArgs args, bool bySha, bool readOnly)
    {
        // Redis shows a script to monitors before it runs (whatever becomes of it), then the commands it runs.
        if (context.Server.Monitors.HasMonitors)
        {
            context.Server.Monitors.Feed(context.Client, args, context.Server.Time.GetUtcNow());
        }

        // Redis checks a SHA's length before anything else.
        if (bySha && args[1].Length != 40)
        {
            context.WriteError(NoScript);
            return;
        }

        if (!TryReadKeyCount(context, args, RespErrors.NotInteger, out int keyCount))
        {
            return;
        }

        PackedArgs copy = PackedArgs.Copy(args);
        WhenNoScriptRuns(context, () => RunScript(context, copy, bySha, readOnly, keyCount));
    }

    // Compiles (EVAL) or finds (EVALSHA) the script, checks its flags, and runs it holding its keys' stripes.
    private static void RunScript(CommandContext context, PackedArgs caller, bool bySha, bool readOnly, int keyCount)
    {
        RespArgs args = caller.Args;
        ScriptEngine engine = context.Server.Scripts;
        string? error = null;
        string? sha = bySha ? Encoding.Latin1.GetString(args[1]) : engine.Load(args[1], out error);
        if (sha is null)
        {
            context.WriteError(error!);
            return;
        }

        if (engine.FlagsOf(sha) is not ScriptFlags flags)
        {
            context.WriteError(NoScript);
            return;
        }

        if (!MayRun(context, flags, readOnly))
        {
            return;
        }

        bool writes = (flags & ScriptFlags.NoWrites) == 0;
        bool ran = false;
        HoldingKeys(context, caller, keyCount, locks => ran = engine.Run(context, sha, caller.Args, keyCount, readOnly || !writes, locks));
        if (!ran)
        {
            // SCRIPT FLUSH from another connection in between.
            context.WriteError(NoScript);
        }
    }

    /// <summary>
    /// The number of keys of EVAL or FCALL (argument 2): false with Redis's error (<paramref name="notNumber"/> when it
    /// is not a number) when it is not one, is negative or counts more arguments than there are.
    /// </summary>
    internal static bool TryReadKeyCount(CommandContext context, RespArgs args, ReadOnlySpan<byte> notNumber, out int keyCount)
    {
        keyCount = 0;
        if (!RedisNumber.TryParseInt64(args[2], out long count))
        {
            context.WriteError(notNumber);
            return false;
        }

        if (count > args.Count - 3)
        {
            context.WriteError("ERR Number of keys can't be greater than number of args"u8);
            return false;
        }

        if (count < 0)
        {
            context.WriteError("ERR Number of keys can't be negative"u8);
            return false;
        }

        keyCount = (int)count;
        return true;
    }

    /// <summary>
    /// Redis's scriptFlagsToCmdFlags: a script or function that declares its flags runs with them in place of the
    /// command's write, deny-oom, stale and may-replicate flags (so that CLIENT PAUSE WRITE lets a no-writes script
    /// through); a script without a shebang (or unknown here) keeps the command's.
    /// </summary>
    internal static CommandFlags ScriptCommandFlags(CommandFlags command, ScriptFlags? script)
    {
        if (script is not ScriptFlags flags || (flags & ScriptFlags.Legacy) != 0)
        {
            return command;
        }

        command &= ~(CommandFlags.Stale | CommandFlags.DenyOom | CommandFlags.Write | CommandFlags.MayReplicate);
        if ((flags & (ScriptFlags.AllowOom | ScriptFlags.NoWrites)) == 0)
        {
            command |= CommandFlags.DenyOom;
        }

        if ((flags & ScriptFlags.NoWrites) == 0)
        {
            command |= CommandFlags.Write;
        }

        if ((flags & ScriptFlags.AllowStale) != 0)
        {
            command |= CommandFlags.Stale;
        }

        return command;
    }

    // EVAL's script's flags, from its shebang; null when it has none Redis accepts.
    private static ScriptFlags? ShebangFlags(RespArgs args) =>
        args.Count > 1 && ScriptShebang.TryRead(args[1], out ScriptFlags flags, out _, out _) ? flags : null;

    // EVALSHA's script's flags, when it is cached.
    private static ScriptFlags? CachedFlags(Server.ServerState server, RespArgs args) =>
        args.Count > 1 && args[1].Length == 40 ? server.ScriptsIfCreated?.FlagsOf(Encoding.Latin1.GetString(args[1])) : null;

    /// <summary>
    /// Redis's scriptPrepareForRun for a script with a shebang or a function (a script without one is not checked): one
    /// that may write is refused while writes are (MISCONF) and by the read-only commands. False with the error written.
    /// </summary>
    internal static bool MayRun(CommandContext context, ScriptFlags flags, bool readOnly)
    {
        if ((flags & (ScriptFlags.NoWrites | ScriptFlags.Legacy)) != 0)
        {
            return true;
        }

        if (context.Store.WriteFailure is string failure)
        {
            context.WriteError(CommandDispatcher.WriteRefusal(failure));
            return false;
        }

        if (readOnly)
        {
            context.WriteError("ERR Can not execute a script with write flag using *_ro command."u8);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Runs a script or function holding the stripes of its declared keys (the <paramref name="keyCount"/> arguments from
    /// index 3 on) and of every key its commands reach, then wakes the clients blocked on keys if it wrote.
    /// </summary>
    internal static void HoldingKeys(CommandContext context, PackedArgs caller, int keyCount, Action<ScriptLocks> run)
    {
        RespArgs args = caller.Args;
        int logged = context.Session.LoggedRecords;
        bool wrote = false;
        using (ScriptLocks locks = new(context.Store.Locks, holdsAll: context.Client.Transaction.Active))
        {
            for (int i = 0; i < keyCount; i++)
            {
                locks.Take(args[3 + i]);
            }

            try
            {
                run(locks);
            }
            finally
            {
                // The script's writes: inside EXEC they are the transaction's (its one WAL entry, its MULTI/EXEC);
                // otherwise they go to the WAL and the replication stream (as their commands, not the script) before the
                // stripes are let go, so that a later write to the same keys never precedes them in either.
                wrote = context.Session.LoggedRecords > logged;
                if (context.Client.Transaction.Active)
                {
                    context.PropagatedItsCommands = true;
                }
                else
                {
                    Server.Propagation.EndCall(context);
                }
            }
        }

        // A write command wakes the clients blocked on its keys; a script's writes wake them all to look again.
        if (wrote && context.Server.Blocked.HasWaiters && !context.Client.Transaction.Active)
        {
            context.Server.Blocked.SignalAll();
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> as the command's deferred reply (at once inside EXEC), once no script runs (the store's hold-and-wait lock,
    /// waited for without a thread) and off the socket threads, which serve other connections while a script runs; its
    /// writes are then one WAL entry, and the reply waits until they are durable.
    /// </summary>
    internal static void WhenNoScriptRuns(CommandContext context, Action body)
    {
        if (context.Client.Transaction.Active)
        {
            // Inside EXEC nothing waits; a script's EXEC holds every stripe and the hold-and-wait lock (LocksItself).
            body();
            return;
        }

        KeyLocks locks = context.Store.Locks;

        // The writer the command's reply goes to now (CLIENT REPLY OFF or SKIP: the discarding one), as BLPOP keeps it.
        IBufferWriter<byte> reply = context.Reply;
        context.DeferredReply = async (_, cancellationToken) =>
        {
            await locks.EnterHoldAndWaitAsync(cancellationToken);
            try
            {
                if (!Thread.CurrentThread.IsThreadPoolThread)
                {
                    await Task.Yield();
                }

                IBufferWriter<byte> output = context.Reply;
                context.Reply = reply;
                try
                {
                    body();
                }
                finally
                {
                    context.Reply = output;
                    context.OpenedSession?.CompleteCommand();
                    context.PartBuffers.ReturnAll();
                }
            }
            finally
            {
                locks.ExitHoldAndWait();
            }

            if (context.OpenedSession is { } session)
            {
                await session.WaitForDurabilityAsync(cancellationToken);
            }
        };
    }

    private static ReadOnlySpan<byte> NoScript => "NOSCRIPT No matching script. Please use EVAL."u8;

    private static void Load(CommandContext context, RespArgs args)
    {
        byte[] body = args[2].ToArray();
        WhenNoScriptRuns(context, () =>
        {
            string? sha = context.Server.Scripts.Load(body, out string? error);
            if (sha is null)
            {
                context.WriteError(error!);
                return;
            }

            context.WriteBulk(sha);
        });
    }

    private static void Exists(CommandContext context, RespArgs args)
    {
        context.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            context.WriteInteger(context.Server.Scripts.Exists(args[i]) ? 1 : 0);
        }
    }

    private static void Flush(CommandContext context, RespArgs args)
    {
        if (args.Count > 3 || (args.Count == 3 && !AsciiCase.EqualsIgnoreCase(args[2], "ASYNC"u8) && !AsciiCase.EqualsIgnoreCase(args[2], "SYNC"u8)))
        {
            context.WriteError("ERR SCRIPT FLUSH only support SYNC|ASYNC option"u8);
            return;
        }

        WhenNoScriptRuns(context, () =>
        {
            context.Server.Scripts.Flush();
            context.WriteOk();
        });
    }

    private static void Kill(CommandContext context, RespArgs args) => KillRunning(context, function: false);

    /// <summary>
    /// SCRIPT KILL (<paramref name="function"/> false) and FUNCTION KILL: stops the running script or function, each
    /// only its own kind, as Redis's scriptKill.
    /// </summary>
    internal static void KillRunning(CommandContext context, bool function)
    {
        ScriptEngine? scripts = context.Server.ScriptsIfCreated;
        ScriptEngine? functions = context.Server.FunctionsIfCreated?.EngineIfCreated;
        ScriptEngine? own = function ? functions : scripts;
        if ((function ? scripts : functions)?.Running is not null)
        {
            context.WriteError(Busy(functionRuns: !function));
            return;
        }

        if (own?.Kill() is string error)
        {
            context.WriteError(error);
            return;
        }

        if (own is null)
        {
            context.WriteError("NOTBUSY No scripts in execution right now."u8);
            return;
        }

        context.WriteOk();
    }

    /// <summary>Redis's BUSY reply to a command for the one kind while the other runs: its shared.slowevalerr and slowscripterr.</summary>
    internal static string Busy(bool functionRuns) =>
        $"BUSY Redis is busy running a script. You can only call {(functionRuns ? "FUNCTION" : "SCRIPT")} KILL or SHUTDOWN NOSAVE.";

    private static void Help(CommandContext context, RespArgs args) => Server.HelpReply.Write(context, "SCRIPT", s_help);
}
