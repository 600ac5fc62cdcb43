using System.Diagnostics;
using System.Net.Sockets;

namespace Durable.Testing;

/// <summary>
/// A real redis-server (the reference implementation) on a free loopback port, for tests that send the same
/// commands to it and to Durable and compare reply bytes. Requires redis-server on PATH (tools/install-test-deps.sh).
/// </summary>
public sealed class RedisReference : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private RedisReference(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>Its working directory: SAVE writes dump.rdb there.</summary>
    public string Directory => _directory;

    /// <summary>
    /// Starts a redis-server; with <paramref name="rdbFile"/>, one that loads that file at its start; with
    /// <paramref name="arguments"/>, those options too (<c>--enable-debug-command yes</c>).
    /// </summary>
    public static async Task<RedisReference> StartAsync(string? rdbFile = null, params string[] arguments)
    {
        string directory = Path.Combine(Path.GetTempPath(), "durable-tests", "redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        if (rdbFile is not null)
        {
            File.Copy(rdbFile, Path.Combine(directory, "dump.rdb"));
        }

        for (int attempt = 0; ; attempt++)
        {
            int port = ServerProcess.FreePort();
            ProcessStartInfo start = new("redis-server")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "" }.Concat(arguments))
            {
                start.ArgumentList.Add(arg);
            }

            Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start redis-server");
            RedisReference reference = new(process, port, directory);
            if (await reference.WaitForPingAsync())
            {
                return reference;
            }

            await reference.DisposeAsync();
            if (attempt >= 3)
            {
                throw new InvalidOperationException("redis-server did not start; is it installed (tools/install-test-deps.sh)?");
            }
        }
    }

    private async Task<bool> WaitForPingAsync()
    {
        for (int i = 0; i < 100; i++)
        {
            if (_process.HasExited)
            {
                return false;
            }

            try
            {
                using RespTestClient client = RespTestClient.Connect(Port);
                if (client.Call("PING") == "+PONG\r\n")
                {
                    // Another process (a Durable server of another test) may hold the port: ours failed to bind it.
                    return ServerProcess.IsProcessOnPort(client, _process.Id);
                }
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    public RespTestClient Connect() => RespTestClient.Connect(Port);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
