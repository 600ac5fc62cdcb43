using System.Globalization;
using System.Text;
using CsCheck;

namespace Durable.Server.Tests;

/// <summary>Random sequences of bitmap commands on three keys give byte-identical replies on Durable and redis-server.</summary>
public sealed class StringBitPropertyTests(ReferenceServers servers)
{
    // Keys are placeholders ("@a") replaced by a fresh prefix for each sample, so every sequence starts empty.
    private static readonly Gen<string> s_key = Gen.OneOfConst("@a", "@b", "@c");
    private static readonly Gen<string> s_index = Gen.Int[-60, 60].Select(Text);
    private static readonly Gen<string> s_unit = Gen.OneOfConst("BIT", "BYTE", "bit");
    private static readonly Gen<string> s_offset = Gen.Int[0, 70].Select(Text);
    private static readonly Gen<string> s_fieldType = Gen.Bool.SelectMany(signed => signed
        ? Gen.Int[1, 64].Select(bits => "i" + Text(bits))
        : Gen.Int[1, 63].Select(bits => "u" + Text(bits)));
    private static readonly Gen<string> s_fieldOffset = Gen.OneOf(s_offset, Gen.Int[0, 9].Select(n => "#" + Text(n)));
    private static readonly Gen<string> s_number = Gen.OneOf(
        Gen.Long.Select(n => n.ToString(CultureInfo.InvariantCulture)),
        Gen.Int[-300, 300].Select(Text),
        Gen.OneOfConst("9223372036854775807", "-9223372036854775808", "127", "-128", "255", "256", "65535", "-32768"));

    private static readonly Gen<string[]> s_fieldGet = Gen.Select(s_fieldType, s_fieldOffset, (type, offset) => new[] { "GET", type, offset });
    private static readonly Gen<string[]> s_fieldOperation = Gen.OneOf(
        s_fieldGet,
        Gen.Select(s_fieldType, s_fieldOffset, s_number, (type, offset, value) => new[] { "SET", type, offset, value }),
        Gen.Select(s_fieldType, s_fieldOffset, s_number, (type, offset, value) => new[] { "INCRBY", type, offset, value }),
        Gen.OneOfConst("WRAP", "SAT", "FAIL").Select(mode => new[] { "OVERFLOW", mode }));

    private static readonly Gen<string[]> s_command = Gen.Frequency(
        (4, Gen.Select(s_key, s_offset, Gen.Int[0, 1], (key, offset, bit) => new[] { "SETBIT", key, offset, Text(bit) })),
        (2, Gen.Select(s_key, s_offset, (key, offset) => new[] { "GETBIT", key, offset })),
        (2, Gen.Select(s_key, Gen.Byte.Array[0, 6], (key, value) => new[] { "SET", key, Encoding.Latin1.GetString(value) })),
        (3, Gen.Select(s_key, Gen.Int[0, 2], s_index, s_index, s_unit, (key, form, start, end, unit) => form switch
        {
            0 => new[] { "BITCOUNT", key },
            1 => ["BITCOUNT", key, start, end],
            _ => ["BITCOUNT", key, start, end, unit],
        })),
        (3, Gen.Select(s_key, Gen.Int[0, 1], Gen.Int[0, 3], s_index, s_index, s_unit, (key, bit, form, start, end, unit) => form switch
        {
            0 => new[] { "BITPOS", key, Text(bit) },
            1 => ["BITPOS", key, Text(bit), start],
            2 => ["BITPOS", key, Text(bit), start, end],
            _ => ["BITPOS", key, Text(bit), start, end, unit],
        })),
        (2, Gen.Select(Gen.OneOfConst("AND", "OR", "XOR", "NOT"), s_key, s_key.Array[1, 3], (op, destination, sources) =>
            op == "NOT" ? new[] { "BITOP", op, destination, sources[0] } : ["BITOP", op, destination, .. sources])),
        (3, Gen.Select(s_key, s_fieldOperation.Array[1, 4], (key, operations) => new[] { "BITFIELD", key }.Concat(operations.SelectMany(o => o)).ToArray())),
        (1, Gen.Select(s_key, s_fieldGet.Array[0, 3], (key, operations) => new[] { "BITFIELD_RO", key }.Concat(operations.SelectMany(o => o)).ToArray())),
        (1, s_key.Select(key => new[] { "GET", key })));

    [Fact]
    public void RandomBitCommands_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        s_command.Array[1, 25].Sample(
            commands =>
            {
                string prefix = servers.NewPrefix();
                foreach (string[] command in commands)
                {
                    both.Same([.. command.Select(a => a.Length == 2 && a[0] == '@' ? prefix + a[1] : a)]);
                }
            },
            iter: 1000,
            threads: 1,
            print: commands => string.Join(" | ", commands.Select(c => string.Join(' ', c))));
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
