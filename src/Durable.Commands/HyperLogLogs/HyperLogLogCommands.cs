using Durable.Commands.PubSub;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Durable.Protocol;
using Durable.Storage;

namespace Durable.Commands.HyperLogLogs;

/// <summary>
/// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST (Redis 7.0 semantics). A HyperLogLog is a string
/// in Redis's own format (<see cref="HyperLogLog"/>), so GET, SET, APPEND and the rest see the same bytes as in Redis.
/// Edits keep the key's TTL, as Redis edits the string in place.
/// </summary>
internal static class HyperLogLogCommands
{
    private const string NotAHyperLogLog = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    private const string Corrupt = "INVALIDOBJ Corrupted HLL object detected";

    public static void Register(CommandTable table)
    {
        table.Add("PFADD", -2, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, PfAdd, 1, 1, 1, ["write", "hyperloglog", "fast"]);
        table.Add(
            "PFCOUNT", -2, CommandFlags.ReadOnly | CommandFlags.MayReplicate | CommandFlags.WritesBack, PfCount, 1, -1, 1, ["read", "hyperloglog", "slow"]);
        table.Add("PFMERGE", -2, CommandFlags.Write | CommandFlags.DenyOom, PfMerge, 1, -1, 1, ["write", "hyperloglog", "slow"]);
        table.Add(
            "PFDEBUG", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Admin, PfDebug, 2, 2, 1,
            ["write", "hyperloglog", "admin", "slow", "dangerous"]);
        table.Add("PFSELFTEST", 1, CommandFlags.Admin, PfSelfTest, categories: ["hyperloglog", "admin", "slow", "dangerous"]);
    }

    // PFADD key [element ...]: 1 when a register changed or the key was created, else 0.
    private static void PfAdd(CommandContext context, RespArgs args)
    {
        if (!TryLoad(context, args[1], countStats: false, out HyperLogLog? hll, out long expiresAtMs))
        {
            return;
        }

        bool updated = hll is null;
        using HyperLogLog value = hll ?? HyperLogLog.CreateEmpty();
        long sparseMaxBytes = context.Server.Config.HllSparseMaxBytes;
        for (int i = 2; i < args.Count; i++)
        {
            int result = value.Add(args[i], sparseMaxBytes);
            if (result < 0)
            {
                // Redis edits the value in place and keeps what the elements before the corrupt spot changed.
                if (updated && value.Bytes.Length <= context.Store.MaxValueBytes - args[1].Length)
                {
                    context.Session.Write(context.Db, args[1], RecordType.String, value.Bytes, expiresAtMs);
                }

                context.WriteError(Corrupt);
                return;
            }

            updated |= result == 1;
        }

        if (updated)
        {
            value.InvalidateCachedCardinality();
            if (!TryStore(context, args[1], value, expiresAtMs))
            {
                return;
            }

            context.Notify(KeyspaceEventClass.String, "pfadd"u8, args[1]);
        }

        context.WriteInteger(updated ? 1 : 0);
    }

    // PFCOUNT key [key ...]: one key answers from the cached cardinality, or computes it and stores it in the value (as
    // Redis does, so the bytes stay Redis's); several keys answer for their union, changing nothing.
    private static void PfCount(CommandContext context, RespArgs args)
    {
        if (args.Count > 2)
        {
            byte[] max = ArrayPool<byte>.Shared.Rent(HyperLogLog.RegisterCount);
            try
            {
                Span<byte> registers = max.AsSpan(0, HyperLogLog.RegisterCount);
                registers.Clear();
                for (int i = 1; i < args.Count; i++)
                {
                    if (!TryMergeSource(context, args[i], registers, out _))
                    {
                        return;
                    }
                }

                context.WriteInteger((long)HyperLogLog.Count(registers));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(max);
            }

            return;
        }

        if (!TryLoad(context, args[1], countStats: true, out HyperLogLog? hll, out long expiresAtMs))
        {
            return;
        }

        if (hll is null)
        {
            context.WriteInteger(0);
            return;
        }

        using (hll)
        {
            if (!hll.TryGetCachedCardinality(out ulong cardinality))
            {
                if (!hll.TryCount(out cardinality))
                {
                    context.WriteError(Corrupt);
                    return;
                }

                // While writes are refused (MISCONF) the count is still answered; the cache just stays stale.
                hll.SetCachedCardinality(cardinality);
                if (context.Store.WriteFailure is null)
                {
                    context.Session.Write(context.Db, args[1], RecordType.String, hll.Bytes, expiresAtMs);
                }
            }

            context.WriteInteger((long)cardinality);
        }
    }

    // PFMERGE destkey [sourcekey ...]: the destination is one of the sources (Redis reads it first), turns dense if any
    // source is dense, and takes every register's maximum in register order.
    private static void PfMerge(CommandContext context, RespArgs args)
    {
        byte[] max = ArrayPool<byte>.Shared.Rent(HyperLogLog.RegisterCount);
        HyperLogLog? destination = null;
        try
        {
            Span<byte> registers = max.AsSpan(0, HyperLogLog.RegisterCount);
            registers.Clear();
            bool useDense = false;
            long expiresAtMs = 0;
            for (int i = 1; i < args.Count; i++)
            {
                if (!TryMergeSource(context, args[i], registers, out StoredRecord record))
                {
                    return;
                }

                ReadOnlySpan<byte> value = context.Scratch.WrittenSpan;
                if (record.Type == RecordType.String)
                {
                    useDense |= value[4] == HyperLogLog.Dense;
                    if (i == 1)
                    {
                        destination = HyperLogLog.Load(value);
                        expiresAtMs = record.ExpiresAtMs;
                    }
                }
            }

            destination ??= HyperLogLog.CreateEmpty();
            if (useDense && !destination.ToDense())
            {
                context.WriteError(Corrupt);
                return;
            }

            long sparseMaxBytes = context.Server.Config.HllSparseMaxBytes;
            for (int i = 0; i < HyperLogLog.RegisterCount; i++)
            {
                if (registers[i] != 0)
                {
                    destination.Set(i, registers[i], sparseMaxBytes);
                }
            }

            destination.InvalidateCachedCardinality();
            if (TryStore(context, args[1], destination, expiresAtMs))
            {
                context.Notify(KeyspaceEventClass.String, "pfadd"u8, args[1]);
                context.WriteOk();
            }
        }
        finally
        {
            destination?.Dispose();
            ArrayPool<byte>.Shared.Return(max);
        }
    }

    // PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. Redis looks the key up before it looks at the subcommand; GETREG and
    // TODENSE turn a sparse value dense for good.
    private static void PfDebug(CommandContext context, RespArgs args)
    {
        if (!TryLoad(context, args[2], countStats: false, out HyperLogLog? hll, out long expiresAtMs))
        {
            return;
        }

        if (hll is null)
        {
            context.WriteError("ERR The specified key does not exist");
            return;
        }

        using (hll)
        {
            ReadOnlySpan<byte> subcommand = args[1];
            if (AsciiCase.EqualsIgnoreCase(subcommand, "GETREG"u8))
            {
                if (hll.IsSparse && !TryMakeDense(context, args[2], hll, expiresAtMs))
                {
                    return;
                }

                context.WriteArrayHeader(HyperLogLog.RegisterCount);
                for (int i = 0; i < HyperLogLog.RegisterCount; i++)
                {
                    context.WriteInteger(hll.DenseRegister(i));
                }
            }
            else if (AsciiCase.EqualsIgnoreCase(subcommand, "DECODE"u8))
            {
                if (!hll.IsSparse)
                {
                    context.WriteError("ERR HLL encoding is not sparse");
                    return;
                }

                context.WriteBulk(hll.DescribeSparse());
            }
            else if (AsciiCase.EqualsIgnoreCase(subcommand, "ENCODING"u8))
            {
                context.WriteSimple(hll.IsSparse ? "sparse"u8 : "dense"u8);
            }
            else if (AsciiCase.EqualsIgnoreCase(subcommand, "TODENSE"u8))
            {
                bool convert = hll.IsSparse;
                if (convert && !TryMakeDense(context, args[2], hll, expiresAtMs))
                {
                    return;
                }

                context.WriteInteger(convert ? 1 : 0);
            }
            else
            {
                context.WriteErrorOneLine($"ERR Unknown PFDEBUG subcommand '{CommandDispatcher.Truncate(subcommand, subcommand.Length)}'");
            }
        }
    }

    // PFSELFTEST: Redis's self-test of the register layout and of the estimate, run on this implementation: random
    // registers read back as written, then ten million distinct elements into a dense and a sparse sketch, which must
    // agree and stay within six standard errors at every power of ten.
    private static void PfSelfTest(CommandContext context, RespArgs args)
    {
        const int Cycles = 1000;
        const int Elements = 10_000_000;
        Random random = Random.Shared;
        byte[] registers = new byte[HyperLogLog.DenseSize];
        Span<byte> dense = registers.AsSpan(HyperLogLog.HeaderSize);
        byte[] expected = new byte[HyperLogLog.RegisterCount];
        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            for (int i = 0; i < HyperLogLog.RegisterCount; i++)
            {
                expected[i] = (byte)random.Next(64);
                HyperLogLog.WriteRegister(dense, i, expected[i]);
            }

            for (int i = 0; i < HyperLogLog.RegisterCount; i++)
            {
                int value = HyperLogLog.ReadRegister(dense, i);
                if (value != expected[i])
                {
                    context.WriteError($"TESTFAILED Register {i} should be {expected[i]} but is {value}");
                    return;
                }
            }
        }

        using HyperLogLog denseSketch = HyperLogLog.CreateEmpty();
        denseSketch.ToDense();
        using HyperLogLog sketch = HyperLogLog.CreateEmpty();
        long sparseMaxBytes = context.Server.Config.HllSparseMaxBytes;
        double relativeError = 1.04 / Math.Sqrt(HyperLogLog.RegisterCount);
        long checkpoint = 1;
        ulong seed = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 32);
        Span<byte> element = stackalloc byte[8];
        for (long j = 1; j <= Elements; j++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(element, (ulong)j ^ seed);
            denseSketch.Add(element, sparseMaxBytes);
            sketch.Add(element, sparseMaxBytes);
            if (j != checkpoint)
            {
                continue;
            }

            if (j < sparseMaxBytes / 2 && !sketch.IsSparse)
            {
                context.WriteError("TESTFAILED sparse encoding not used");
                return;
            }

            denseSketch.TryCount(out ulong denseCount);
            sketch.TryCount(out ulong sparseCount);
            if (denseCount != sparseCount)
            {
                context.WriteError("TESTFAILED dense/sparse disagree");
                return;
            }

            long error = Math.Abs(checkpoint - (long)denseCount);
            long maxError = j == 10 ? 1 : (long)Math.Ceiling(relativeError * 6 * checkpoint);
            if (error > maxError)
            {
                context.WriteError($"TESTFAILED Too big error. card:{checkpoint} abserr:{error}");
                return;
            }

            checkpoint *= 10;
        }

        context.WriteOk();
    }

    // Reads a HyperLogLog to edit: null (and true) when the key is missing; false, with the error written, when it holds
    // another type or a string that is not a HyperLogLog.
    private static bool TryLoad(CommandContext context, ReadOnlySpan<byte> key, bool countStats, out HyperLogLog? hll, out long expiresAtMs)
    {
        hll = null;
        expiresAtMs = 0;
        context.Scratch.ResetWrittenCount();
        switch (TypedRecords.Read(context, key, RecordType.String, context.Scratch, countStats, out StoredRecord record))
        {
            case ReadResult.Missing:
                return true;
            case ReadResult.WrongType:
                context.WriteWrongType();
                return false;
        }

        if (!HyperLogLog.IsValid(context.Scratch.WrittenSpan))
        {
            context.WriteError(NotAHyperLogLog);
            return false;
        }

        // Scratch is not written again before the command is done with the value: a dense one is edited there.
        hll = MemoryMarshal.TryGetArray(context.Scratch.WrittenMemory, out ArraySegment<byte> read) && read.Offset == 0
            ? HyperLogLog.LoadInPlace(read.Array!, read.Count)
            : HyperLogLog.Load(context.Scratch.WrittenSpan);
        expiresAtMs = record.ExpiresAtMs;
        return true;
    }

    // Reads a source of PFCOUNT or PFMERGE (Redis lookupKeyRead) into Scratch and raises the registers to it; a missing key
    // counts as an empty HyperLogLog. False, with the error written, for another type, a non-HyperLogLog or a corrupt one.
    private static bool TryMergeSource(CommandContext context, ReadOnlySpan<byte> key, Span<byte> registers, out StoredRecord record)
    {
        context.Scratch.ResetWrittenCount();
        switch (TypedRecords.Read(context, key, RecordType.String, context.Scratch, countStats: true, out record))
        {
            case ReadResult.Missing:
                return true;
            case ReadResult.WrongType:
                context.WriteWrongType();
                return false;
        }

        ReadOnlySpan<byte> value = context.Scratch.WrittenSpan;
        if (!HyperLogLog.IsValid(value))
        {
            context.WriteError(NotAHyperLogLog);
            return false;
        }

        if (!HyperLogLog.TryMerge(value, registers))
        {
            context.WriteError(Corrupt);
            return false;
        }

        return true;
    }

    private static bool TryMakeDense(CommandContext context, ReadOnlySpan<byte> key, HyperLogLog hll, long expiresAtMs)
    {
        if (!hll.ToDense())
        {
            context.WriteError(Corrupt);
            return false;
        }

        return TryStore(context, key, hll, expiresAtMs);
    }

    private static bool TryStore(CommandContext context, ReadOnlySpan<byte> key, HyperLogLog hll, long expiresAtMs)
    {
        if (!TypedRecords.FitsRecord(context, key, hll.Bytes.Length))
        {
            return false;
        }

        context.Session.Write(context.Db, key, RecordType.String, hll.Bytes, expiresAtMs);
        return true;
    }
}
