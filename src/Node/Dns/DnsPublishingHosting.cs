using System.Net;
using KmsCluster.Node.Hosting;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Dns;

/// <summary>Wires DNS publishing into the node: the status (always, "off" without --dns-publish), the publisher
/// service (only with --dns-publish) and the admin endpoint <c>GET /api/v1/host/dns</c>.</summary>
public static class DnsPublishingHosting
{
    /// <summary>Longest wait for the DNS server's answer to one update.</summary>
    public static readonly TimeSpan UpdateTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Publishes the SRV record of the first activation endpoint as bound (Kestrel fills in the port of
    /// --listen ...:0), read once the node has started.</summary>
    public static IServiceCollection AddDnsPublishing(this IServiceCollection services, DnsPublishing settings)
    {
        services.AddSingleton(new DnsPublishingStatus(settings));
        if (settings.Enabled)
        {
            services.AddSingleton<IDnsUpdater>(new Rfc2136Updater(UpdateTimeout));
            services.AddHostedService(sp =>
            {
                var activation = sp.GetRequiredService<ActivationEndpoints>();
                return new DnsPublisher(
                    sp.GetRequiredService<DnsPublishingStatus>(),
                    sp.GetRequiredService<IDnsUpdater>(),
                    () => (activation.EndPoints.FirstOrDefault() as IPEndPoint)?.Port,
                    sp.GetRequiredService<IHostApplicationLifetime>(),
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILogger<DnsPublisher>>());
            });
        }
        return services;
    }

    public static void MapDnsApi(this WebApplication app) =>
        app.MapGet("/api/v1/host/dns", (DnsPublishingStatus status) => Results.Json(status.Snapshot(), AdminJson.Http.DnsStatusJson));
}
