using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Durable.Testing;

/// <summary>
/// durable-server as a separate OS process on a free loopback port, for crash and shutdown tests:
/// <see cref="KillAsync"/> sends SIGKILL, <see cref="StopAsync"/> sends SIGTERM and waits for a graceful exit.
/// The server's console output is kept for assertions and failure messages.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts durable-server with <paramref name="arguments"/> plus --port and --bind; waits until it has loaded its data.</summary>
    public static Task<ServerProcess> StartAsync(string directory, params string[] arguments) =>
        StartWithEnvironmentAsync(directory, new Dictionary<string, string>(), arguments);

    /// <summary>Like <see cref="StartAsync"/>, with <paramref name="environment"/> variables set for the server process.</summary>
    public static async Task<ServerProcess> StartWithEnvironmentAsync(string directory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        for (int attempt = 1; ; attempt++)
        {
            int port = FreePort();
            ServerProcess server = Launch([.. arguments, "--dir", directory, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1"], port, environment);
            if (await server.WaitForPingAsync())
            {
                return server;
            }

            // Another process took the port between FreePort and the bind: try another one.
            await server.DisposeAsync();
            if (attempt == 3)
            {
                throw new InvalidOperationException($"durable-server found its port taken {attempt} times:\n{server.Output}");
            }
        }
    }

    /// <summary>Starts durable-server with exactly <paramref name="arguments"/> and does not wait (for startup-failure tests).</summary>
    public static ServerProcess Launch(string[] arguments, int port = 0, IReadOnlyDictionary<string, string>? environment = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "durable-server.dll");
        ProcessStartInfo start = new("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new ServerProcess(Process.Start(start) ?? throw new InvalidOperationException("cannot start durable-server"), port);
    }

    public RespTestClient Connect() => RespTestClient.Connect(Port, Describe);

    /// <summary>Whether the process still runs (or its exit code), and the last 8,000 characters of its output.</summary>
    public string Describe()
    {
        string output = Output;
        string state = _process.HasExited ? $"durable-server exited with {_process.ExitCode}" : "durable-server is running";
        return $"{state}; its output:\n{(output.Length > 8000 ? output[^8000..] : output)}";
    }

    /// <summary>SIGKILL: the process dies at once, with no chance to flush or checkpoint.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, then waits for the process to exit on its own.</summary>
    public async Task StopAsync()
    {
        using Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async Task<int> WaitForExitAsync()
    {
        using CancellationTokenSource timeout = new(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>
    /// Waits until this process answers DBSIZE on its port (PING answers while the data set is loading; DBSIZE only once
    /// it is loaded). False when the port turned out to be another process's: it answered in our place (a test that later
    /// stops it would close our connections), or this one exited because the address was in use.
    /// </summary>
    private async Task<bool> WaitForPingAsync()
    {
        Stopwatch watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                if (!Output.Contains("in use", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"durable-server exited with {_process.ExitCode}:\n{Output}");
                }

                return false;
            }

            try
            {
                using RespTestClient client = Connect();
                if (client.Call("DBSIZE").StartsWith(':'))
                {
                    return IsProcessOnPort(client, _process.Id);
                }

                await Task.Delay(50);
            }
            catch (Exception exception) when (exception is SocketException or IOException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"durable-server did not finish loading within 60 s:\n{Output}");
    }

    /// <summary>Whether the server behind <paramref name="client"/> is process <paramref name="processId"/> (INFO server's process_id).</summary>
    public static bool IsProcessOnPort(RespTestClient client, int processId) =>
        client.InfoNumber("server", "process_id") == processId;

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>A loopback port free at the moment of the call (another process may take it before it is bound).</summary>
    internal static int FreePort()
    {
        using Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
