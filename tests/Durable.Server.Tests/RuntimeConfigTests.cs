using System.Text.Json;

namespace Durable.Server.Tests;

/// <summary>The runtime settings durable-server ships with (its runtimeconfig.json, next to the server's assembly).</summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void GcRegions_AtLeastTheSafeMinimumOnFourKiBPages()
    {
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "durable-server.runtimeconfig.json")));
        long regionBytes = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").GetProperty("System.GC.RegionSize").GetInt64();

        // The background GC marks one bit per 16 bytes: a region's share of its mark array must fill whole 4 KiB pages, or
        // neighbouring regions share (commit and decommit) them (dotnet/runtime#133743). Regions are a power of two.
        Assert.True(regionBytes >= 4096 * 16 * 8, $"GC regions of {regionBytes} bytes are below 512 KiB");
        Assert.Equal(0, regionBytes & (regionBytes - 1));
    }
}
