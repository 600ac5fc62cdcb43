using System.Diagnostics;
using System.Text;

namespace Durable.Testing;

/// <summary>
/// What every thread of the test process was doing when a reply first failed to come within the client's timeout:
/// the managed stacks from dotnet-stack (installed by tools/install-test-deps.sh into .tools/), reduced to the threads
/// that run Durable's code or the socket engine, so that a stall of the in-process servers' socket threads (seen as
/// two 30 s timeouts in a row in sessions 35 and 36) shows in the failing test's message. Taken once per process.
/// </summary>
public static class StallReport
{
    private const int MostCharacters = 24_000;
    private static int s_taken;

    public static string TakeOnce()
    {
        if (Interlocked.Exchange(ref s_taken, 1) != 0)
        {
            return "(the stacks were reported with the first timeout of this process)";
        }

        string? tool = FindTool();
        if (tool is null)
        {
            return "(no stacks: dotnet-stack is not in .tools/; tools/install-test-deps.sh installs it)";
        }

        try
        {
            using Process process = Process.Start(new ProcessStartInfo(tool, $"report -p {Environment.ProcessId}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(60_000))
            {
                process.Kill();
                return "(dotnet-stack did not finish within 60 s)";
            }

            // The tool has exited: its output is complete, and the tasks are done.
#pragma warning disable VSTHRD002
            return "stacks of the threads running Durable's code or the socket engine (dotnet-stack):\n" + Relevant(output.Result + errors.Result);
#pragma warning restore VSTHRD002
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "(dotnet-stack failed: " + e.Message + ")";
        }
    }

    // Each thread's block ("Thread (0x...):" and its frames) ends with a blank line; keep those that show where a socket
    // thread or a command is.
    private static string Relevant(string report)
    {
        StringBuilder kept = new();
        foreach (string block in report.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (block.Contains("Durable.", StringComparison.Ordinal) || block.Contains("SocketAsyncEngine", StringComparison.Ordinal))
            {
                kept.Append(block.Trim()).Append("\n\n");
            }
        }

        string text = kept.Length > 0 ? kept.ToString() : report;
        return text.Length > MostCharacters ? text[..MostCharacters] + "\n(cut)" : text;
    }

    private static string? FindTool()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, ".tools", "dotnet-stack");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
