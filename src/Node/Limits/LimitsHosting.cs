using KmsCluster.Node.Configuration;
using Microsoft.AspNetCore.Connections;

namespace KmsCluster.Node.Limits;

/// <summary>The abuse limits (<see cref="AbuseLimits"/>): one instance of each guard for the whole node, made before
/// Kestrel is configured because the connection middleware needs its <see cref="ConnectionLimiter"/> then.</summary>
public static class LimitsHosting
{
    public static ConnectionLimiter AddAbuseLimits(this IServiceCollection services, NodeOptions options)
    {
        var stats = new LimitStats();
        var connections = new ConnectionLimiter(options.Limits, stats);
        services.AddSingleton(stats);
        services.AddSingleton(connections);
        services.AddSingleton<IConnectionListenerFactory, LimitedTransport>(); // binds the activation endpoints only
        services.AddSingleton(new NodePendingAnswers(options.Limits.MaxPending));
        services.AddSingleton(new SourceRateLimiter(options.Limits.SourceRate));
        return connections;
    }
}
