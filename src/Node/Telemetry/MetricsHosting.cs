using KmsCluster.Actors;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace KmsCluster.Node.Telemetry;

/// <summary>
/// The node's metrics through OpenTelemetry: the KmsCluster meter (<see cref="KmsMetrics"/>, <see cref="RequestMetrics"/>,
/// <see cref="LimitMetrics"/>, <see cref="ClusterMetrics"/>), ASP.NET Core and Kestrel (admin requests, activation connections) and the .NET
/// runtime; served as Prometheus text at /metrics on the admin port (behind the admin token, like the rest of its
/// data) and, with --otlp-endpoint, pushed to an OpenTelemetry collector.
/// </summary>
public static class MetricsHosting
{
    public const string ScrapePath = "/metrics";

    /// <summary>Call after the actor system is added: the cluster gauges read it, and the meter provider is built
    /// (its instruments created) when its hosted service starts, in registration order.</summary>
    public static IServiceCollection AddNodeMetrics(this IServiceCollection services, NodeOptions options, HostIdentity host)
    {
        services.AddSingleton<RequestMetrics>();
        services.AddSingleton<RegistryMetrics>();
        services.AddSingleton<LimitMetrics>();
        services.AddSingleton<ClusterMetrics>();
        services.AddHostedService(provider => provider.GetRequiredService<ClusterMetrics>());
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("kms-node", serviceInstanceId: host.Id.ToString())
                .AddAttributes([new("host.name", host.Name)]))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(KmsMetrics.MeterName)
                    .AddInstrumentation(provider => provider.GetRequiredService<RequestMetrics>())
                    .AddInstrumentation(provider => provider.GetRequiredService<RegistryMetrics>())
                    .AddInstrumentation(provider => provider.GetRequiredService<LimitMetrics>())
                    .AddInstrumentation(provider => provider.GetRequiredService<ClusterMetrics>())
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    // A scrape reads the counters as they are: /metrics and /api/v1/stats read at once agree.
                    .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0);
                if (options.Otlp is { } otlp)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        exporter.Endpoint = otlp.Endpoint;
                        exporter.Protocol = otlp.Protocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)otlp.Interval.TotalMilliseconds;
                    });
                }
            });
        return services;
    }

    /// <summary>Maps the Prometheus scrape endpoint; the admin token middleware in front of it applies.</summary>
    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(ScrapePath);
        return app;
    }
}
