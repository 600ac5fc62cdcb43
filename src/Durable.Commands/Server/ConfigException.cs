namespace Durable.Commands.Server;

/// <summary>A configuration error at startup; the message is meant for the operator.</summary>
public sealed class ConfigException(string message) : Exception(message);
