using System.Runtime.CompilerServices;

namespace Durable.Server.Tests;

/// <summary>
/// The in-process servers of these tests run commands on the runtime's socket threads, as durable-server does (its
/// Program sets the same variable): set when this assembly loads, before its first socket operation, which is when the
/// runtime reads it. Pinned by <see cref="SocketThreadTests.InProcessServer_RunsBatchesOnSocketThreads"/>.
/// </summary>
internal static class InlineSocketCompletions
{
    [ModuleInitializer]
    internal static void Enable() => Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}
