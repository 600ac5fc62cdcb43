using Durable.Commands.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Durable.Server;

/// <summary>Registers the server in a generic host.</summary>
internal static class ServiceCollectionExtensions
{
    public static IServiceCollection AddDurableServer(this IServiceCollection services, ServerConfig config)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(config);
        services.AddSingleton<DurableServerService>();
        services.AddHostedService(provider => provider.GetRequiredService<DurableServerService>());
        services.AddHostedService<GarbageLimiter>();
        services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        return services;
    }
}
