using KmsCluster.Actors;
using KmsCluster.Node.Configuration;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace KmsCluster.Node.Telemetry;

/// <summary>
/// Traces of activations (--otlp-traces on): a tracer for the KmsCluster activity source (<see cref="KmsTracing"/>)
/// exporting over OTLP to the metrics' collector, with the resource <see cref="MetricsHosting"/> configures. Off, no
/// tracer subscribes to the source, so the activation path starts no span at all.
/// </summary>
public static class TracingHosting
{
    public static IServiceCollection AddNodeTracing(this IServiceCollection services, NodeOptions options)
    {
        if (options.Otlp is not { Traces: { } traces } otlp)
        {
            return services;
        }
        services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddSource(KmsTracing.SourceName)
            // The node that reads a request decides; a window's node follows the decision carried with the contact.
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(traces.SampleRatio)))
            .AddOtlpExporter(exporter =>
            {
                exporter.Endpoint = traces.Endpoint;
                exporter.Protocol = otlp.Protocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
            }));
        return services;
    }
}
