using System.Net;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Dns;

/// <summary>Wires DNS publishing into the node: the status (always, "off" without --dns-publish), the publisher
/// service (only with --dns-publish) and the admin endpoint <c>GET /api/v1/host/dns</c>.</summary>
public static class DnsPublishingHosting
{
    /// <summary>Longest wait for the DNS server's answer to one update.</summary>
    public static readonly TimeSpan UpdateTimeout = TimeSpan.FromSeconds(5);

    /// <param name="activationEndpoint">The first activation endpoint as bound; read once the node has started.</param>
    public static IServiceCollection AddDnsPublishing(this IServiceCollection services, DnsPublishing settings,
        Func<EndPoint?> activationEndpoint)
    {
        services.AddSingleton(new DnsPublishingStatus(settings));
        if (settings.Enabled)
        {
            services.AddSingleton<IDnsUpdater>(new Rfc2136Updater(UpdateTimeout));
            services.AddHostedService(sp => new DnsPublisher(
                sp.GetRequiredService<DnsPublishingStatus>(),
                sp.GetRequiredService<IDnsUpdater>(),
                () => (activationEndpoint() as IPEndPoint)?.Port,
                sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<DnsPublisher>>()));
        }
        return services;
    }

    public static void MapDnsApi(this WebApplication app) =>
        app.MapGet("/api/v1/host/dns", (DnsPublishingStatus status) => Results.Json(status.Snapshot(), AdminJson.Http.DnsStatusJson));
}
