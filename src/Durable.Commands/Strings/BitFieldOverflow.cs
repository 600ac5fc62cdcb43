namespace Durable.Commands.Strings;

/// <summary>BITFIELD's OVERFLOW modes for SET and INCRBY.</summary>
internal enum BitFieldOverflow
{
    /// <summary>Wrap around, modulo the field's range (the default).</summary>
    Wrap,

    /// <summary>Saturate at the field's minimum or maximum.</summary>
    Sat,

    /// <summary>Leave the field unchanged and reply null.</summary>
    Fail,
}
