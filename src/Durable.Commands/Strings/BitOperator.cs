namespace Durable.Commands.Strings;

/// <summary>The operation of a BITOP command.</summary>
internal enum BitOperator
{
    And,
    Or,
    Xor,
    Not,
}
