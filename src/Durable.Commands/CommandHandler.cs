using Durable.Protocol;

namespace Durable.Commands;

/// <summary>Runs one well-formed command (arity already checked) and writes its reply to <see cref="CommandContext.Reply"/>.</summary>
public delegate void CommandHandler(CommandContext context, RespArgs args);

/// <summary>Finds the key arguments of a command whose keys a (first, last, step) spec cannot describe.</summary>
public delegate void KeyFinder(RespArgs args, List<int> keyIndexes);
