using System.Buffers;
using System.Buffers.Binary;

namespace Durable.Commands.HyperLogLogs;

/// <summary>
/// A HyperLogLog in Redis 7.0's string format, bit for bit, so that GET, SET and DUMP-free copies between Durable and
/// Redis carry the same sketch: a 16-byte header ("HYLL", the encoding, three unused bytes, the cached cardinality as
/// a little-endian 64-bit integer whose top bit marks it stale) followed by 16384 registers of 6 bits, either dense
/// (12,288 bytes, register i at bit 6i counting from each byte's low bit) or sparse (run-length opcodes: ZERO
/// 00xxxxxx = 1-64 zero registers, XZERO 01xxxxxx yyyyyyyy = 1-16384, VAL 1vvvvvxx = 1-4 registers of value 1-32).
/// Elements hash with MurmurHash64A (seed 0xadc83b19); the count is Ertl's improved estimator. Every operation keeps
/// Redis's order of edits, so that the sparse opcodes, and the moment of the switch to dense, come out the same.
/// The value lives in a pooled buffer with room to grow (a dense one may be edited where it was read); dispose it when done.
/// </summary>
internal sealed class HyperLogLog : IDisposable
{
    public const int HeaderSize = 16;
    public const int RegisterCount = 1 << Precision;
    public const int DenseSize = HeaderSize + (RegisterCount * RegisterBits / 8);
    public const byte Dense = 0;
    public const byte Sparse = 1;

    private const int Precision = 14;
    private const int HashBitsLeft = 64 - Precision;
    private const int RegisterBits = 6;
    private const int RegisterMax = (1 << RegisterBits) - 1;
    private const int SparseValueMax = 32;
    private const int SparseValueMaxRun = 4;
    private const int SparseZeroMaxRun = 64;
    private const int SparseXZeroMaxRun = 16384;
    private const ulong HashSeed = 0xadc83b19UL;
    private const double AlphaInfinity = 0.721347520444481703680; // 0.5 / ln(2)

    // Room past the value: a sparse edit grows it by 3 bytes at most (XZERO split into XZERO VAL XZERO), and the
    // bytes past the end stay zero, as the byte past an sds string is.
    private const int Slack = 4;

    private byte[] _buffer;
    private int _length;
    private bool _pooled;

    private HyperLogLog(byte[] buffer, int length, bool pooled)
    {
        _buffer = buffer;
        _length = length;
        _pooled = pooled;
    }

    /// <summary>The value as stored.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, _length);

    public bool IsSparse => _buffer[4] == Sparse;

    /// <summary>Redis createHLLObject: sparse, every register 0 (one XZERO opcode), the cached cardinality 0.</summary>
    public static HyperLogLog CreateEmpty()
    {
        HyperLogLog hll = Rent(HeaderSize + 2);
        Span<byte> value = hll._buffer.AsSpan(0, HeaderSize + 2);
        "HYLL"u8.CopyTo(value);
        value[4] = Sparse;
        SetXZero(value[HeaderSize..], RegisterCount);
        return hll;
    }

    /// <summary>A copy of <paramref name="value"/> to edit; it must have passed <see cref="IsValid"/>.</summary>
    public static HyperLogLog Load(ReadOnlySpan<byte> value)
    {
        HyperLogLog hll = Rent(value.Length);
        value.CopyTo(hll._buffer);
        return hll;
    }

    /// <summary>
    /// The value in <paramref name="buffer"/> edited where it is, without a copy, when it is dense (a dense value never
    /// changes length); else a copy, as <see cref="Load"/>. It must have passed <see cref="IsValid"/>; the buffer must
    /// stay untouched by anyone else until this is disposed.
    /// </summary>
    public static HyperLogLog LoadInPlace(byte[] buffer, int length) =>
        buffer[4] == Dense ? new HyperLogLog(buffer, length, pooled: false) : Load(buffer.AsSpan(0, length));

    /// <summary>
    /// Redis isHLLObjectOrReply: at least a header, the magic, a known encoding, and a dense value of exactly the dense
    /// size. The registers of a sparse value are checked only when read.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> value) =>
        value.Length >= HeaderSize && value.StartsWith("HYLL"u8) && value[4] <= Sparse
        && (value[4] != Dense || value.Length == DenseSize);

    /// <summary>The cached cardinality, if no register changed since it was computed.</summary>
    public bool TryGetCachedCardinality(out ulong cardinality)
    {
        cardinality = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(8, 8));
        return (_buffer[15] & 0x80) == 0;
    }

    public void SetCachedCardinality(ulong cardinality) => BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(8, 8), cardinality);

    public void InvalidateCachedCardinality() => _buffer[15] |= 0x80;

    /// <summary>
    /// Redis hllAdd: raises the element's register to its hash's run of zeros if that is longer. 1 when a register
    /// changed, 0 when not, -1 when the sparse registers are corrupt.
    /// </summary>
    public int Add(ReadOnlySpan<byte> element, long sparseMaxBytes)
    {
        int count = PatternLength(element, out int index);
        return IsSparse ? SetSparse(index, count, sparseMaxBytes) : SetDense(_buffer.AsSpan(HeaderSize), index, count);
    }

    /// <summary>Raises register <paramref name="index"/> to <paramref name="count"/> (Redis hllDenseSet/hllSparseSet).</summary>
    public int Set(int index, int count, long sparseMaxBytes) =>
        IsSparse ? SetSparse(index, count, sparseMaxBytes) : SetDense(_buffer.AsSpan(HeaderSize), index, count);

    /// <summary>Redis hllSparseToDense; false (and unchanged) when the sparse registers are corrupt.</summary>
    public bool ToDense()
    {
        if (!IsSparse)
        {
            return true;
        }

        byte[] dense = ArrayPool<byte>.Shared.Rent(DenseSize + Slack);
        Array.Clear(dense, 0, DenseSize + Slack);
        _buffer.AsSpan(0, HeaderSize).CopyTo(dense);
        dense[4] = Dense;
        Span<byte> registers = dense.AsSpan(HeaderSize);
        var runs = new SparseRuns(Bytes[HeaderSize..]);
        while (runs.MoveNext())
        {
            for (int i = runs.Value == 0 ? runs.Run : 0; i < runs.Run; i++)
            {
                WriteRegister(registers, runs.First + i, runs.Value);
            }
        }

        if (!runs.Complete)
        {
            ArrayPool<byte>.Shared.Return(dense);
            return false;
        }

        Release();
        _buffer = dense;
        _length = DenseSize;
        _pooled = true;
        return true;
    }

    /// <summary>
    /// Redis hllMerge: raises each of <paramref name="max"/>'s 16384 registers (a byte each) to <paramref name="value"/>'s.
    /// False when a sparse value's registers are corrupt. <paramref name="value"/> must have passed <see cref="IsValid"/>.
    /// </summary>
    public static bool TryMerge(ReadOnlySpan<byte> value, Span<byte> max)
    {
        if (value[4] == Dense)
        {
            ReadOnlySpan<byte> registers = value[HeaderSize..];
            for (int i = 0; i < RegisterCount; i++)
            {
                max[i] = Math.Max(max[i], (byte)ReadRegister(registers, i));
            }

            return true;
        }

        var runs = new SparseRuns(value[HeaderSize..]);
        while (runs.MoveNext())
        {
            for (int i = runs.Value == 0 ? runs.Run : 0; i < runs.Run; i++)
            {
                max[runs.First + i] = Math.Max(max[runs.First + i], (byte)runs.Value);
            }
        }

        return runs.Complete;
    }

    /// <summary>Redis hllCount over this value's registers; false when its sparse registers are corrupt.</summary>
    public bool TryCount(out ulong cardinality)
    {
        Span<int> histogram = stackalloc int[64];
        histogram.Clear();
        ReadOnlySpan<byte> registers = Bytes[HeaderSize..];
        if (!IsSparse)
        {
            for (int i = 0; i < RegisterCount; i++)
            {
                histogram[ReadRegister(registers, i)]++;
            }
        }
        else
        {
            var runs = new SparseRuns(registers);
            while (runs.MoveNext())
            {
                histogram[runs.Value] += runs.Run;
            }

            if (!runs.Complete)
            {
                cardinality = 0;
                return false;
            }
        }

        cardinality = Estimate(histogram);
        return true;
    }

    /// <summary>Redis hllCount of registers a byte each (PFCOUNT of several keys merges into those).</summary>
    public static ulong Count(ReadOnlySpan<byte> registers)
    {
        Span<int> histogram = stackalloc int[256];
        histogram.Clear();
        foreach (byte register in registers)
        {
            histogram[register]++;
        }

        return Estimate(histogram);
    }

    /// <summary>Redis PFDEBUG DECODE: the sparse opcodes as "z:N", "Z:N" and "v:value,run", space-separated.</summary>
    public string DescribeSparse()
    {
        var text = new System.Text.StringBuilder();
        var runs = new SparseRuns(Bytes[HeaderSize..], stopPastTheEnd: false);
        while (runs.MoveNext())
        {
            text.Append(text.Length > 0 ? " " : "");
            if (runs.Value == 0)
            {
                text.Append(runs.OpcodeLength == 1 ? "z:" : "Z:").Append(runs.Run);
            }
            else
            {
                text.Append("v:").Append(runs.Value).Append(',').Append(runs.Run);
            }
        }

        return text.ToString();
    }

    /// <summary>Register <paramref name="index"/> of a dense value.</summary>
    public int DenseRegister(int index) => ReadRegister(_buffer.AsSpan(HeaderSize), index);

    public void Dispose()
    {
        Release();
        _buffer = [];
        _length = 0;
    }

    /// <summary>
    /// Redis MurmurHash64A (the little-endian reading of every 8 bytes, as on the machines Redis runs on), the version
    /// Redis hashes HyperLogLog elements with.
    /// </summary>
    public static ulong MurmurHash64A(ReadOnlySpan<byte> data, ulong seed)
    {
        const ulong Multiplier = 0xc6a4a7935bd1e995UL;
        const int Shift = 47;
        ulong h = seed ^ unchecked((ulong)data.Length * Multiplier);
        int blocks = data.Length & ~7;
        for (int i = 0; i < blocks; i += 8)
        {
            ulong k = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8));
            k = unchecked(k * Multiplier);
            k ^= k >> Shift;
            k = unchecked(k * Multiplier);
            h ^= k;
            h = unchecked(h * Multiplier);
        }

        int rest = data.Length & 7;
        if (rest > 0)
        {
            for (int i = rest - 1; i >= 0; i--)
            {
                h ^= (ulong)data[blocks + i] << (8 * i);
            }

            h = unchecked(h * Multiplier);
        }

        h ^= h >> Shift;
        h = unchecked(h * Multiplier);
        h ^= h >> Shift;
        return h;
    }

    /// <summary>
    /// Redis hllPatLen: the register an element falls in (the hash's low 14 bits) and the length of the run of zeros
    /// in the other 50, counting the one that ends it (1 to 51).
    /// </summary>
    public static int PatternLength(ReadOnlySpan<byte> element, out int index)
    {
        ulong hash = MurmurHash64A(element, HashSeed);
        index = (int)(hash & (RegisterCount - 1));
        hash >>= Precision;
        hash |= 1UL << HashBitsLeft;
        return System.Numerics.BitOperations.TrailingZeroCount(hash) + 1;
    }

    /// <summary>Redis hllDenseSet over the registers of a dense value.</summary>
    public static int SetDense(Span<byte> registers, int index, int count)
    {
        if (count <= ReadRegister(registers, index))
        {
            return 0;
        }

        WriteRegister(registers, index, count);
        return 1;
    }

    public static int ReadRegister(ReadOnlySpan<byte> registers, int index)
    {
        int bit = index * RegisterBits;
        int at = bit >> 3;
        int shift = bit & 7;
        int value = registers[at] >> shift;
        if (shift > 8 - RegisterBits)
        {
            value |= registers[at + 1] << (8 - shift);
        }

        return value & RegisterMax;
    }

    public static void WriteRegister(Span<byte> registers, int index, int value)
    {
        int bit = index * RegisterBits;
        int at = bit >> 3;
        int shift = bit & 7;
        registers[at] = (byte)((registers[at] & ~(RegisterMax << shift)) | (value << shift));
        if (shift > 8 - RegisterBits)
        {
            registers[at + 1] = (byte)((registers[at + 1] & ~(RegisterMax >> (8 - shift))) | (value >> (8 - shift)));
        }
    }

    // Redis hllSparseSet: find the opcode covering the register, replace it by up to three (ZERO/XZERO/VAL runs before,
    // the register's VAL, runs after), merge equal VALs next to it, or turn dense when a value over 32 or the length
    // limit asks for it.
    private int SetSparse(int index, int count, long sparseMaxBytes)
    {
        if (count > SparseValueMax)
        {
            return Promote(index, count);
        }

        EnsureCapacity(_length + 3);
        byte[] buffer = _buffer;
        int p = HeaderSize;
        int end = _length;
        long first = 0;
        long span = 0;
        int previous = -1;
        while (p < end)
        {
            byte op = buffer[p];
            int opLength = 1;
            if (IsZero(op))
            {
                span = (op & 0x3f) + 1;
            }
            else if (IsValue(op))
            {
                span = ValueRun(op);
            }
            else
            {
                span = XZeroLength(buffer, p);
                opLength = 2;
            }

            if (index <= first + span - 1)
            {
                break;
            }

            previous = p;
            p += opLength;
            first += span;
        }

        if (span == 0 || p >= end)
        {
            return -1;
        }

        byte current = buffer[p];
        int next = IsXZero(current) ? p + 2 : p + 1;
        if (next >= end)
        {
            next = -1;
        }

        long run = IsZero(current) ? (current & 0x3f) + 1 : IsXZero(current) ? XZeroLength(buffer, p) : ValueRun(current);
        if (IsValue(current))
        {
            if (ValueOf(current) >= count)
            {
                return 0;
            }

            if (run == 1)
            {
                buffer[p] = ValueOpcode(count, 1);
                return Updated(previous);
            }
        }

        if (IsZero(current) && run == 1)
        {
            buffer[p] = ValueOpcode(count, 1);
            return Updated(previous);
        }

        Span<byte> sequence = stackalloc byte[5];
        int n = 0;
        long last = first + span - 1;
        if (!IsValue(current))
        {
            if (index != first)
            {
                n += WriteZeros(sequence[n..], (int)(index - first));
            }

            sequence[n++] = ValueOpcode(count, 1);
            if (index != last)
            {
                n += WriteZeros(sequence[n..], (int)(last - index));
            }
        }
        else
        {
            int value = ValueOf(current);
            if (index != first)
            {
                sequence[n++] = ValueOpcode(value, (int)(index - first));
            }

            sequence[n++] = ValueOpcode(count, 1);
            if (index != last)
            {
                sequence[n++] = ValueOpcode(value, (int)(last - index));
            }
        }

        int delta = n - (IsXZero(current) ? 2 : 1);
        if (delta > 0 && _length + delta > sparseMaxBytes)
        {
            return Promote(index, count);
        }

        if (delta != 0 && next >= 0)
        {
            Buffer.BlockCopy(buffer, next, buffer, next + delta, end - next);
        }

        _length += delta;
        if (delta < 0)
        {
            buffer.AsSpan(_length, -delta).Clear();
        }

        sequence[..n].CopyTo(buffer.AsSpan(p));
        return Updated(previous);
    }

    // Redis hllSparseSet's "updated" step: from the opcode before the edit, up to five opcodes on, merge two adjacent
    // VALs of one value whose runs fit one opcode; then mark the cached cardinality stale.
    private int Updated(int previous)
    {
        byte[] buffer = _buffer;
        int p = previous >= 0 ? previous : HeaderSize;
        int end = _length;
        int scans = 5;
        while (p < end && scans-- > 0)
        {
            byte op = buffer[p];
            if (IsXZero(op))
            {
                p += 2;
                continue;
            }

            if (IsZero(op))
            {
                p++;
                continue;
            }

            if (p + 1 < end && IsValue(buffer[p + 1]) && ValueOf(op) == ValueOf(buffer[p + 1]))
            {
                int run = ValueRun(op) + ValueRun(buffer[p + 1]);
                if (run <= SparseValueMaxRun)
                {
                    buffer[p + 1] = ValueOpcode(ValueOf(op), run);
                    Buffer.BlockCopy(buffer, p + 1, buffer, p, end - p);
                    _length--;
                    end--;
                    continue;
                }
            }

            p++;
        }

        InvalidateCachedCardinality();
        return 1;
    }

    private int Promote(int index, int count)
    {
        if (!ToDense())
        {
            return -1;
        }

        // A register that needs the switch is one that changes.
        SetDense(_buffer.AsSpan(HeaderSize), index, count);
        return 1;
    }

    private void EnsureCapacity(int length)
    {
        if (length + Slack <= _buffer.Length)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(length + Slack);
        _buffer.AsSpan(0, _length).CopyTo(larger);
        larger.AsSpan(_length).Clear();
        Release();
        _buffer = larger;
        _pooled = true;
    }

    private void Release()
    {
        if (_pooled)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _pooled = false;
        }
    }

    private static HyperLogLog Rent(int length)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length + Slack);
        Array.Clear(buffer);
        return new HyperLogLog(buffer, length, pooled: true);
    }

    // Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (arXiv:1702.01284), as Redis computes it:
    // the same operations in the same order, so the same doubles and the same rounded result.
    private static ulong Estimate(ReadOnlySpan<int> histogram)
    {
        const double Registers = RegisterCount;
        double z = Registers * Tau((Registers - histogram[HashBitsLeft + 1]) / Registers);
        for (int j = HashBitsLeft; j >= 1; j--)
        {
            z += histogram[j];
            z *= 0.5;
        }

        z += Registers * Sigma(histogram[0] / Registers);
        return (ulong)(long)Math.Round(AlphaInfinity * Registers * Registers / z, MidpointRounding.AwayFromZero);
    }

    private static double Sigma(double x)
    {
        if (x == 1.0)
        {
            return double.PositiveInfinity;
        }

        double y = 1;
        double z = x;
        double previous;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (previous != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0.0 || x == 1.0)
        {
            return 0.0;
        }

        double y = 1.0;
        double z = 1 - x;
        double previous;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (previous != z);
        return z / 3;
    }

    private static int WriteZeros(Span<byte> target, int run)
    {
        if (run > SparseZeroMaxRun)
        {
            SetXZero(target, run);
            return 2;
        }

        target[0] = (byte)(run - 1);
        return 1;
    }

    private static void SetXZero(Span<byte> target, int run)
    {
        target[0] = (byte)(((run - 1) >> 8) | 0x40);
        target[1] = (byte)((run - 1) & 0xff);
    }

    private static bool IsZero(byte op) => (op & 0xc0) == 0;

    private static bool IsXZero(byte op) => (op & 0xc0) == 0x40;

    private static bool IsValue(byte op) => (op & 0x80) != 0;

    private static int ValueOf(byte op) => ((op >> 2) & 0x1f) + 1;

    private static int ValueRun(byte op) => (op & 0x3) + 1;

    private static byte ValueOpcode(int value, int run) => (byte)(((value - 1) << 2) | (run - 1) | 0x80);

    // An XZERO opcode as the last byte reads its second byte as 0, as Redis reads the byte past an sds string.
    private static int XZeroLength(ReadOnlySpan<byte> opcodes, int p) =>
        (((opcodes[p] & 0x3f) << 8) | (p + 1 < opcodes.Length ? opcodes[p + 1] : 0)) + 1;

    /// <summary>
    /// Reads sparse opcodes as runs: <see cref="Value"/> (0 for ZERO and XZERO) repeated <see cref="Run"/> times from
    /// register <see cref="First"/>. By default it stops at a run past the last register, and <see cref="Complete"/>
    /// says whether the runs covered exactly the 16384 registers (what Redis checks before trusting sparse registers).
    /// </summary>
    private ref struct SparseRuns(ReadOnlySpan<byte> opcodes, bool stopPastTheEnd = true)
    {
        private readonly ReadOnlySpan<byte> _opcodes = opcodes;
        private int _position;
        private bool _overflowed;

        public int First { get; private set; }

        public int Value { get; private set; }

        public int Run { get; private set; }

        public int OpcodeLength { get; private set; }

        public readonly bool Complete => !_overflowed && First + Run == RegisterCount && _position >= _opcodes.Length;

        public bool MoveNext()
        {
            First += Run;
            Run = 0;
            if (_position >= _opcodes.Length || _overflowed)
            {
                return false;
            }

            byte op = _opcodes[_position];
            (Value, Run, OpcodeLength) = IsZero(op) ? (0, (op & 0x3f) + 1, 1)
                : IsXZero(op) ? (0, XZeroLength(_opcodes, _position), 2)
                : (ValueOf(op), ValueRun(op), 1);
            _position += OpcodeLength;
            if (stopPastTheEnd && First + Run > RegisterCount)
            {
                _overflowed = true;
                return false;
            }

            return true;
        }
    }
}
