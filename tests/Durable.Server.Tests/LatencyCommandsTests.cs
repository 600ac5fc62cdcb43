using System.Text.RegularExpressions;
using Durable.Testing;

namespace Durable.Server.Tests;

/// <summary>LATENCY and INFO latencystats: the latency monitor's replies with it off, byte for byte; the histograms' shape.</summary>
public sealed partial class LatencyCommandsTests(ReferenceServers servers)
{
    [Fact]
    public void MonitorOff_RepliesAndErrors_MatchRedis()
    {
        using ReplyComparison both = servers.Compare();
        string[][] commands =
        [
            ["LATENCY", "HELP"], ["LATENCY", "LATEST"], ["LATENCY", "HISTORY", "command"], ["LATENCY", "RESET"], ["LATENCY", "RESET", "a", "b"],
            ["LATENCY", "DOCTOR"], ["LATENCY", "GRAPH", "command"], ["LATENCY"], ["LATENCY", "NOSUCH"], ["LATENCY", "LATEST", "x"],
            ["LATENCY", "HISTORY"], ["LATENCY", "HISTOGRAM", "nosuch", "no|such"],
            ["CONFIG", "GET", "latency-tracking"], ["CONFIG", "GET", "latency-tracking-info-percentiles"], ["CONFIG", "GET", "latency-monitor-threshold"],
            ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 abc"], ["CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"],
            ["CONFIG", "SET", "latency-tracking", "maybe"], ["CONFIG", "SET", "latency-monitor-threshold", "x"], ["CONFIG", "SET", "latency-monitor-threshold", "0"],
        ];
        foreach (string[] command in commands)
        {
            both.Same(command);
        }
    }

    [Fact]
    public async Task Histograms_CountEveryCall_AndFollowTheSettings()
    {
        // A server of its own: the settings and CONFIG RESETSTAT are server-wide.
        await using TestServer server = await TestServer.StartAsync();
        using RespTestClient client = server.Connect();
        for (int i = 0; i < 200; i++)
        {
            client.Call("SET", "k", "v");
        }

        string histogram = client.Call("LATENCY", "HISTOGRAM", "set", "config");
        Match match = HistogramOfOne().Match(histogram);
        Assert.True(match.Success, histogram);
        long[] numbers = [.. match.Groups["pairs"].Value.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(line => long.Parse(line[1..], System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(200, numbers[^1]);
        for (int i = 2; i < numbers.Length; i += 2)
        {
            Assert.True(numbers[i] > numbers[i - 2] && numbers[i + 1] > numbers[i - 1], histogram);
        }

        Assert.Matches(@"latency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n", client.Call("INFO", "latencystats"));
        Assert.DoesNotContain("latencystats", client.Call("INFO"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 99.990"));
        Assert.Equal("*2\r\n$33\r\nlatency-tracking-info-percentiles\r\n$7\r\n0 99.99\r\n", client.Call("CONFIG", "GET", "latency-tracking-info-percentiles"));
        Assert.Matches(@"latency_percentiles_usec_set:p0=\d+\.\d{3},p99\.99=\d+\.\d{3}\r\n", client.Call("INFO", "everything"));

        // Off: calls still count in commandstats, not in the histogram.
        Assert.Equal("+OK\r\n", client.Call("CONFIG", "SET", "latency-tracking", "no"));
        client.Call("SET", "k", "v");
        Assert.Contains("$5\r\ncalls\r\n:200\r\n", client.Call("LATENCY", "HISTOGRAM", "set"), StringComparison.Ordinal);
        Assert.Equal("+OK\r\n", client.Call("CONFIG", "RESETSTAT"));
        Assert.Equal("*0\r\n", client.Call("LATENCY", "HISTOGRAM", "set"));
    }

    // LATENCY HISTOGRAM of one tracked command: its name, calls and the (microseconds, cumulative count) pairs.
    [GeneratedRegex(@"^\*2\r\n\$3\r\nset\r\n\*4\r\n\$5\r\ncalls\r\n:200\r\n\$14\r\nhistogram_usec\r\n\*\d+\r\n(?<pairs>(:\d+\r\n)+)$")]
    private static partial Regex HistogramOfOne();
}
